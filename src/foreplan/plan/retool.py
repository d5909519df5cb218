"""Give a step the tool its own words and its input both point at, when the one it named
cannot take that input.

A small planner sometimes writes the right step under the wrong tool name::

    Plan: 3. Insert the body into the notes table.
    #E3 = http_post["INSERT INTO notes (text) VALUES (?)", #E2]

The plan line says what the step does (BM25 over the tools' descriptions names
``query_sql``), and the input is a statement and a value: it fits ``query_sql`` and does not
fit ``http_post`` (no URL). Asked to repair, the 1.5B wrote a worse plan than the first
(the injection suite's store-the-mail task), so the step is given that tool here, before
anything runs and before any evidence exists: what a tool returns can never choose a tool.

A step changes tool only when all of this holds, judged from the schemas alone:
- its input does not fit the tool it names;
- the tool its plan line best matches is another one, and the input fits that one;
- that tool has no side effects, or the named one had side effects too: a side effect the
  planner did not ask for is never added.
"""

from __future__ import annotations

from foreplan.plan.validate import validate_plan
from foreplan.tools.retrieval import closest_tool
from foreplan.tools.toolkit import Toolkit
from foreplan.types import Plan, Step

#: Problems that say a step's input does not fit its tool.
_MISFITS = frozenset({"bad_input", "result_field_as_input"})


def retool_steps(plan: Plan, toolkit: Toolkit) -> tuple[Plan, dict[str, str]]:
    """``plan`` with misnamed tools replaced, and ``{step id: the tool the planner named}``
    for each step that changed."""
    misfit = {p.step_id for p in validate_plan(plan, toolkit) if p.code in _MISFITS}
    if not misfit:
        return plan, {}
    steps, named = list(plan.steps), {}
    for i, step in enumerate(steps):
        if step.id not in misfit or not step.plan.strip():
            continue
        other = closest_tool(toolkit, step.plan)
        if other is None or other == step.tool or not _may_stand_in(toolkit, step.tool, other):
            continue
        candidate = Step(step.id, step.plan, other, step.input, step.line)
        trial = Plan(tuple(steps[:i] + [candidate] + steps[i + 1:]), plan.text)
        if not any(p.step_id == step.id and p.code in _MISFITS | {"untrusted_sensitive"}
                   for p in validate_plan(trial, toolkit)):
            steps[i], named[step.id] = candidate, step.tool
    if not named:
        return plan, {}
    return Plan(tuple(steps), plan.text), named


def _may_stand_in(toolkit: Toolkit, named: str, other: str) -> bool:
    """``other`` may replace ``named`` unless it would add a side effect."""
    first, second = toolkit.get(named), toolkit.get(other)
    return first is not None and second is not None and (not second.side_effects or first.side_effects)
