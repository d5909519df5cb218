"""How a run looks in a terminal: the plan as soon as it exists, each step live, the answer.

    Plan: Get today's date ...
    #E1 = get_current_time[UTC]
     ✓ E1  get_current_time   0.01s  {"date": "2026-11-25", ...}
     ⠋ E2  calculator         1.2s   running
"""

from __future__ import annotations

import time

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from foreplan.events import AnswerReady, Event, PlanReady, StepFinished, StepStarted
from foreplan.types import Status, Step

_MARKS = {Status.OK: ("✓", "green"), Status.ERROR: ("✗", "red"), Status.TIMEOUT: ("⏱", "red"),
          Status.SKIPPED: ("-", "yellow"), Status.CANCELLED: ("!", "yellow")}


def shorten(text: str, width: int = 80) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


class RunView:
    """An ``on_event`` callback that keeps a rich ``Live`` display up to date."""

    def __init__(self, console: Console, phase: str = "planning") -> None:
        self.console = console
        self.phase = phase
        self.steps: list[Step] = []
        self.started: dict[str, float] = {}
        self.finished: dict[str, tuple[Status, float, str]] = {}
        self.live = Live(self, console=console, refresh_per_second=8, transient=False)

    def __enter__(self) -> RunView:
        self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.__exit__(*exc)

    def __call__(self, event: Event) -> None:
        if isinstance(event, PlanReady):
            self.steps = list(event.plan.steps)
            note = f" (after {event.attempts} attempts)" if event.attempts > 1 else ""
            self.console.rule(f"plan{note}", style="dim")
            self.console.print(Text(event.plan.render().rstrip(), style="cyan"))
            if event.merged:
                repeats = ", ".join(f"#{a} (= #{b})" for a, b in event.merged.items())
                self.console.print(Text(f"dropped repeated steps: {repeats}", style="dim"))
            self.phase = "running"
        elif isinstance(event, StepStarted):
            self.started[event.step.id] = time.perf_counter()
        elif isinstance(event, StepFinished):
            ev = event.evidence
            text = ev.text()
            if ev.side_effect and ev.sources:  # which evidence this side effect carries, up front
                carried = ", ".join(f"{arg} ← {' '.join('#' + s for s in ids)}" for arg, ids in ev.sources.items())
                text = f"[{carried}] {text}"
            self.finished[event.step.id] = (ev.status, ev.seconds, text)
            if len(self.finished) == len(self.steps):
                self.phase = "solving"
        elif isinstance(event, AnswerReady):
            self.phase = "done"
        self.live.refresh()

    def __rich__(self) -> Group:
        table = Table.grid(padding=(0, 1))
        for step in self.steps:
            if step.id in self.finished:
                status, seconds, text = self.finished[step.id]
                mark, style = _MARKS[status]
                table.add_row(Text(mark, style=style), step.id, step.tool, f"{seconds:6.2f}s",
                              Text(shorten(text), style=None if status is Status.OK else style))
            elif step.id in self.started:
                elapsed = time.perf_counter() - self.started[step.id]
                table.add_row(Spinner("dots"), step.id, step.tool, f"{elapsed:6.2f}s", Text("running", style="dim"))
            else:
                table.add_row(Text("·", style="dim"), step.id, step.tool, "", Text("waiting", style="dim"))
        parts: list = [table]
        if self.phase in ("planning", "solving"):
            parts.append(Spinner("dots", text=Text(f"{self.phase}…", style="dim")))
        return Group(*parts)
