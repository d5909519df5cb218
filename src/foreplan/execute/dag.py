"""The worker: run a plan's steps as a dependency graph, as parallel as it allows.

A step starts the moment every step it references has finished (not level by level),
up to ``max_workers`` at once. Each attempt of a tool runs in its own daemon thread
with the tool's timeout: a hung tool is recorded as a timeout and abandoned, it cannot
hold the run. Whatever happens to a step ends as :class:`Evidence`:

    ok        the tool's value (JSON-compatible)
    error     the tool raised, its arguments did not fit, its value cannot be serialized
    timeout   an attempt ran past the tool's timeout
    skipped   a step it depends on did not succeed (the reason names that step)
    cancelled Ctrl-C arrived while it ran

Retryable failures (``RetryableToolError``, ``ConnectionError``) are tried again with
exponential backoff. Ctrl-C stops scheduling, marks what is left and raises
:class:`RunCancelled` with the evidence so far.
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pydantic_core

from foreplan.errors import ConfigError, LLMError, RetryableToolError, RunCancelled, ToolError
from foreplan.events import Event, StepFinished, StepStarted
from foreplan.execute.caller import FunctionCaller
from foreplan.execute.substitute import sole_reference_value, substitute
from foreplan.tools.toolkit import Toolkit
from foreplan.types import Evidence, Plan, Status, Step, Usage

_RETRYABLE = (RetryableToolError, ConnectionError)


@dataclass
class Worker:
    toolkit: Toolkit
    caller: FunctionCaller = field(default_factory=lambda: FunctionCaller(None))
    max_workers: int = 8
    backoff: float = 0.5
    """Seconds before the first retry; doubles each time, up to ``max_backoff``."""
    max_backoff: float = 8.0
    on_event: Callable[[Event], None] | None = None
    caller_usage: Usage = field(default_factory=Usage)
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)

    def __post_init__(self) -> None:
        if self.max_workers < 1:
            # With no slot nothing could ever start, and every step would be reported as
            # stuck in a cycle; say what is actually wrong instead.
            raise ConfigError(f"max_workers must be at least 1, not {self.max_workers}")

    def run(self, plan: Plan) -> dict[str, Evidence]:
        """Run every step of ``plan``; evidence in plan order.

        Raises:
            RunCancelled: on Ctrl-C, with ``partial`` = the evidence dict so far.
        """
        # A Worker may run several plans: a Ctrl-C in an earlier run must not stop the
        # retries of this one (the event used to stay set forever).
        self._cancel.clear()
        done: dict[str, Evidence] = {}
        # Root causes of each skipped step, so a skip two levels down still names the
        # step that actually failed.
        causes: dict[str, list[str]] = {}
        waiting: list[Step] = []
        running: dict[str, Step] = {}
        finished: queue.Queue[tuple[Step, Evidence, Usage]] = queue.Queue()
        ids = {s.id for s in plan.steps}
        try:
            for step in plan.steps:
                # The validator refuses duplicate ids; a plan that skipped it must still
                # not crash the scheduler (two steps in ``running`` under one key did).
                if any(w.id == step.id for w in waiting):
                    self._emit(StepFinished(step, Evidence(step.id, Status.SKIPPED, error=(
                        f"skipped: #{step.id} is defined twice; only the first one runs"))))
                else:
                    waiting.append(step)
            while waiting or running:
                progressed = False
                for step in list(waiting):
                    deps = step.depends_on
                    failed = [d for d in deps if d not in ids or (d in done and not done[d].ok)]
                    if failed:
                        waiting.remove(step)
                        progressed = True
                        self._record(done, step, _skipped(failed, done, causes, step.id))
                    elif all(d in done for d in deps) and len(running) < self.max_workers:
                        waiting.remove(step)
                        progressed = True
                        running[step.id] = step
                        self._emit(StepStarted(step))
                        snapshot = dict(done)
                        ctx = contextvars.copy_context()
                        threading.Thread(
                            target=ctx.run, args=(self._run_step, step, snapshot, finished),
                            name=f"foreplan-{step.id}", daemon=True,
                        ).start()
                if not running:
                    if not progressed:  # only a cycle can wait forever (validate_plan refuses it)
                        for step in waiting:
                            stuck = ", ".join(f"#{d}" for d in step.depends_on if d not in done)
                            self._record(done, step, Evidence(step.id, Status.SKIPPED, error=(
                                f"skipped: it needs {stuck}, which can never finish first "
                                "(the steps depend on each other in a cycle)")))
                        waiting.clear()
                    continue
                step, evidence, usage = _get(finished)
                self.caller_usage.add(usage)
                # Record before leaving ``running``: a Ctrl-C between the two then finds
                # the step in one of them, never in neither (it used to vanish from the
                # partial result).
                self._record(done, step, evidence)
                running.pop(step.id)
        except KeyboardInterrupt:
            self._cancel.set()
            # Every step not finished is accounted for, whatever line the interrupt hit:
            # started ones are cancelled, the rest were never started.
            unfinished = [s for s in plan.steps if s.id not in done]
            for step in unfinished:
                if step.id in running:
                    done[step.id] = Evidence(step.id, Status.CANCELLED, error="cancelled by the user")
                else:
                    done[step.id] = Evidence(step.id, Status.SKIPPED, error="not started: the run was cancelled")
            try:  # so a trace or live view shows how each step ended, as for any other step
                for step in unfinished:
                    self._emit(StepFinished(step, done[step.id]))
            except KeyboardInterrupt:
                pass  # a second Ctrl-C stops the reporting, not the RunCancelled below
            raise RunCancelled(_in_plan_order(plan, done)) from None
        return _in_plan_order(plan, done)

    def _record(self, done: dict[str, Evidence], step: Step, evidence: Evidence) -> None:
        done[step.id] = evidence
        self._emit(StepFinished(step, evidence))

    def _emit(self, event: Event) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _run_step(self, step: Step, done: dict[str, Evidence], out: queue.Queue) -> None:
        started = time.perf_counter()
        evidence = Evidence(step.id, Status.ERROR)
        usage = Usage()
        try:
            evidence, usage = self._call(step, done, evidence)
        except Exception as exc:  # our bug must not hang the scheduler; report it as evidence
            evidence.status, evidence.error = Status.ERROR, f"internal error: {type(exc).__name__}: {exc}"
        evidence.seconds = time.perf_counter() - started
        out.put((step, evidence, usage))

    def _call(self, step: Step, done: dict[str, Evidence], evidence: Evidence) -> tuple[Evidence, Usage]:
        tool = self.toolkit.get(step.tool)
        if tool is None:
            evidence.error = f"unknown tool {step.tool!r}; the tools are: {', '.join(self.toolkit.names)}"
            return evidence, Usage()
        try:
            evidence.input = substitute(step.input, done, tool.render_reference)
            whole, value = sole_reference_value(step.input, done)
            arguments, usage = self.caller.arguments(step, tool, evidence.input, value, whole)
        except (ToolError, LLMError) as exc:
            evidence.error = str(exc)
            return evidence, Usage()
        return call_tool(tool, arguments, evidence, backoff=self.backoff, max_backoff=self.max_backoff,
                         cancel=self._cancel), usage


def call_tool(tool: Any, arguments: dict[str, Any], evidence: Evidence | None = None, *, backoff: float = 0.5,
              max_backoff: float = 8.0, cancel: threading.Event | None = None) -> Evidence:
    """Call one tool with its timeout and retries; whatever happens ends as evidence
    (also what ``foreplan tools call`` runs)."""
    evidence = evidence if evidence is not None else Evidence("", Status.ERROR)
    cancel = cancel or threading.Event()
    started = time.perf_counter()
    evidence.arguments = _jsonable(arguments)
    delay = backoff
    for attempt in range(1, tool.retries + 2):
        evidence.attempts = attempt
        status, result = _attempt(tool, arguments)
        if status is Status.OK:
            try:
                evidence.value = _jsonable(result, strict=True)
                evidence.status = Status.OK
            except ToolError as exc:
                evidence.error = str(exc)
            break
        evidence.status, evidence.error = status, str(result)
        retryable = status is Status.ERROR and isinstance(getattr(result, "exc", None), _RETRYABLE)
        if not retryable or attempt > tool.retries or cancel.is_set():
            break
        if cancel.wait(delay):  # Ctrl-C during the backoff: no further attempt
            break
        delay = min(delay * 2, max_backoff)
    evidence.seconds = time.perf_counter() - started
    return evidence


class _Failure(str):
    """An error message that remembers the exception (to decide on retries)."""

    exc: BaseException | None = None


def _attempt(tool: Any, arguments: dict[str, Any]) -> tuple[Status, Any]:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = tool(**arguments)
        except BaseException as exc:  # a tool may raise anything; it becomes evidence
            box["exc"] = exc

    thread = threading.Thread(target=contextvars.copy_context().run, args=(target,), daemon=True,
                              name=f"foreplan-tool-{tool.name}")
    thread.start()
    thread.join(tool.timeout)
    if thread.is_alive():
        return Status.TIMEOUT, (
            f"{tool.name} timed out after {tool.timeout:g} s and was abandoned. "
            "Try again later or use another tool."
        )
    if "exc" in box:
        exc = box["exc"]
        if isinstance(exc, ToolError):
            failure = _Failure(f"{tool.name} failed: {exc}")
        else:
            failure = _Failure(
                f"{tool.name} raised {type(exc).__name__}: {exc}. Please try again or use another tool."
            )
        failure.exc = exc
        return Status.ERROR, failure
    return Status.OK, box.get("value")


def _jsonable(value: Any, strict: bool = False) -> Any:
    try:
        return pydantic_core.to_jsonable_python(value)
    # PydanticSerializationError is a ValueError; a circular list or dict raises a plain
    # ValueError ("Circular reference detected"), which used to escape as an internal error.
    except ValueError:
        if strict:
            raise ToolError(
                f"returned a {type(value).__name__}, which cannot be serialized to JSON; "
                "a tool must return text, numbers, lists, dicts, dataclasses or pydantic models"
            ) from None
        return repr(value)


def _skipped(failed: list[str], done: dict[str, Evidence], causes: dict[str, list[str]],
             step_id: str) -> Evidence:
    """Evidence for a step whose dependency failed: "skipped because #E1 error", and for a
    step further down, "skipped because #E2 skipped; root cause: #E1 error"."""
    reasons: list[str] = []
    roots: list[str] = []
    for dep in failed:
        if dep not in done:
            reason = f"#{dep} is not in the plan"
            roots.append(reason)
        else:
            reason = f"#{dep} {done[dep].status.value}"
            roots.extend(causes.get(dep, [reason]))
        reasons.append(reason)
    roots = list(dict.fromkeys(roots))
    causes[step_id] = roots
    error = "skipped because " + ", ".join(reasons)
    if roots != reasons:
        error += "; root cause: " + ", ".join(roots)
    return Evidence(step_id, Status.SKIPPED, error=error)


def _get(q: queue.Queue) -> Any:
    # A short timeout keeps the main thread responsive to Ctrl-C on every platform.
    while True:
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            continue


def _in_plan_order(plan: Plan, done: dict[str, Evidence]) -> dict[str, Evidence]:
    return {s.id: done[s.id] for s in plan.steps if s.id in done}
