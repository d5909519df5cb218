"""What an agent run reports while it happens.

The CLI renders these live, the server streams them as SSE, and ``--trace`` writes
each one as a JSON line. All are emitted from the thread that called ``Agent.run``,
in the order things happened, except :class:`ConfirmationRequired`, which a step's own
thread sends while it waits for an answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from foreplan.types import Evidence, Plan, Step, ToolChoice, Usage


@dataclass(frozen=True)
class Event:
    at: float = field(default_factory=time.time, kw_only=True)

    @property
    def kind(self) -> str:
        return _KINDS[type(self)]

    def to_dict(self) -> dict[str, Any]:
        return {"event": self.kind, "at": round(self.at, 4)}


@dataclass(frozen=True)
class RunStarted(Event):
    instruction: str

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"instruction": self.instruction}


@dataclass(frozen=True)
class ToolsChosen(Event):
    """Tool retrieval cut a big toolkit: the planner sees only these tools."""

    choice: ToolChoice

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | self.choice.to_dict()


@dataclass(frozen=True)
class PlanReady(Event):
    plan: Plan
    attempts: int
    usage: Usage
    merged: dict[str, str] = field(default_factory=dict)
    """Repeated steps dropped from the planner's text: {dropped id: kept id}."""
    round: int = 1
    """1 for the plan, 2 and on for a replan's new steps (plan/replan.py)."""
    reasons: tuple[str, ...] = ()
    """Why the replan was asked for (what failed or found nothing)."""
    reused_from: int | None = None
    """The stored run whose plan was reused instead of planning (memory.py)."""
    retooled: dict[str, str] = field(default_factory=dict)
    """Steps given the tool their plan line and input fit: {id: the tool the planner named}."""

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"plan": [s.to_dict() for s in self.plan.steps],
                                    "text": self.plan.text, "attempts": self.attempts,
                                    "usage": self.usage.to_dict(), "merged_steps": self.merged,
                                    "round": self.round, "reasons": list(self.reasons),
                                    "reused_from": self.reused_from, "retooled_steps": self.retooled}


@dataclass(frozen=True)
class StepStarted(Event):
    step: Step

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"step": self.step.id, "tool": self.step.tool}


@dataclass(frozen=True)
class StepFinished(Event):
    step: Step
    evidence: Evidence

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"step": self.step.id, "tool": self.step.tool,
                                    "evidence": self.evidence.to_dict()}


@dataclass(frozen=True)
class AnswerReady(Event):
    answer: str
    usage: Usage

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"answer": self.answer, "usage": self.usage.to_dict()}


@dataclass(frozen=True)
class ConfirmationRequired(Event):
    """A side-effect call waits for a yes or a no (``confirm`` runs on the server); sent
    from the step's thread while the rest of the run goes on."""

    step: Step
    tool: str
    arguments: dict[str, Any]
    sources: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return super().to_dict() | {"step": self.step.id, "tool": self.tool, "arguments": self.arguments,
                                    "sources": self.sources}


_KINDS = {ConfirmationRequired: "confirmation_required", RunStarted: "run_started", ToolsChosen: "tools_chosen", PlanReady: "plan_ready", StepStarted: "step_started",
          StepFinished: "step_finished", AnswerReady: "answer"}
