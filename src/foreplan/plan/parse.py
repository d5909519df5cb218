"""Read a planner's text into a :class:`~foreplan.types.Plan`, tolerantly.

Small models write ReWOO plans in many near-miss shapes; all of these parse::

    Plan: Find the director.            Step 1: Find the director.
    #E1 = search_wiki[Inception]        #E1 = search_wiki[Inception]
                                        2. Then list the films. #E2: query_sql[... '#E1' ...]

Step ids are numbered freely (``#E10`` is not ``#E1`` and ``0``), inputs may hold
brackets (``[SELECT ... IN [1, 2]]``) and quotes, one line may hold several steps, and
text after the last step is ignored. Text that is not a plan, or a step cut off midway
(``#E3 = sear`` or ``#E3 = search[Ince``), raises :class:`PlanParseError` with the
1-based line and column of the first thing that could not be read; nothing else ever
escapes.
"""

from __future__ import annotations

import re

from foreplan.errors import PlanParseError
from foreplan.types import Plan, Step, step_id

#: ``#E1 = tool[`` (also ``E1:``, ``#E01 =``), anywhere on a line.
_ASSIGN_RE = re.compile(r"(?<![\w#])#?E(?P<num>\d+)\s*[=:]\s*(?P<tool>[A-Za-z_][\w.\-]*)\s*\[")
#: A line that starts a step in any of the usual ways. A closing ``**`` is skipped only
#: after an opening one (``**Plan:**``), so ``Plan: **Bold** words`` keeps its text.
_PLAN_RE = re.compile(
    r"^\s*(?:[-*]\s*)?(?P<bold>\*\*)?(?:(?:Plan|Step)\s*\d*|\d+)\s*(?(bold)(?:\*\*)?)\s*[:.)]"
    r"\s*(?(bold)(?:\*\*)?)\s*(?P<text>.*)$",
    re.IGNORECASE,
)
#: A line that starts like an assignment (``#E2 =``) and so must be one.
_ATTEMPT_RE = re.compile(r"^\s*#E\d+\s*=")
#: Past this many continuation lines, text is more likely commentary than plan.
_MAX_PLAN_LINES = 5


def _lines(text: str) -> list[str]:
    r"""Lines split at ``\n`` (and ``\r\n``) only: ``str.splitlines`` also breaks at
    ``\x0c``, ``\x85`` or ``\u2028``, which the plan grammar admits inside an input."""
    return [line.removesuffix("\r") for line in text.split("\n")]


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


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_plan(text: str) -> Plan:
    """Parse ReWOO plan text.

    Args:
        text: what the planner wrote.

    Returns:
        The steps in written order (ids as written, normalised to ``E<n>``).

    Raises:
        PlanParseError: no step could be read, a step's ``[`` is never closed, or a
            line that starts like a step (``#E2 =``) is not one (a plan cut off mid-step).
    """
    if not isinstance(text, str):
        raise PlanParseError("plan text must be a string", text=str(text), line=1, column=1)
    steps: list[Step] = []
    pending: list[str] = []
    lines = _lines(text)
    for lineno, line in enumerate(lines, start=1):
        m = _ASSIGN_RE.search(line)
        if m is None:
            if _ATTEMPT_RE.match(line):
                raise PlanParseError(
                    f"{_shorten(line.strip())!r} is not a step; write each step as #E1 = tool_name[input]",
                    text=text, line=lineno, column=line.index("#") + 1,
                )
            pm = _PLAN_RE.match(line)
            if pm:
                pending = [pm.group("text").strip()]
            elif pending and line.strip() and len(pending) < _MAX_PLAN_LINES:
                pending.append(line.strip())  # a plan sentence wrapped onto the next line
            continue
        end = 0  # a line may hold several steps: "1. ... #E1 = a[x] 2. ... #E2 = b[y]"
        while m is not None:
            close = _closing_bracket(line, m.end())
            if close is None:
                raise PlanParseError(
                    f"the input of #{step_id(m.group('num'))} opens '[' but never closes it; "
                    "write the step as #E1 = tool[input] on one line",
                    text=text, line=lineno, column=m.end(),
                )
            before = line[end: m.start()].strip()
            if before:
                pm = _PLAN_RE.match(before)
                pending = [pm.group("text").strip() if pm else before]
            steps.append(
                Step(
                    id=step_id(m.group("num")),
                    plan=" ".join(p for p in pending if p).strip(),
                    tool=m.group("tool"),
                    input=line[m.end(): close].strip(),
                    line=lineno,
                )
            )
            pending = []
            end = close + 1
            m = _ASSIGN_RE.search(line, end)
    if not steps:
        # Point at the first thing that could not be read: the first non-blank character.
        line, column = next(
            ((n, len(s) - len(s.lstrip()) + 1) for n, s in enumerate(lines, start=1) if s.strip()), (1, 1)
        )
        raise PlanParseError(
            "no step found: each step needs a line like '#E1 = tool_name[input]'",
            text=text, line=line, column=column,
        )
    return Plan(tuple(steps), text)
