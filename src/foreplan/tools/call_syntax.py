"""How a step's input is read as a tool's arguments, with its ``#E`` references kept as text.

    to='bob@example.com', body=#E1.body      keywords, as a Python call reads them
    "notes/a.txt", #E1                       values in the tool's parameter order
    {"to": "bob@example.com", "body": #E1}   a JSON object (references bare or quoted)
    expression=(3.1 + 3.1) * 2               a one-input tool's input under a keyword: the value

The worker makes a step's argument template from these before any evidence exists
(execute/arguments.py), and the validator reads them to see, before anything runs, which
arguments a plan fills from evidence (plan/validate.py).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from typing import Any

from foreplan.errors import ToolError
from foreplan.tools.calculator import evaluate
from foreplan.types import find_references


def references_in(value: Any) -> list[str]:
    """Every ``#E`` reference written in a template value (strings inside lists and dicts too)."""
    if isinstance(value, str):
        return [r.text for r in find_references(value)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in references_in(v)]
    if isinstance(value, list):
        return [t for v in value for t in references_in(v)]
    return []


_PLACEHOLDER = "__foreplan_ref_{}__"
_PLACEHOLDER_RE = re.compile(r"__foreplan_ref_(\d+)__")


def _in_strings(text: str, quotes: str) -> list[bool]:
    """For each character of ``text``, whether it lies inside a string literal delimited by
    one of ``quotes`` (a backslash escapes the next character; the other kind of quote is
    text inside a string: ``"John's"``)."""
    inside, open_quote, escaped = [], "", False
    for char in text:
        if open_quote:
            inside.append(True)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == open_quote:
                open_quote = ""
        else:
            inside.append(False)
            if char in quotes:
                open_quote = char
    return inside


def _hide_references(text: str, quotes: str, make: Callable[[int], str]) -> tuple[str, list[str]]:
    """``text`` with each reference outside string literals (delimited by ``quotes``)
    replaced by ``make(i)``, and the references in order (those inside strings stay as
    they are)."""
    inside = _in_strings(text, quotes)
    pieces, last, originals = [], 0, []
    for ref in find_references(text):
        if inside[ref.start]:
            continue  # inside a string literal: it stays part of the string
        pieces.append(text[last:ref.start])
        pieces.append(make(len(originals)))
        originals.append(ref.text)
        last = ref.start + len(ref.text)
    pieces.append(text[last:])
    return "".join(pieces), originals


def json_arguments(text: str) -> dict[str, Any] | None:
    """``{"to": "bob@example.com", "body": #E1.body}`` as a dict, references kept as text
    (bare or quoted); None when ``text`` is not one JSON object."""
    text = text.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    hidden, originals = _hide_references(text, '"', lambda i: f'"{_PLACEHOLDER.format(i)}"')
    try:
        value = json.loads(hidden)
    except ValueError:
        return None
    return _restore(value, originals) if isinstance(value, dict) else None


def _restore(value: Any, originals: list[str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER_RE.sub(lambda m: originals[int(m.group(1))], value)
    if isinstance(value, dict):
        return {k: _restore(v, originals) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v, originals) for v in value]
    return value


def call_arguments(text: str, parameters: list[str], bare_words: bool = False) -> dict[str, Any] | None:
    """A step input written as a call's arguments, as a dict, references kept as text:
    keywords (``to='bob@example.com', n=3, body=#E1.body``), or literals in the order of
    ``parameters`` (``"notes/a.txt", #E1``), or both, as Python reads a call. None when
    ``text`` is not that: free words, an expression, more values than parameters, or a
    parameter given twice. With ``bare_words``, an unquoted word is the string it spells
    (``#E2, USD, EUR``), as small planners write codes and units; the caller then checks
    that each one fits its argument's type."""
    parsed = _parse_call(text)
    if parsed is None:
        return None
    call, originals = parsed
    if len(call.args) > len(parameters) or any(k.arg is None for k in call.keywords):
        return None
    pairs = [*zip(parameters, call.args, strict=False), *((k.arg, k.value) for k in call.keywords)]
    if not pairs or len({name for name, _ in pairs}) != len(pairs):
        return None
    arguments: dict[str, Any] = {}
    for name, node in pairs:
        try:
            arguments[name] = _literal(node, originals, bare_words)
        except ValueError:
            return None
    return arguments


def positional_values(text: str) -> int | None:
    """How many values ``text`` writes as a call's positional arguments, when every one of
    them is a literal or a reference (``'notes', 'INSERT ...', [#E1.body]`` is 3); None for
    anything else (free words, keywords only, not call syntax)."""
    parsed = _parse_call(text)
    if parsed is None or not parsed[0].args:
        return None
    call = parsed[0]
    written = all(not isinstance(a, ast.Name) or _PLACEHOLDER_RE.fullmatch(a.id) for a in call.args)
    return len(call.args) if written else None


def keyword_names(text: str) -> list[str]:
    """The names ``text`` gives as a call's keyword arguments (``sql="...", rows=[#E1]``
    names sql and rows); empty when it names none or is not call syntax."""
    parsed = _parse_call(text)
    return [k.arg for k in parsed[0].keywords if k.arg is not None] if parsed else []


def _parse_call(text: str) -> tuple[ast.Call, list[str]] | None:
    """``text`` read as the arguments of a Python call, with each reference outside quotes
    replaced by a placeholder name (a reference is not Python), and the references in
    order; None when it is not call syntax."""
    hidden, originals = _hide_references(text, "'\"", _PLACEHOLDER.format)
    try:
        call = ast.parse(f"f({hidden})", mode="eval").body
    except SyntaxError:
        return None
    return (call, originals) if isinstance(call, ast.Call) else None


def _literal(node: ast.AST, originals: list[str], bare_words: bool = False) -> Any:
    if isinstance(node, ast.Name):
        match = _PLACEHOLDER_RE.fullmatch(node.id)
        if match:
            return originals[int(match.group(1))]
        if node.id in ("true", "false", "null"):  # JSON spellings, as small models write them
            return {"true": True, "false": False, "null": None}[node.id]
        if bare_words:
            return node.id
        raise ValueError(node.id)
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(e, originals, bare_words) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {_literal(k, originals, bare_words): _literal(v, originals, bare_words)
                for k, v in zip(node.keys, node.values, strict=True)}
    if isinstance(node, ast.BinOp | ast.UnaryOp) and _arithmetic(node):
        text = ast.unparse(node)
        if _PLACEHOLDER_RE.search(text):
            return _restore(text, originals)  # "2 * #E1": computed once evidence fills it
        try:
            return evaluate(text)  # "2 * 60": a number, as the planner meant
        except ToolError as exc:  # 1 / 0: not a call's arguments after all
            raise ValueError(str(exc)) from exc
    value = ast.literal_eval(node)
    return _restore(value, originals) if isinstance(value, str) else value


def _arithmetic(node: ast.AST) -> bool:
    """Numbers, references and + - * / // % ** only (``2 * #E1``, ``#E1 - 3.5``)."""
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div | ast.FloorDiv | ast.Mod | ast.Pow) and (
            _arithmetic(node.left) and _arithmetic(node.right))
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.USub | ast.UAdd) and _arithmetic(node.operand)
    if isinstance(node, ast.Name):
        return _PLACEHOLDER_RE.fullmatch(node.id) is not None
    return isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool)


def written_arguments(text: str, parameters: list[str]) -> dict[str, Any] | None:
    """The arguments a step input spells out (a JSON object, or call arguments); None when
    only a model could tell (free words)."""
    return json_arguments(text) or call_arguments(text, parameters)


def one_input_text(text: str, name: str) -> str:
    """What a one-input tool gets from a step input: the text as written, less the
    argument's own keyword and the quotes the planner put around it."""
    return _unquoted(_unnamed(text, name))


def _unnamed(text: str, name: str) -> str:
    """A one-argument input the planner wrote as a keyword argument is the value after the
    ``=``: under the argument's own name (``calculator[expression=(3.1 + 3.1) * 2]``), or
    under another name when the value is quoted (``get_current_time[timezone='Europe/London']``
    for ``tz``). Anything else is kept as written (``E=mc2``, ``a == b``)."""
    match = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*=(?!=)\s*(.*?)\s*", text, re.DOTALL)
    if not match or not match.group(2):
        return text
    value = match.group(2)
    return value if match.group(1) == name or _unquoted(value) != value else text


def _unquoted(text: str) -> str:
    """A one-argument input the planner wrote quoted (``item_price["desk"]``,
    ``calculator["250 * #E1"]``, a habit from code) is the text inside the quotes;
    anything else is kept as written."""
    stripped = text.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "\"'":
        inner = stripped[1:-1]
        if stripped[0] not in inner:
            return inner
    return text
