"""Asking before a side effect: the worker shows each side-effect call, with the arguments
it would actually get, to whoever the run names (a person at a terminal, a client of the
server), and makes the call only on a yes.

    worker ── SideEffectCall(step, tool, arguments, sources) ──► confirm(call) ──► Decision
           ◄── approved: the call runs; declined: evidence "declined: <reason>"

The question is asked on the step's own thread, after evidence has filled the arguments
and after the untrusted-argument check, so what is shown is exactly what would run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from foreplan.types import Step


@dataclass(frozen=True)
class SideEffectCall:
    step: Step
    tool: str
    arguments: dict[str, Any]
    sources: dict[str, list[str]] = field(default_factory=dict)
    """Argument -> the steps whose evidence it carries."""

    def describe(self, width: int = 80) -> str:
        """``send_email(to='bob@example.com', body='Team offsite…' ← #E1)``."""
        parts = []
        for name, value in self.arguments.items():
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            text = text if len(text) <= width else text[: width - 1] + "…"
            carried = f" ← {' '.join('#' + s for s in self.sources[name])}" if name in self.sources else ""
            parts.append(f"{name}={text!r}{carried}")
        return f"{self.tool}({', '.join(parts)})"


@dataclass(frozen=True)
class Decision:
    approved: bool
    reason: str = ""
    """Why it was declined, in words the solver and the user read."""


Confirm = Callable[[SideEffectCall], Decision]
"""Asked before every side-effect call; may block (a person is answering)."""


@dataclass(frozen=True)
class Policy:
    """Which side-effect calls need a yes, and who gives it: the run's choice (``every``:
    ``--confirm``, ``"confirm": true``) and the toolkit's (``required``, ``trusted``)."""

    ask: Confirm | None
    """Who answers (a terminal, a server client); None: no one can be asked here."""
    every: bool = False
    required: frozenset[str] = frozenset()
    trusted: frozenset[str] = frozenset()

    def __call__(self, call: SideEffectCall) -> Decision:
        if call.tool in self.trusted:
            return Decision(True)
        if not (self.every or call.tool in self.required or "*" in self.required):
            return Decision(True)
        if self.ask is None:
            return Decision(False, f"the toolkit runs {call.tool} only on a yes, and this run has no one to ask: "
                                   "run foreplan in a terminal with --confirm, or send \"confirm\": true to the server")
        return self.ask(call)


def confirm_policy(ask: Confirm | None, every: bool, required: frozenset[str] = frozenset(),
                   trusted: frozenset[str] = frozenset()) -> Confirm | None:
    """The worker's ``confirm``: None when no call would ever need a yes (nothing asks)."""
    if not every and not required:
        return None
    return Policy(ask, every, required, trusted)
