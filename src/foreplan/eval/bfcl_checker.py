"""Score one reply with BFCL's own AST checker, imported offline, and say why it failed.

    reply ──decode_calls──► [{name: {arg: value}}]  (+ <tool_call> blocks that were not JSON calls)
          ──score──► irrelevance: right iff no call
                     otherwise:   bfcl_eval ast_checker(functions, calls, ground truth)
                                  ──► Score(correct, reason, detail)

The shim: ``ast_checker.py`` imports ``bfcl_eval.constants.model_config`` only to read
``MODEL_CONFIG_MAPPING[model].underscore_to_dot`` (in ``convert_func_name``), but that
module imports every model handler and their vendors' clients. A stub module is put in
``sys.modules`` first; its mapping answers ``underscore_to_dot=False`` for any model,
which is right here: the tools keep their dotted names (``math.factorial``), so the
model answers with dots. A real ``model_config`` already imported is left alone.

Decoding follows BFCL's Qwen function-calling handler (``qwen_fc.py``
``_extract_tool_calls``): blocks that are not JSON are dropped, and an irrelevance
reply counts as "no call" when nothing decodes. Unlike it, a missing closing tag is
accepted (a reply cut at ``max_tokens`` keeps its last call) and dropped blocks are
kept, so a failure can be blamed on bad JSON. And unless ``strict``, a reply with no
``<tool_call>`` block at all is read for the same ``{"name", "arguments"}`` objects
written bare or in a Markdown fence (``form="json"``): Qwen2.5-Coder-0.5B answers every
question that way although its template asks for tags, and reading only tags would
score it 0 on every call and a meaningless 100% on irrelevance.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import types
from collections.abc import Callable
from typing import Any

from foreplan.eval.bfcl_data import BfclNotInstalledError, BfclQuestion, is_irrelevance

_MODEL_CONFIG = "bfcl_eval.constants.model_config"
#: The model name the checker is given (only looked up in the stub mapping).
CHECKER_MODEL = "foreplan"
# Qwen2.5's chat template asks for this form (as in foreplan/serve/tool_calls.py).
_TOOL_CALL_RE = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.DOTALL)
_FENCE_RE = re.compile(r"```[a-zA-Z]*\s*(.*?)\s*(?:```|$)", re.DOTALL)

#: Failure reasons, in the order reports list them.
REASONS = ("wrong function", "missing argument", "unexpected argument", "wrong type", "wrong value",
           "wrong number of calls", "no call", "bad JSON", "called when it should not", "backend error", "other")


class _AnyModel(dict):
    """``MODEL_CONFIG_MAPPING`` stand-in: every model keeps dots in function names."""

    def __missing__(self, key: str) -> types.SimpleNamespace:
        return types.SimpleNamespace(underscore_to_dot=False)


def install_model_config_stub() -> None:
    """Put the stub ``model_config`` module in ``sys.modules`` unless one is loaded."""
    if _MODEL_CONFIG not in sys.modules:
        stub = types.ModuleType(_MODEL_CONFIG, "foreplan stub: see foreplan/eval/bfcl_checker.py")
        stub.MODEL_CONFIG_MAPPING = _AnyModel()  # type: ignore[attr-defined]
        sys.modules[_MODEL_CONFIG] = stub


def load_ast_checker() -> Callable[..., dict[str, Any]]:
    """BFCL's ``ast_checker`` function, called with Python as the language.

    Raises:
        BfclNotInstalledError: the ``bfcl-eval`` package is missing.
    """
    install_model_config_stub()
    try:
        from bfcl_eval.constants.enums import Language
        from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker
    except ImportError as exc:
        raise BfclNotInstalledError() from exc

    def check(functions: list[dict[str, Any]], calls: list[dict[str, Any]], truth: list[dict[str, Any]],
              category: str) -> dict[str, Any]:
        return ast_checker(functions, calls, truth, Language.PYTHON, category, CHECKER_MODEL)

    return check


@dataclasses.dataclass
class Decoded:
    calls: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    """BFCL's model-output form: ``[{name: {arg: value}}]``."""
    bad: list[str] = dataclasses.field(default_factory=list)
    """``<tool_call>`` blocks that were not a JSON call (first 200 characters each)."""
    form: str = ""
    """``tool_call`` (tagged blocks), ``json`` (bare or fenced objects) or ``""`` (no call)."""


def _as_call(obj: Any) -> dict[str, Any] | None:
    """``{name: arguments}`` for a ``{"name", "arguments"}`` object, else None."""
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        return None
    arguments = obj.get("arguments", obj.get("parameters", {}))
    if isinstance(arguments, str):  # some models encode the arguments twice, as OpenAI does
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return None
    return {obj["name"]: arguments} if isinstance(arguments, dict) else None


def _json_values(text: str) -> list[Any]:
    """The JSON values written one after another in ``text`` (up to the first that is not)."""
    decoder, values, at = json.JSONDecoder(), [], 0
    while True:
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        if at >= len(text):
            return values
        try:
            value, at = decoder.raw_decode(text, at)
        except ValueError:
            return values
        values.append(value)


def decode_calls(text: str, strict: bool = False) -> Decoded:
    """The calls in a reply's ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` blocks;
    unless ``strict``, in bare or fenced JSON when there is no such block."""
    decoded = Decoded()
    for match in _TOOL_CALL_RE.finditer(text):
        try:
            call = _as_call(json.loads(match.group(1)))
        except ValueError:
            call = None
        if call is None:
            decoded.bad.append(match.group(1)[:200])
        else:
            decoded.calls.append(call)
    if decoded.calls or decoded.bad or strict:
        decoded.form = "tool_call" if decoded.calls else ""
        return decoded
    blocks = _FENCE_RE.findall(text) or [text.strip()]
    for value in (v for block in blocks for v in _json_values(block)):
        for item in value if isinstance(value, list) else [value]:
            if (call := _as_call(item)) is not None:
                decoded.calls.append(call)
    decoded.form = "json" if decoded.calls else ""
    return decoded


@dataclasses.dataclass(frozen=True)
class Score:
    correct: bool
    reason: str | None = None
    """One of :data:`REASONS` when not correct."""
    detail: str = ""
    """The checker's first error message (or what went wrong)."""
    error_type: str = ""
    """BFCL's own error type, e.g. ``value_error:string``."""
    form: str = ""
    """How the calls were written (:attr:`Decoded.form`)."""


def reason_for(result: dict[str, Any], n_calls: int) -> str:
    """Our reason for a failed checker result (BFCL ``error_type`` → one of :data:`REASONS`)."""
    error_type = result.get("error_type", "")
    if error_type.endswith("cannot_find_match"):
        # Parallel: the expected call that found no match, tried against each remaining
        # output; blame the first output that at least had the right name.
        subs = [v.get("sub_error_type", "") for e in result.get("error", []) if isinstance(e, dict)
                for v in e.values() if isinstance(v, dict)]
        error_type = next((s for s in subs if not s.endswith("wrong_func_name")), subs[0] if subs else "")
    if error_type.endswith("wrong_count"):
        return "no call" if n_calls == 0 else "wrong number of calls"
    for suffix, reason in (("wrong_func_name", "wrong function"), ("missing_required", "missing argument"),
                           ("missing_optional", "missing argument"), ("unexpected_param", "unexpected argument")):
        if error_type.endswith(suffix):
            return reason
    if error_type.startswith("type_error"):
        return "wrong type"
    if error_type.startswith(("value_error", "dict_checker", "list_dict_checker")):
        return "wrong value"
    return "other"


def score(question: BfclQuestion, text: str, check: Callable[..., dict[str, Any]], strict: bool = False) -> Score:
    """Score one reply to ``question`` (``check`` from :func:`load_ast_checker`; ``strict``:
    read ``<tool_call>`` blocks only, as BFCL does)."""
    decoded = decode_calls(text, strict)
    return dataclasses.replace(_judge(question, decoded, check), form=decoded.form)


def _judge(question: BfclQuestion, decoded: Decoded, check: Callable[..., dict[str, Any]]) -> Score:
    if is_irrelevance(question.category):
        if not decoded.calls:
            return Score(True)
        return Score(False, "called when it should not", json.dumps(decoded.calls, ensure_ascii=False)[:300],
                     "irrelevance_error:decoder_success")
    if not decoded.calls and decoded.bad:
        return Score(False, "bad JSON", decoded.bad[0], "ast_decoder:decoder_failed")
    try:
        result = check(question.functions, decoded.calls, question.ground_truth, question.category)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        # The checker assumes well-formed values (e.g. a list where the doc says array);
        # a model that breaks that is wrong, not a reason to stop the run.
        return Score(False, "other", f"the BFCL checker failed on this reply: {type(exc).__name__}: {exc}",
                     "checker_exception")
    if result.get("valid"):
        return Score(True)
    reason = reason_for(result, len(decoded.calls))
    if decoded.bad and reason in ("wrong number of calls", "no call"):
        reason = "bad JSON"  # a call was lost to its JSON
    errors = [e for e in result.get("error", []) if isinstance(e, str)]
    return Score(False, reason, (errors[0] if errors else str(result.get("error")))[:300], result.get("error_type", ""))
