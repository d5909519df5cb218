"""Read a planner's text into a :class:`~foreplan.types.Plan`, tolerantly.

Small models write ReWOO plans in many near-miss shapes; all of these parse::

    Plan: Find the director.            Step 1: Find the director.
    #E1 = search_wiki[Inception]        #E1 = search_wiki[Inception]
                                        2. Then list the films. #E2: query_sql[... '#E1' ...]

Step ids are numbered freely (``#E10`` is not ``#E1`` and ``0``), inputs may hold
brackets (``[SELECT ... IN [1, 2]]``) and quotes, and text after the last step is
ignored. Text that is not a plan raises :class:`PlanParseError` with the 1-based line
and column of the first thing that could not be read; nothing else ever escapes.
"""

from __future__ import annotations

import re

from foreplan.errors import PlanParseError
from foreplan.types import Plan, Step

#: ``#E1 = tool[`` (also ``E1:``, ``#E01 =``), anywhere on a line.
_ASSIGN_RE = re.compile(r"(?<![\w#])#?E(?P<num>\d+)\s*[=:]\s*(?P<tool>[A-Za-z_][\w.\-]*)\s*\[")
#: A line that starts a step in any of the usual ways.
_PLAN_RE = re.compile(
    r"^\s*(?:[-*]\s*)?(?:\*\*)?(?:(?:Plan|Step)\s*\d*|\d+)\s*(?:\*\*)?\s*[:.)]\s*(?:\*\*)?\s*(?P<text>.*)$",
    re.IGNORECASE,
)
#: A line that looks like an attempt at an assignment but is not one.
_ATTEMPT_RE = re.compile(r"^\s*#E\d*")
#: Past this many continuation lines, text is more likely commentary than plan.
_MAX_PLAN_LINES = 5


def _closing_bracket(line: str, start: int) -> int | None:
    """Index of the ``]`` that closes the ``[`` just before ``start``; nested brackets
    count. When they never balance, the last ``]`` on the line (a model that opened a
    bracket in its input and never closed it)."""
    depth = 1
    for i in range(start, len(line)):
        ch = line[i]
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i
    last = line.rfind("]", start)
    return last if last >= 0 else None


def parse_plan(text: str) -> Plan:
    """Parse ReWOO plan text.

    Args:
        text: what the planner wrote.

    Returns:
        The steps in written order (ids as written, normalised to ``E<n>``).

    Raises:
        PlanParseError: no step could be read, or a step's ``[`` is never closed.
    """
    if not isinstance(text, str):
        raise PlanParseError("plan text must be a string", text=str(text), line=1, column=1)
    steps: list[Step] = []
    pending: list[str] = []
    first_attempt: tuple[int, int] | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        m = _ASSIGN_RE.search(line)
        if m is None:
            pm = _PLAN_RE.match(line)
            if pm:
                pending = [pm.group("text").strip()]
            elif _ATTEMPT_RE.match(line):
                if first_attempt is None:
                    first_attempt = (lineno, line.index("#") + 1)
            elif pending and line.strip() and len(pending) < _MAX_PLAN_LINES:
                pending.append(line.strip())  # a plan sentence wrapped onto the next line
            continue
        close = _closing_bracket(line, m.end())
        if close is None:
            raise PlanParseError(
                f"the input of #E{int(m.group('num'))} opens '[' but never closes it; "
                "write the step as #E1 = tool[input] on one line",
                text=text, line=lineno, column=m.end(),
            )
        before = line[: m.start()].strip()
        if before:
            pm = _PLAN_RE.match(before)
            pending = [pm.group("text").strip() if pm else before]
        steps.append(
            Step(
                id=f"E{int(m.group('num'))}",
                plan=" ".join(p for p in pending if p).strip(),
                tool=m.group("tool"),
                input=line[m.end(): close].strip(),
                line=lineno,
            )
        )
        pending = []
    if not steps:
        line, column = first_attempt or (max(1, len(text.splitlines())), 1)
        raise PlanParseError(
            "no step found: each step needs a line like '#E1 = tool_name[input]'",
            text=text, line=line, column=column,
        )
    return Plan(tuple(steps), text)

