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
