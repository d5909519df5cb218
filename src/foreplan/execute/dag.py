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

from foreplan.errors import LLMError, RetryableToolError, RunCancelled, ToolError
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

    def run(self, plan: Plan) -> dict[str, Evidence]:
        """Run every step of ``plan``; evidence in plan order.

        Raises:
            RunCancelled: on Ctrl-C, with ``partial`` = the evidence dict so far.
        """
        done: dict[str, Evidence] = {}
        waiting = list(plan.steps)
        running: dict[str, Step] = {}
        finished: queue.Queue[tuple[Step, Evidence, Usage]] = queue.Queue()
        ids = {s.id for s in plan.steps}
        try:
            while waiting or running:
                progressed = False
                for step in list(waiting):
                    deps = step.depends_on
                    failed = [d for d in deps if d not in ids or (d in done and not done[d].ok)]
                    if failed:
                        waiting.remove(step)
                        progressed = True
                        self._record(done, step, _skipped(step, failed, done))
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
                    if not progressed:  # only a cycle or a forward reference can wait forever
                        for step in waiting:
                            self._record(done, step, Evidence(step.id, Status.SKIPPED, error=(
                                "skipped: it depends on a step that can never finish first (a cycle or a later step)")))
                        waiting.clear()
                    continue
                step, evidence, usage = _get(finished)
                running.pop(step.id)
                self.caller_usage.add(usage)
                self._record(done, step, evidence)
        except KeyboardInterrupt:
            self._cancel.set()
            for step in running.values():
                done[step.id] = Evidence(step.id, Status.CANCELLED, error="cancelled by the user")
            for step in waiting:
                done[step.id] = Evidence(step.id, Status.SKIPPED, error="not started: the run was cancelled")
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
            evidence.input = substitute(step.input, done)
            whole, value = sole_reference_value(step.input, done)
            arguments, usage = self.caller.arguments(step, tool, evidence.input, value, whole)
        except (ToolError, LLMError) as exc:
            evidence.error = str(exc)
            return evidence, Usage()
        evidence.arguments = _jsonable(arguments)
        delay = self.backoff
        for attempt in range(1, tool.retries + 2):
            evidence.attempts = attempt
            status, result = _attempt(tool, arguments)
            if status is Status.OK:
                try:
                    evidence.value = _jsonable(result, strict=True)
                    evidence.status = Status.OK
                except ToolError as exc:
                    evidence.error = str(exc)
                return evidence, usage
            evidence.status, evidence.error = status, result
            retryable = status is Status.ERROR and isinstance(getattr(result, "exc", None), _RETRYABLE)
            if not retryable or attempt > tool.retries or self._cancel.is_set():
                evidence.error = str(result)
                return evidence, usage
            time.sleep(delay)
            delay = min(delay * 2, self.max_backoff)
        return evidence, usage


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
    except pydantic_core.PydanticSerializationError:
        if strict:
            raise ToolError(
                f"returned a {type(value).__name__}, which cannot be turned into JSON; "
                "a tool must return text, numbers, lists, dicts, dataclasses or pydantic models"
            ) from None
        return repr(value)


def _skipped(step: Step, failed: list[str], done: dict[str, Evidence]) -> Evidence:
    reasons = []
    for dep in failed:
        if dep in done:
            reasons.append(f"#{dep} {done[dep].status.value}")
        else:
            reasons.append(f"#{dep} is not in the plan")
    return Evidence(step.id, Status.SKIPPED, error="skipped because " + ", ".join(reasons))


def _get(q: queue.Queue) -> Any:
    # A short timeout keeps the main thread responsive to Ctrl-C on every platform.
    while True:
        try:
            return q.get(timeout=0.1)
        except queue.Empty:
            continue


def _in_plan_order(plan: Plan, done: dict[str, Evidence]) -> dict[str, Evidence]:
    return {s.id: done[s.id] for s in plan.steps if s.id in done}
