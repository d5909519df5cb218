"""A step's arguments are fixed before any evidence exists; evidence then fills them as data.

    plan:      #E2 = send_email[to='bob@example.com', subject='FYI', body=#E1.body]
    template:  {"to": "bob@example.com", "subject": "FYI", "body": "#E1.body"}
    filled:    {"to": "bob@example.com", "subject": "FYI", "body": <E1's body, as a string>}
    sources:   {"body": ["E1"]}

The template comes from the step's input as the planner wrote it (tools/call_syntax.py
reads call arguments and JSON objects), one text input, or, for anything else, the caller model
reading the plan's words with the ``#E`` references left in as placeholders. No model
reads evidence while arguments are chosen, so text inside a web page or an e-mail can
fill a value but never pick a recipient, a path or a tool (plan-then-execute as a
defence against prompt injection: "Design Patterns for Securing LLM Agents against
Prompt Injections", 2025; CaMeL, 2025).

Each argument records which steps' evidence it carries (``sources``), so the worker can
refuse a side-effect call whose sensitive argument came from evidence.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from foreplan.errors import ToolError
from foreplan.execute.substitute import resolve, substitute
from foreplan.tools.calculator import evaluate
from foreplan.tools.call_syntax import references_in
from foreplan.types import Evidence, as_decimal, find_references, numbers_in, value_text

Render = Callable[[Any, bool], str]


@dataclass(frozen=True)
class Filled:
    """Arguments with evidence in place, and where each argument's data came from."""

    arguments: dict[str, Any]
    sources: dict[str, list[str]] = field(default_factory=dict)
    """Argument name -> ids of the steps whose evidence it carries (only those that carry any)."""


def fill(template: dict[str, Any], evidence: dict[str, Evidence], wants_text: Callable[[str], bool],
         render: Render | None = None) -> Filled:
    """Put evidence into the template's values.

    A value that is exactly one reference becomes the referenced value with its type
    kept (a list stays a list), unless the argument takes text (``wants_text(name)``),
    when it becomes the value's text. A reference inside a longer string becomes text
    there (``render`` writes it, e.g. as an SQL literal, in an argument that takes text;
    inside a list or an object evidence is data); for an argument that takes no text, a
    string that is then arithmetic (``2 * #E1`` → ``2 * 52.8``) is computed.

    Raises:
        ToolError: a reference points at a failed step or at a field that does not exist.
    """
    arguments: dict[str, Any] = {}
    sources: dict[str, list[str]] = {}
    for name, value in template.items():
        text = wants_text(name)  # ``render`` writes evidence into a text (SQL); other arguments take it as data
        arguments[name] = _fill_value(value, evidence, text, render if text else None)
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
    if isinstance(value, dict):  # inside a container evidence is data, never rendered into a text
        return {k: _fill_value(v, evidence, False, None) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_value(v, evidence, False, None) for v in value]
    refs = find_references(value.strip()) if isinstance(value, str) else []
    if not refs:
        return value
    if len(refs) == 1 and refs[0].text == value.strip() and render is None:
        typed = resolve(refs[0], evidence)
        return value_text(typed) if as_text else typed
    text = substitute(value, evidence, render)
    if not as_text:
        try:
            return evaluate(text)
        except ToolError:
            pass  # not arithmetic: the tool's schema says what is wrong with it
    return text


def restore_marks(template: dict[str, Any], step_input: str) -> dict[str, Any]:
    """The caller model's template with a reference it copied without its ``#`` (``"E1"``
    for the step's ``#E1``) written back as the reference, which small models do."""
    bare = {r.text[1:]: r.text for r in find_references(step_input)}
    return {name: bare.get(value, value) if isinstance(value, str) else value for name, value in template.items()}


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


_WORDS = {w: Decimal(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_WORDS |= {w: Decimal(i + 1) for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth".split())}
_WORDS |= {"once": Decimal(1), "twice": Decimal(2), "dozen": Decimal(12), "half": Decimal("0.5"),
           "single": Decimal(1), "double": Decimal(2), "triple": Decimal(3), "hundred": Decimal(100)}


def said_numbers(text: str) -> set[Decimal]:
    """The numbers ``text`` states, in digits or in words (``two``, ``third``, ``a dozen``),
    and each as a percentage's fraction (``5%`` may be passed as 0.05)."""
    said = set(numbers_in(text)) | {_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _WORDS}
    return said | {n / 100 for n in said}


def check_numbers(template: dict[str, Any], defaults: dict[str, Any], said: str, tool_name: str) -> None:
    """Every number the caller model wrote must be one the step states (its plan text or
    input) or the argument's default: a small caller asked to fill ``convert_currency[#E2,
    USD, USD]`` answered ``amount: 1000, target: "EUR"``, and a tool run on an invented
    number returns a confident wrong result. Better a failed step that says why.

    Raises:
        ToolError: an argument holds a number the step does not state.
    """
    stated = said_numbers(said)
    invented = [f"{name}={value!r}" for name, value in template.items()
                if value != defaults.get(name, _NO_DEFAULT) and _numbers(value) - stated]
    if invented:
        raise ToolError(f"the function caller wrote {', '.join(invented)} for {tool_name}, a number the step does "
                        "not state; write the step's arguments out (name=value) in the plan")


_NO_DEFAULT = object()
_NUMERAL = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?")


def _numbers(value: Any) -> set[Decimal]:
    """The numbers in a template value: numbers, numerals written as strings, and those
    inside lists and objects (text with words in it is not a number)."""
    if isinstance(value, bool):
        return set()
    if isinstance(value, int | float):
        found = as_decimal(repr(value))
        return {abs(found)} if found is not None and found.is_finite() else set()
    if isinstance(value, str):
        found = as_decimal(value.strip()) if _NUMERAL.fullmatch(value.strip()) else None
        return {abs(found)} if found is not None else set()
    if isinstance(value, dict):
        return {n for v in value.values() for n in _numbers(v)}
    if isinstance(value, list):
        return {n for v in value for n in _numbers(v)}
    return set()
