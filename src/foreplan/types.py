"""Shared dataclasses: the plan, its steps, the evidence they produce, token usage.

Every layer speaks these; none of them imports anything else from foreplan, so the
planner, the worker, the solver, the CLI and the server agree on one vocabulary.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

#: ``#E3`` or a typed field of it: ``#E2.rows[0].Title``. The negative look-ahead keeps
#: ``#E10`` from reading as ``#E1`` followed by ``0``.
REFERENCE_RE = re.compile(r"#E(?P<num>\d+)(?!\d)(?P<path>(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*)")


def step_id(digits: str) -> str:
    r"""``E<n>`` from the digits after ``#E``: the one normalisation of step ids, used for
    step definitions and references alike. Leading zeros go (``#E01`` is ``E1``), and any
    Unicode digit reads as its value (``\d`` matches ``١``, so ``#E١`` is ``E1``); not
    ``int()``, which refuses more than 4300 digits."""
    return "E" + ("".join(str(unicodedata.digit(c)) for c in digits).lstrip("0") or "0")


@dataclass(frozen=True)
class Reference:
    """One ``#En`` (optionally with a field path) inside a step's input."""

    step_id: str
    """The referenced step, e.g. ``"E2"``."""
    path: tuple[str | int, ...] = ()
    """Field names and list indexes, e.g. ``("rows", 0, "Title")``."""
    text: str = ""
    """The reference as written, e.g. ``"#E2.rows[0].Title"``."""
    start: int = 0
    """Offset of ``#`` in the step's input."""


def find_references(text: str) -> list[Reference]:
    """All references in ``text``, in order of appearance."""
    refs = []
    for m in REFERENCE_RE.finditer(text):
        path: list[str | int] = []
        for part in re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]", m.group("path")):
            path.append(part[0] if part[0] else int(part[1]))
        refs.append(Reference(step_id(m.group("num")), tuple(path), m.group(0), m.start()))
    return refs


@dataclass(frozen=True)
class Step:
    """One planned step: why (``plan``), which tool, and the tool's raw input."""

    id: str
    """Evidence name without ``#``: ``"E1"``."""
    plan: str
    tool: str
    input: str
    line: int = 0
    """1-based line of the ``#E`` assignment in the planner's text (0 when built in code)."""

    @property
    def references(self) -> list[Reference]:
        return find_references(self.input)

    @property
    def depends_on(self) -> list[str]:
        """Ids of the steps this one needs, first appearance first, no repeats."""
        return list(dict.fromkeys(r.step_id for r in self.references))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "plan": self.plan, "tool": self.tool, "input": self.input,
                "depends_on": self.depends_on}


@dataclass(frozen=True)
class Plan:
    """A parsed ReWOO plan: steps in the order the planner wrote them."""

    steps: tuple[Step, ...]
    text: str = ""
    """The planner's text this plan was parsed from."""

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def render(self) -> str:
        """The canonical ReWOO text of this plan (parses back to the same steps)."""
        lines = []
        for s in self.steps:
            lines.append(f"Plan: {s.plan}")
            lines.append(f"#{s.id} = {s.tool}[{s.input}]")
        return "\n".join(lines) + "\n"


class Status(str, enum.Enum):
    """What happened to a step."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


@dataclass
class Evidence:
    """What one step produced: a value, or a record of why there is none."""

    step_id: str
    status: Status
    value: Any = None
    """JSON-compatible: a string, number, list or dict (a structured tool result)."""
    error: str | None = None
    """For the solver and the user: what went wrong and what to do about it."""
    seconds: float = 0.0
    attempts: int = 0
    input: str | None = None
    """The step's input after ``#E`` substitution."""
    arguments: dict[str, Any] | None = None
    """The arguments the tool was called with."""
    sources: dict[str, list[str]] | None = None
    """Which earlier steps' evidence each argument carries (``{"body": ["E1"]}``); None when
    every argument came from the task and the plan. Evidence is untrusted data."""
    side_effect: bool = False
    """The tool changes something outside the run (sends, writes, posts)."""

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    def text(self) -> str:
        """The evidence as the solver and ``#En`` substitution read it."""
        if self.ok:
            return value_text(self.value)
        return f"[{self.status.value}] {self.error}"

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status.value, "value": self.value, "error": self.error,
                "seconds": round(self.seconds, 4), "attempts": self.attempts,
                "input": self.input, "arguments": self.arguments, "sources": self.sources,
                "side_effect": self.side_effect}


def value_text(value: Any) -> str:
    """Text form of a tool result: strings as they are, anything else as compact JSON."""
    import json

    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


@dataclass
class Usage:
    """Tokens one role spent, summed over its calls, and the seconds those calls took."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    seconds: float = 0.0
    """Wall time inside the role's LLM calls (summed: concurrent calls count each)."""
    cached_tokens: int = 0
    """Prompt tokens whose KV state was reused (prefix cache) instead of computed; 0 where
    the backend does not say."""

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.calls += other.calls
        self.seconds += other.seconds
        self.cached_tokens += other.cached_tokens

    def to_dict(self) -> dict[str, int | float]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "cached_tokens": self.cached_tokens, "calls": self.calls, "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class Completion:
    """One LLM reply with the tokens it cost."""

    text: str
    usage: Usage = field(default_factory=lambda: Usage(calls=1))
    finish_reason: str = "stop"


@dataclass(frozen=True)
class ToolChoice:
    """Which tools the planner sees for one task, and why each is there."""

    tools: tuple[str, ...]
    """The chosen tools, in the toolkit's order."""
    total: int
    """How many tools the toolkit has."""
    reasons: dict[str, str] = field(default_factory=dict)
    """Why each chosen tool is in: its match with the task, always on, or the producer of
    an id another chosen tool needs."""

    @property
    def cut(self) -> bool:
        return len(self.tools) < self.total

    def to_dict(self) -> dict[str, Any]:
        return {"tools": list(self.tools), "total": self.total, "reasons": self.reasons}


#: A number, not a part of a word (``E1``, ``1990s``) nor an exponent (``27^2``, ``3**2``).
NUMBER_RE = re.compile(r"(?<![\w.^*])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.^*])\d+(?:\.\d+)?(?![\w])")


def numbers_in(text: str) -> list[Decimal]:
    """The numbers written in ``text`` (``1,000`` is 1000; ``E1`` and ``1990s`` are none):
    what the solver's answer check and the caller's argument check compare against."""
    return [n for n in (as_decimal(t) for t in NUMBER_RE.findall(text)) if n is not None]


def as_decimal(token: str) -> Decimal | None:
    """``"1,000.50"`` → ``Decimal("1000.5")``; None for what is not a number."""
    try:
        return Decimal(token.replace(",", "")).normalize()
    except InvalidOperation:
        return None
