"""One bounded replan after execution: LLMCompiler's joiner, kept to ``--max-replans``.

    plan ─► worker ─► evidence ─► a step failed, timed out or found nothing?  ─ no ─► solver
                          ▲              │ yes (or the solver found no answer in it)
                          │              ▼
                          └─ worker ◄─ Replanner: the task, what ran, what came back, what
                                       went wrong ─► new steps #E<n+1> ... (may cite #E1 ...)

The replanner is the planner with another prompt: same grammar (numbered on from the
steps that ran), same validation of the whole plan so far, same one repair round. A
side-effect tool that already ran in an earlier round may not be called again: the
replan that tries is a problem for the repair round, then an invalid replan, which ends
the run with the answer from the evidence so far and a note saying so. A new step that
repeats an old one which worked or found nothing is dropped and its old result cited
(small planners write the whole plan again); a failed or timed-out call may run again.

A step the user declined, or one the worker refused because evidence would fill its
recipient, path or URL, is no reason to replan: another round would only look for a way
around the decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from foreplan.errors import PlanParseError
from foreplan.llm.base import Message
from foreplan.plan.dedupe import drop_repeated_steps, step_key
from foreplan.plan.parse import parse_plan
from foreplan.plan.retool import retool_steps
from foreplan.plan.planner import SOFT_PROBLEMS, Checked, Planner, misfit_tools
from foreplan.plan.validate import validate_plan
from foreplan.prompts import render
from foreplan.types import Evidence, Plan, Status

#: Evidence errors that are decisions, not failures (execute/dag.py, execute/confirm.py).
DECISIONS = ("refused:", "declined:")

MAX_RESULT_CHARS = 600


def _empty(value: object) -> bool:
    """No result at all: nothing, blank text, or containers holding only such."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, dict):
        return all(_empty(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_empty(v) for v in value)
    return False


def replan_reasons(plan: Plan, evidence: dict[str, Evidence]) -> list[str]:
    """Why the evidence calls for another round: failed and timed-out steps, and steps
    that came back empty (a search that found nothing); [] when none."""
    reasons = []
    for step in plan.steps:
        found = evidence.get(step.id)
        if found is None:
            continue
        if found.status is Status.TIMEOUT:
            reasons.append(f"#{step.id} ({step.tool}) timed out: {found.error}")
        elif found.status is Status.ERROR and not (found.error or "").startswith(DECISIONS):
            reasons.append(f"#{step.id} ({step.tool}) failed: {found.error}")
        elif found.ok and not found.side_effect and _empty(found.value):
            reasons.append(f"#{step.id} ({step.tool}) found nothing")
    return reasons


def next_number(plan: Plan) -> int:
    """The number after the highest ``#E<n>`` of ``plan``."""
    numbers = [int(s.id[1:]) for s in plan.steps if s.id[1:].isdigit()]
    return max(numbers, default=0) + 1


@dataclass
class Replanner(Planner):
    """Writes the continuation of ``done`` (see the module docstring); ``plan(task)``
    returns only the new steps."""

    done: Plan = field(default_factory=lambda: Plan(()))
    evidence: dict[str, Evidence] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    @property
    def first(self) -> int:
        return next_number(self.done)

    def ran_side_effects(self) -> list[str]:
        """Side-effect tools that ran in an earlier round (successfully or not: a failed
        send may still have sent)."""
        ran = [s.tool for s in self.done.steps
               if (e := self.evidence.get(s.id)) is not None and e.side_effect and e.status is not Status.SKIPPED
               and not (e.error or "").startswith(DECISIONS)]
        return list(dict.fromkeys(ran))

    def prompt(self, instruction: str) -> list[Message]:
        steps = []
        for step in self.done.steps:
            found = self.evidence.get(step.id)
            text = found.text() if found is not None else "[skipped] not run"
            if len(text) > MAX_RESULT_CHARS:
                text = text[:MAX_RESULT_CHARS] + f" ... [{len(text) - MAX_RESULT_CHARS} more characters cut]"
            steps.append({"id": step.id, "tool": step.tool, "input": step.input, "plan": step.plan, "evidence": text})
        text = render("replan", tools=self.toolkit.describe(), task=instruction.strip(), steps=steps,
                      reasons=self.reasons, first=self.first, side_effects=self.ran_side_effects())
        return [{"role": "user", "content": text}]

    def _repair_messages(self, instruction: str, messages: list[Message], text: str,
                         problems: list[str]) -> list[Message]:
        """A continuation is repaired in its conversation: its prompt already holds a plan."""
        return messages + [{"role": "assistant", "content": text},
                           {"role": "user", "content": render("repair", problems=problems, first=self.first)}]

    def _problems(self, text: str) -> Checked:
        try:
            new = parse_plan(text)
        except PlanParseError as exc:
            return Checked(None, {}, [f"the text is not a plan ({exc})"], [])
        ids = {s.id for s in new.steps}
        kept, merged = self._dedupe(new)
        whole, retooled = retool_steps(Plan(self.done.steps + kept.steps), self.toolkit)
        kept = Plan(whole.steps[len(self.done.steps):], kept.text)
        problems = [p for p in validate_plan(whole, self.toolkit) if p.step_id in ids]
        blocking = [str(p) for p in problems if p.code not in SOFT_PROBLEMS]
        if len(new.steps) > self.max_steps:
            blocking.append(f"the replan has {len(new.steps)} steps; at most {self.max_steps} are allowed")
        ran = set(self.ran_side_effects())
        blocking += [f"#{s.id}: {s.tool} has side effects and already ran; it must not run again"
                     for s in kept.steps if s.tool in ran]  # as they would run: retooled, too
        return Checked(kept, merged, blocking, [str(p) for p in problems if p.code in SOFT_PROBLEMS],
                       {k: v for k, v in retooled.items() if k in ids}, misfit_tools(kept, problems))

    def _dedupe(self, plan: Plan) -> tuple[Plan, dict[str, str]]:
        """Drop new steps that repeat an old one whose result is in (it worked, or found
        nothing: the same call would find nothing again), citing the old one instead; a
        failed or timed-out call may run again as it was (failures can be passing)."""
        known = {step_key(s): s.id for s in self.done.steps
                 if (e := self.evidence.get(s.id)) is not None and e.ok and not e.side_effect}
        return drop_repeated_steps(plan, self.toolkit, known)
