"""A step's arguments are fixed before any evidence exists; evidence then fills them as data.

    plan:      #E2 = send_email[to='bob@example.com', subject='FYI', body=#E1.body]
    template:  {"to": "bob@example.com", "subject": "FYI", "body": "#E1.body"}
    filled:    {"to": "bob@example.com", "subject": "FYI", "body": <E1's body, as a string>}
    sources:   {"body": ["E1"]}

The template comes from the step's input as the planner wrote it: keyword arguments
(``a=1, b='x'``), a JSON object, one text input, or, for anything else, the caller model
reading the plan's words with the ``#E`` references left in as placeholders. No model
reads evidence while arguments are chosen, so text inside a web page or an e-mail can
fill a value but never pick a recipient, a path or a tool (plan-then-execute as a
defence against prompt injection: "Design Patterns for Securing LLM Agents against
Prompt Injections", 2025; CaMeL, 2025).

Each argument records which steps' evidence it carries (``sources``), so the worker can
refuse a side-effect call whose sensitive argument came from evidence.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from foreplan.errors import ToolError
from foreplan.execute.substitute import resolve, substitute
from foreplan.types import Evidence, find_references, value_text

Render = Callable[[Any, bool], str]


@dataclass(frozen=True)
class Filled:
    """Arguments with evidence in place, and where each argument's data came from."""

    arguments: dict[str, Any]
    sources: dict[str, list[str]] = field(default_factory=dict)
    """Argument name -> ids of the steps whose evidence it carries (only those that carry any)."""


def references_in(value: Any) -> list[str]:
    """Every ``#E`` reference written in a template value (strings inside lists and dicts too)."""
    if isinstance(value, str):
        return [r.text for r in find_references(value)]
    if isinstance(value, dict):
        return [t for v in value.values() for t in references_in(v)]
    if isinstance(value, list):
        return [t for v in value for t in references_in(v)]
    return []


def fill(template: dict[str, Any], evidence: dict[str, Evidence], wants_text: Callable[[str], bool],
         render: Render | None = None) -> Filled:
    """Put evidence into the template's values.

    A value that is exactly one reference becomes the referenced value with its type
    kept (a list stays a list), unless the argument takes text (``wants_text(name)``),
    when it becomes the value's text. A reference inside a longer string becomes text
    there (``render`` writes it, e.g. as an SQL literal).

    Raises:
        ToolError: a reference points at a failed step or at a field that does not exist.
    """
    arguments: dict[str, Any] = {}
    sources: dict[str, list[str]] = {}
    for name, value in template.items():
        arguments[name] = _fill_value(value, evidence, wants_text(name), render)
        carried = list(dict.fromkeys(r.step_id for t in references_in(value) for r in find_references(t)))
        if carried:
            sources[name] = carried
    return Filled(arguments, sources)


def spread(reference: str, evidence: dict[str, Evidence]) -> Filled:
    """The arguments of a step whose whole input is one reference to an object: its fields.

    Raises:
        ToolError: the referenced value is not an object.
    """
    ref = find_references(reference)[0]
    value = resolve(ref, evidence)
    if not isinstance(value, dict):
        raise ToolError(f"{reference} is {type(value).__name__}, not an object whose fields are the arguments; "
                        "name each argument in the step (name=value)")
    return Filled(dict(value), {name: [ref.step_id] for name in value})


def _fill_value(value: Any, evidence: dict[str, Evidence], as_text: bool, render: Render | None) -> Any:
    if isinstance(value, dict):
        return {k: _fill_value(v, evidence, False, render) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_value(v, evidence, False, render) for v in value]
    if not isinstance(value, str) or not find_references(value):
        return value
    refs = find_references(value.strip())
    if len(refs) == 1 and refs[0].text == value.strip() and render is None:
        typed = resolve(refs[0], evidence)
        return value_text(typed) if as_text else typed
    return substitute(value, evidence, render)


_PLACEHOLDER = "__foreplan_ref_{}__"
_PLACEHOLDER_RE = re.compile(r"__foreplan_ref_(\d+)__")


def _hide_references(text: str, quote: str, make: Callable[[int], str]) -> tuple[str, list[str]]:
    """``text`` with each reference outside ``quote``-quoted strings replaced by
    ``make(i)``, and the references in order (those inside strings stay as they are)."""
    pieces, last, originals = [], 0, []
    for ref in find_references(text):
        if text.count(quote, 0, ref.start) % 2 == 1:
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


def call_arguments(text: str, parameters: list[str]) -> dict[str, Any] | None:
    """A step input written as a call's arguments, as a dict, references kept as text:
    keywords (``to='bob@example.com', n=3, body=#E1.body``), or literals in the order of
    ``parameters`` (``"notes/a.txt", #E1``), or both, as Python reads a call. None when
    ``text`` is not that: free words, an expression, more values than parameters, or a
    parameter given twice."""
    # A reference outside quotes is not Python: a placeholder name stands in for it.
    hidden, originals = _hide_references(text, "'", _PLACEHOLDER.format)
    if hidden.count('"') % 2:
        return None
    try:
        call = ast.parse(f"f({hidden})", mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(call, ast.Call) or len(call.args) > len(parameters) or any(k.arg is None for k in call.keywords):
        return None
    pairs = [*zip(parameters, call.args, strict=False), *((k.arg, k.value) for k in call.keywords)]
    if not pairs or len({name for name, _ in pairs}) != len(pairs):
        return None
    arguments: dict[str, Any] = {}
    for name, node in pairs:
        try:
            arguments[name] = _literal(node, originals)
        except ValueError:
            return None
    return arguments


def _literal(node: ast.AST, originals: list[str]) -> Any:
    if isinstance(node, ast.Name):
        match = _PLACEHOLDER_RE.fullmatch(node.id)
        if match:
            return originals[int(match.group(1))]
        if node.id in ("true", "false", "null"):  # JSON spellings, as small models write them
            return {"true": True, "false": False, "null": None}[node.id]
        raise ValueError(node.id)
    if isinstance(node, ast.List | ast.Tuple):
        return [_literal(e, originals) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {_literal(k, originals): _literal(v, originals) for k, v in zip(node.keys, node.values, strict=True)}
    value = ast.literal_eval(node)
    return _restore(value, originals) if isinstance(value, str) else value


def check_template(template: dict[str, Any], step_input: str, tool_name: str) -> None:
    """A template may only use the references the plan wrote into the step.

    Raises:
        ToolError: the caller model wrote a reference the step does not have.
    """
    allowed = {r.text for r in find_references(step_input)}
    invented = sorted({t for t in references_in(template) if t not in allowed})
    if invented:
        raise ToolError(f"the arguments for {tool_name} name {', '.join(invented)}, which the step's input "
                        f"does not reference (it references: {', '.join(sorted(allowed)) or 'nothing'})")
