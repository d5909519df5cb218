"""Put earlier evidence into a step's input: ``#E2`` as text, ``#E2.rows[0].Title`` as a field.

A reference to a whole result becomes its text (strings as they are, structured results
as compact JSON), unless the tool says how to write values into its input (``query_sql``
writes SQL literals). A field path walks dicts by key and lists by index; a path that does
not exist is an error that names the fields that do, so the solver (and the user) can
see which step asked for what.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from foreplan.errors import ToolError
from foreplan.types import Evidence, Reference, find_references, value_text


def resolve(ref: Reference, evidence: dict[str, Evidence]) -> Any:
    """The value a reference points at.

    Raises:
        ToolError: the path does not exist in the referenced result.
    """
    # A missing or failed step used to surface as a KeyError, or as a walk through
    # ``None`` ("NoneType has no field"); say what is actually wrong.
    if ref.step_id not in evidence:
        raise ToolError(f"{ref.text}: #{ref.step_id} has no result (no such step has run)")
    if not evidence[ref.step_id].ok:
        raise ToolError(f"{ref.text}: #{ref.step_id} did not succeed: {evidence[ref.step_id].text()}")
    value = evidence[ref.step_id].value
    walked = f"#{ref.step_id}"
    for part in ref.path:
        if isinstance(part, int):
            if not isinstance(value, list):
                raise ToolError(f"{ref.text}: {walked} is {_kind(value)}, not a list; it cannot be indexed with [{part}]")
            if part >= len(value):
                raise ToolError(f"{ref.text}: {walked} has {len(value)} items, there is no [{part}]")
            value = value[part]
            walked += f"[{part}]"
        else:
            if not isinstance(value, dict):
                raise ToolError(f"{ref.text}: {walked} is {_kind(value)}, it has no field {part!r}")
            if part not in value:
                fields = ", ".join(map(str, value)) or "none"
                raise ToolError(f"{ref.text}: {walked} has no field {part!r} (fields: {fields})")
            value = value[part]
            walked += f".{part}"
    return value


def substitute(text: str, evidence: dict[str, Evidence], render: Callable[[Any, bool], str] | None = None) -> str:
    """``text`` with every reference replaced by its value's text, or by
    ``render(value, inside_quotes)`` (the tool's :attr:`~foreplan.tools.tool.Tool.render_reference`),
    where ``inside_quotes`` says an odd number of single quotes precede the reference.

    Raises:
        ToolError: a field path does not exist.
    """
    out, last = [], 0
    for ref in find_references(text):
        value = resolve(ref, evidence)
        out.append(text[last: ref.start])
        out.append(render(value, text.count("'", 0, ref.start) % 2 == 1) if render else value_text(value))
        last = ref.start + len(ref.text)
    out.append(text[last:])
    return "".join(out)


def sole_reference_value(text: str, evidence: dict[str, Evidence]) -> tuple[bool, Any]:
    """When the whole input is one reference (``#E2.rows``), its value with its type kept,
    so a tool that takes a list or number gets one rather than its JSON text."""
    refs = find_references(text.strip())
    if len(refs) == 1 and refs[0].text == text.strip():
        return True, resolve(refs[0], evidence)
    return False, None


def _kind(value: Any) -> str:
    """What a JSON value is, in the words of the model that reads the error."""
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else type(value).__name__
