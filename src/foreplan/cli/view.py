"""How a run looks in a terminal: the plan as soon as it exists, each step live, the answer,
and (with ``--confirm``) a question before each side effect.

    Plan: Get today's date ...
    #E1 = get_current_time[UTC]
     ✓ E1  get_current_time   0.01s  {"date": "2026-11-25", ...}
     ⠋ E2  calculator         1.2s   running
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO

from rich.console import Console, Group
from rich.live import Live
from rich.prompt import Confirm
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from foreplan.execute.confirm import Decision, SideEffectCall
from foreplan.events import AnswerReady, Event, PlanReady, StepFinished, StepStarted, ToolsChosen
from foreplan.types import Status, Step, ToolChoice

_MARKS = {Status.OK: ("✓", "green"), Status.ERROR: ("✗", "red"), Status.TIMEOUT: ("⏱", "red"),
          Status.SKIPPED: ("-", "yellow"), Status.CANCELLED: ("!", "yellow")}


def shorten(text: str, width: int = 80) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def tools_chosen_line(choice: ToolChoice) -> str:
    """``the planner sees 9 of 40 tools (--all-tools for all): a, b, ...``"""
    return (f"the planner sees {len(choice.tools)} of {choice.total} tools (--all-tools for all): "
            + ", ".join(choice.tools))


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
        if isinstance(event, ToolsChosen):
            self.console.print(Text(tools_chosen_line(event.choice), style="dim"))
        elif isinstance(event, PlanReady):
            self.steps = (self.steps if event.round > 1 else []) + list(event.plan.steps)
            note = f" (after {event.attempts} attempts)" if event.attempts > 1 else ""
            title = f"replan, round {event.round}{note}" if event.round > 1 else f"plan{note}"
            if event.reused_from is not None:
                title = f"plan of run {event.reused_from}, reused"
            self.console.rule(title, style="dim")
            for reason in event.reasons:
                self.console.print(Text(f"because {reason}", style="dim"))
            self.console.print(Text(event.plan.render().rstrip(), style="cyan"))
            if event.merged:
                repeats = ", ".join(f"#{a} (= #{b})" for a, b in event.merged.items())
                self.console.print(Text(f"dropped repeated steps: {repeats}", style="dim"))
            for id_, named in event.retooled.items():
                tool = next((s.tool for s in event.plan.steps if s.id == id_), "?")
                self.console.print(Text(f"#{id_} runs {tool}, not {named}: its input fits {tool}, which its plan "
                                        f"line describes", style="dim"))
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


class TerminalConfirm:
    """``foreplan run --confirm``: shows each side-effect call with its final arguments and
    asks; one question at a time (parallel steps wait their turn), the live view paused
    while it is asked. Without a terminal it never waits: it declines, and says why."""

    def __init__(self, console: Console, view: RunView | None = None, stream: IO[str] | None = None) -> None:
        self.console = console
        self.view = view
        self.stream = stream
        """Where answers are read (a test's text); None: the terminal's stdin."""
        self._one_at_a_time = threading.Lock()

    @property
    def interactive(self) -> bool:
        return self.stream is not None or (sys.stdin.isatty() and self.console.is_terminal)

    def __call__(self, call: SideEffectCall) -> Decision:
        if not self.interactive:
            return Decision(False, f"{call.tool} has side effects and runs only on a yes, and there is no terminal "
                                   "to ask on; run foreplan in a terminal to answer")
        with self._one_at_a_time:
            if self.view is not None:
                self.view.live.stop()
            try:
                self.console.print(Text(f"#{call.step.id} wants to run {call.describe()}", style="bold yellow"))
                approved = Confirm.ask("Run it?", console=self.console, default=False, stream=self.stream)
            finally:
                if self.view is not None:
                    self.view.live.start()
        return Decision(approved, "" if approved else "the user declined it at the terminal")
