"""Drop steps that repeat an earlier step: same tool, same input once references agree.

Small planners pad plans by writing the same steps again (DESIGN.md: the 0.5B model's
plans repeat whole blocks). A repeated step would compute the same evidence twice, so
it is dropped and later references to it are pointed at the original::

    #E1 = get_current_time[UTC]            #E1 = get_current_time[UTC]
    #E2 = calculator[#E1.days ^ 2]    ─►   #E2 = calculator[#E1.days ^ 2]
    #E3 = get_current_time[UTC]            (E3 is E1)
    #E4 = calculator[#E3.days ^ 2]         (E4 is E2)

A step that calls an earlier step's tool again with only a field of its result as input
(``#E2 = read_inbox["body"]`` after ``#E1 = read_inbox["inbox"]``) asks for that field:
it is dropped too, and later references read ``#E1.body``.

Tools with side effects are never merged: booking a table twice may be the point.
"""

from __future__ import annotations

import re

from foreplan.plan.validate import named_result_field
from foreplan.tools.toolkit import Toolkit
from foreplan.types import Plan, Step, find_references


_ID_RE = re.compile(r"^#E\d+")


def _rewrite(text: str, same_as: dict[str, str]) -> str:
    out, last = [], 0
    for ref in find_references(text):
        target = same_as.get(ref.step_id)
        if target is not None:
            out.append(text[last: ref.start])
            out.append("#" + target + _ID_RE.sub("", ref.text, count=1))  # keep the field path
            last = ref.start + len(ref.text)
    out.append(text[last:])
    return "".join(out)


def step_key(step: Step) -> tuple[str, str]:
    return step.tool, " ".join(step.input.split())


def drop_repeated_steps(plan: Plan, toolkit: Toolkit, known: dict[tuple[str, str], str] | None = None,
                        ) -> tuple[Plan, dict[str, str]]:
    """The plan without repeated steps, and which dropped id stands for which kept one
    (with a field path for a field lookup: ``{"E2": "E1.body"}``). ``known``
    (:func:`step_key` -> id) are steps outside the plan that count as earlier (a replan's
    old steps whose results are in)."""
    same_as: dict[str, str] = {}
    seen: dict[tuple[str, str], str] = dict(known or {})
    kept: list[Step] = []
    for step in plan.steps:
        text = _rewrite(step.input, same_as)
        tool = toolkit.get(step.tool)
        key = step_key(Step(step.id, step.plan, step.tool, text))
        if tool is not None and not tool.side_effects:
            if key in seen:
                same_as[step.id] = seen[key]
                continue
            earlier = next((id_ for (name, _), id_ in seen.items() if name == step.tool), None)
            field = named_result_field(tool, text) if earlier is not None else None
            if field is not None:
                same_as[step.id] = f"{earlier}.{field}"
                continue
        seen.setdefault(key, step.id)
        kept.append(Step(step.id, step.plan, step.tool, text, step.line))
    if not same_as:
        return plan, {}
    return Plan(tuple(kept), plan.text), same_as
