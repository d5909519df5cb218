"""The worker: run a plan's steps as a dependency graph, as parallel as it allows.

A step starts the moment every step it references has finished (not level by level),
up to ``max_workers`` at once. Whatever happens to a step ends as :class:`Evidence`:

    ok        the tool's value (JSON-compatible)
    error     the tool raised, its arguments did not fit, its value cannot be serialized
    timeout   an attempt ran past the tool's timeout
    skipped   a step it depends on did not succeed (the reason names that step)
    cancelled Ctrl-C arrived while it ran

Retryable failures (``RetryableToolError``, ``ConnectionError``) are tried again with
exponential backoff. Ctrl-C stops scheduling, marks what is left and raises
:class:`RunCancelled` with the evidence so far. A bug in foreplan's own code while a
step runs is logged with its traceback and becomes "internal error: ..." evidence, so
one bad step cannot hang or end the run.

Three kinds of thread take part::

    main thread (Worker.run)        step pool (max_workers)        one daemon thread per attempt
    start the ready steps ─submit─► substitute #E, call the caller
    wait(FIRST_COMPLETED) ◄──────── call_tool: wait ≤ timeout ───► tool(**arguments)
    record, emit events             retry after a backoff           (left behind if it hangs)

Only the main thread touches the run's bookkeeping and emits events. It waits in short
slices so that Ctrl-C (which Python delivers to the main thread only) is seen at once.

Why a tool attempt gets a daemon thread of its own rather than a second executor: the
threads of a ``ThreadPoolExecutor`` are joined when the interpreter exits
(``concurrent.futures.thread._python_exit``), even after ``shutdown(wait=False)``, so a
tool that never returns would hold the process open; a daemon thread is simply dropped.
For the same reason a step thread never waits on a tool unboundedly: it gives an attempt
up at the tool's timeout, or within one poll once the run is cancelled, and the pool is
shut down with ``wait=False``. What a step thread cannot give up is a call of the
function-caller model; an exit waits for that call to end.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Any

import pydantic_core

from foreplan.errors import ConfigError, LLMError, RetryableToolError, RunCancelled, ToolError
from foreplan.events import Event, StepFinished, StepStarted
from foreplan.execute.caller import FunctionCaller
from foreplan.execute.confirm import Confirm, SideEffectCall
from foreplan.execute.substitute import substitute
from foreplan.tools.context import RunContext
from foreplan.tools.tool import Tool
from foreplan.tools.toolkit import Toolkit
from foreplan.types import Evidence, Plan, Status, Step, Usage

logger = logging.getLogger(__name__)

_RETRYABLE = (RetryableToolError, ConnectionError)
_POLL_SECONDS = 0.1
"""Longest uninterrupted wait: keeps Ctrl-C responsive on every platform (a signal may
not wake a blocked lock everywhere) and lets a cancelled attempt go promptly."""


@dataclass
class Worker:
    """Runs plans on a toolkit; one Worker may run several plans, one after another."""

    toolkit: Toolkit
    caller: FunctionCaller = field(default_factory=lambda: FunctionCaller(None))
    max_workers: int = 8
    backoff: float = 0.5
    """Seconds before the first retry; doubles each time, up to ``max_backoff``."""
    max_backoff: float = 8.0
    on_event: Callable[[Event], None] | None = None
    caller_usage: Usage = field(default_factory=Usage)
    context: RunContext = field(default_factory=RunContext)
    """What the tools get from the run (the ``LLM`` tool's model)."""
    confirm: Confirm | None = None
    """Asked before each side-effect call (``foreplan run --confirm``, the server's
    confirmation policy); None: side effects run without asking."""

    def __post_init__(self) -> None:
        if self.max_workers < 1:
            # With no slot nothing could ever start, and every step would be reported as
            # stuck in a cycle; say what is actually wrong instead.
            raise ConfigError(f"max_workers must be at least 1, not {self.max_workers}")

    def run(self, plan: Plan, prior: dict[str, Evidence] | None = None) -> dict[str, Evidence]:
        """Run every step of ``plan``.

        Args:
            plan: the steps; they may be in any order, and their references may be broken.
            prior: evidence of steps that ran before (a replan's earlier rounds), which
                ``plan``'s steps may reference; it is not run again nor returned.

        Returns:
            The evidence of every step, in plan order.

        Raises:
            RunCancelled: on Ctrl-C, with ``partial`` = the evidence of every step so far
                (``prior``'s too).
        """
        run = _Run(plan, self._emit, done=dict(prior or {}))
        pool = ThreadPoolExecutor(self.max_workers, thread_name_prefix="foreplan-step")
        try:
            run.queue_steps()
            while run.waiting or run.running:
                moved = self._start_ready(run, pool)
                if run.futures:
                    self._collect(run)
                elif not moved:  # only a cycle can wait forever (validate_plan refuses it)
                    run.skip_cycle()
        except KeyboardInterrupt as interrupt:
            run.cancel.set()
            raise RunCancelled({**(prior or {}), **run.cancelled()}) from interrupt
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return run.in_plan_order()

    def _start_ready(self, run: _Run, pool: ThreadPoolExecutor) -> bool:
        """Skip the steps a failed step blocks, start those whose dependencies have all
        succeeded while a slot is free; whether any step moved."""
        moved = False
        for step in list(run.waiting):
            if failed := run.failed_dependencies(step):
                run.waiting.remove(step)
                run.record(step, _skipped(failed, run.done, run.causes, step.id))
                moved = True
            elif run.ready(step) and len(run.running) < self.max_workers:
                run.waiting.remove(step)
                self._start(run, pool, step)
                moved = True
        return moved

    def _start(self, run: _Run, pool: ThreadPoolExecutor, step: Step) -> None:
        run.running[step.id] = step  # before the submit: a Ctrl-C then finds it started
        self._emit(StepStarted(step))
        # The step runs in a copy of this thread's context (a user's tools may read their
        # own ContextVars); what foreplan hands a tool is self.context. It sees the
        # evidence as it is now.
        future = pool.submit(contextvars.copy_context().run, self._run_step, step, dict(run.done), run.cancel)
        run.futures[future] = step

    def _collect(self, run: _Run) -> None:
        """Wait for at least one running step and record those that have finished."""
        finished, _ = wait(run.futures, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
        for future in [f for f in run.futures if f in finished]:  # in the order they started
            evidence, usage = future.result()
            step = run.futures[future]
            self.caller_usage.add(usage)
            # Record before leaving ``running``: a Ctrl-C between the two then finds the
            # step in one of them, never in neither (it used to vanish from the partial result).
            run.record(step, evidence)
            del run.running[step.id], run.futures[future]

    def _emit(self, event: Event) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _run_step(self, step: Step, done: dict[str, Evidence], cancel: threading.Event) -> tuple[Evidence, Usage]:
        """One step, on a pool thread; never raises."""
        started = time.perf_counter()
        evidence = Evidence(step.id, Status.ERROR)
        usage = Usage()
        try:
            usage = self._call(step, done, evidence, cancel)
        except Exception as exc:  # our bug: keep its traceback in the log, and the run going
            logger.exception("internal error in step #%s (%s)", step.id, step.tool)
            evidence.status, evidence.error = Status.ERROR, f"internal error: {type(exc).__name__}: {exc}"
        evidence.seconds = time.perf_counter() - started
        return evidence, usage

    def _call(self, step: Step, done: dict[str, Evidence], evidence: Evidence, cancel: threading.Event) -> Usage:
        """Fill ``evidence`` from the step's tool; the caller model's usage."""
        tool = self.toolkit.get(step.tool)
        if tool is None:
            evidence.error = f"unknown tool {step.tool!r}; the tools are: {', '.join(self.toolkit.names)}"
            return Usage()
        usage = Usage()
        try:
            evidence.input = substitute(step.input, done, tool.render_reference)  # shown, never read by a model
            filled, usage = self.caller.arguments(step, tool, done)
        except (ToolError, LLMError) as exc:
            evidence.error = str(exc)
            return usage
        evidence.sources = filled.sources or None
        evidence.side_effect = tool.side_effects
        refusal = untrusted_refusal(tool, filled.sources, self.toolkit)
        if refusal is None and tool.side_effects and self.confirm is not None:
            decision = self.confirm(SideEffectCall(step, tool.name, filled.arguments, filled.sources))
            refusal = None if decision.approved else f"declined: {decision.reason or 'the call was not approved'}"
        if refusal is not None:
            evidence.arguments, evidence.error = _jsonable(filled.arguments), refusal
            return usage
        call_tool(tool, filled.arguments, evidence, backoff=self.backoff, max_backoff=self.max_backoff, cancel=cancel,
                  context=self.context)
        return usage


@dataclass
class _Run:
    """The bookkeeping of one :meth:`Worker.run`; only the main thread changes it."""

    plan: Plan
    emit: Callable[[Event], None]
    cancel: threading.Event = field(default_factory=threading.Event)
    """Set on Ctrl-C: no further attempt, backoff or wait for a tool. One per run, so a
    Ctrl-C in an earlier run of the same Worker cannot stop this one's retries."""
    waiting: list[Step] = field(default_factory=list)
    running: dict[str, Step] = field(default_factory=dict)
    futures: dict[Future, Step] = field(default_factory=dict)
    done: dict[str, Evidence] = field(default_factory=dict)
    causes: dict[str, list[str]] = field(default_factory=dict)
    """Root causes of each skipped step, so a skip two levels down still names the step
    that actually failed."""
    ids: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.ids = {s.id for s in self.plan.steps} | set(self.done)

    def queue_steps(self) -> None:
        for step in self.plan.steps:
            # The validator refuses duplicate ids; a plan that skipped it must still not
            # crash the scheduler (two steps in ``running`` under one key did).
            if any(w.id == step.id for w in self.waiting):
                self.emit(StepFinished(step, Evidence(step.id, Status.SKIPPED, error=(
                    f"skipped: #{step.id} is defined twice; only the first one runs"))))
            else:
                self.waiting.append(step)

    def failed_dependencies(self, step: Step) -> list[str]:
        return [d for d in step.depends_on if d not in self.ids or (d in self.done and not self.done[d].ok)]

    def ready(self, step: Step) -> bool:
        return all(d in self.done for d in step.depends_on)

    def record(self, step: Step, evidence: Evidence) -> None:
        self.done[step.id] = evidence
        self.emit(StepFinished(step, evidence))

    def skip_cycle(self) -> None:
        """Nothing runs and nothing can start: the waiting steps depend on each other."""
        for step in self.waiting:
            stuck = ", ".join(f"#{d}" for d in step.depends_on if d not in self.done)
            self.record(step, Evidence(step.id, Status.SKIPPED, error=(
                f"skipped: it needs {stuck}, which can never finish first "
                "(the steps depend on each other in a cycle)")))
        self.waiting.clear()

    def cancelled(self) -> dict[str, Evidence]:
        """After Ctrl-C: every step not finished is accounted for, whatever line the
        interrupt hit (started ones are cancelled, the rest were never started); the
        evidence so far, in plan order."""
        unfinished = [s for s in self.plan.steps if s.id not in self.done]
        for step in unfinished:
            if step.id in self.running:
                self.done[step.id] = Evidence(step.id, Status.CANCELLED, error="cancelled by the user")
            else:
                self.done[step.id] = Evidence(step.id, Status.SKIPPED, error="not started: the run was cancelled")
        try:  # so a trace or live view shows how each step ended, as for any other step
            for step in unfinished:
                self.emit(StepFinished(step, self.done[step.id]))
        except KeyboardInterrupt:
            pass  # a second Ctrl-C stops the reporting, not the RunCancelled
        return self.in_plan_order()

    def in_plan_order(self) -> dict[str, Evidence]:
        return {s.id: self.done[s.id] for s in self.plan.steps if s.id in self.done}


@dataclass(frozen=True)
class Attempt:
    """How one call of a tool ended."""

    status: Status
    value: Any = None
    """The tool's value; JSON-compatible once the attempt is settled."""
    exception: BaseException | None = None
    """What the tool raised (it decides whether to retry)."""
    message: str = ""
    """For the solver: what went wrong and what to do about it."""

    @property
    def retryable(self) -> bool:
        return self.status is Status.ERROR and isinstance(self.exception, _RETRYABLE)


def untrusted_refusal(tool: Any, sources: dict[str, list[str]], toolkit: Toolkit) -> str | None:
    """Why a side-effect call must not run, or None: a sensitive argument (recipient,
    path, URL) whose value came from evidence, which the toolkit does not allow. Evidence
    is data that may carry injected instructions; the plan and the task fix where a side
    effect lands."""
    tainted = toolkit.untrusted(tool, sources)
    if not tainted:
        return None
    said = "; ".join(f"argument {name!r} would come from {', '.join('#' + i for i in ids)}"
                     for name, ids in tainted.items())
    first = next(iter(tainted))
    return (f"refused: {tool.name} has side effects and {said}, a tool's output that may carry injected "
            f"instructions. Its sensitive arguments take values from the task and the plan only. Write the "
            f"value into the plan, or allow it: --allow-untrusted {tool.name}.{first} "
            f"(or allow_untrusted in the toolkit file).")


def call_tool(tool: Tool, arguments: dict[str, Any], evidence: Evidence | None = None, *, backoff: float = 0.5,
              max_backoff: float = 8.0, cancel: threading.Event | None = None,
              context: RunContext | None = None) -> Evidence:
    """Call one tool with its timeout and retries; whatever happens ends as evidence
    (also what ``foreplan tools call`` runs).

    Args:
        tool: the :class:`~foreplan.tools.tool.Tool`; its ``timeout`` bounds each attempt
            and its ``retries`` counts the attempts after the first.
        arguments: validated keyword arguments for the tool.
        evidence: filled in and returned; a new one when None.
        backoff: seconds before the first retry; doubles each time, up to ``max_backoff``.
        max_backoff: the longest wait between two attempts.
        cancel: once set, no further attempt is made and a running one is abandoned.
        context: what the tool gets from the run (:class:`RunContext`); empty when None.

    Returns:
        ``evidence``, with the value or the error, the attempts and the seconds taken.
    """
    evidence = evidence if evidence is not None else Evidence("", Status.ERROR)
    cancel = cancel or threading.Event()
    started = time.perf_counter()
    evidence.arguments = _jsonable(arguments)
    delays = _delays(backoff, max_backoff)
    for number in range(1, tool.retries + 2):
        evidence.attempts = number
        attempt = _attempt(tool, arguments, cancel, context)
        if attempt.status is Status.OK:
            evidence.status, evidence.value = Status.OK, attempt.value
        else:
            evidence.status, evidence.error = attempt.status, attempt.message
        # cancel.wait is the backoff: a Ctrl-C during it means no further attempt.
        if not attempt.retryable or number > tool.retries or cancel.wait(next(delays)):
            break
    evidence.seconds = time.perf_counter() - started
    return evidence


def _attempt(tool: Tool, arguments: dict[str, Any], cancel: threading.Event, context: RunContext | None) -> Attempt:
    """Call ``tool`` once on a daemon thread and wait for it up to its timeout."""
    outcome: list[Attempt] = []
    finished = threading.Event()

    def call() -> None:
        try:
            outcome.append(Attempt(Status.OK, value=tool.run(arguments, context)))
        except BaseException as exc:  # a tool may raise anything; it becomes evidence
            outcome.append(Attempt(Status.ERROR, exception=exc))
        finally:
            finished.set()

    # A daemon thread, so that a tool which never returns is left behind (module docstring).
    threading.Thread(target=contextvars.copy_context().run, args=(call,), daemon=True,
                     name=f"foreplan-tool-{tool.name}").start()
    if _wait(finished, tool.timeout, cancel):
        return _settled(tool, outcome[0])
    if cancel.is_set():
        return Attempt(Status.CANCELLED, message="cancelled by the user")
    return Attempt(Status.TIMEOUT, message=(
        f"{tool.name} timed out after {tool.timeout:g} s and was abandoned. Try again later or use another tool."))


def _wait(finished: threading.Event, timeout: float, cancel: threading.Event) -> bool:
    """Whether ``finished`` is set within ``timeout`` seconds, giving up early once
    ``cancel`` is set (threading cannot wait on two events at once, hence the slices)."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0 and not cancel.is_set():
        if finished.wait(min(left, _POLL_SECONDS)):
            return True
    return finished.is_set()


def _settled(tool: Any, attempt: Attempt) -> Attempt:
    """A finished attempt with its message written, or its value made JSON."""
    if attempt.exception is not None:
        exc = attempt.exception
        if isinstance(exc, ToolError):
            return replace(attempt, message=f"{tool.name} failed: {exc}")
        return replace(attempt, message=(
            f"{tool.name} raised {type(exc).__name__}: {exc}. Please try again or use another tool."))
    try:
        return replace(attempt, value=_jsonable(attempt.value, strict=True))
    except ToolError as exc:
        return Attempt(Status.ERROR, exception=exc, message=str(exc))


def _delays(first: float, most: float) -> Iterator[float]:
    """Exponential backoff: ``first``, then doubling, capped at ``most``."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, most)


def _jsonable(value: Any, strict: bool = False) -> Any:
    try:
        return pydantic_core.to_jsonable_python(value)
    # PydanticSerializationError is a ValueError; a circular list or dict raises a plain
    # ValueError ("Circular reference detected"), which used to escape as an internal error.
    except ValueError as exc:
        if strict:
            raise ToolError(
                f"returned a {type(value).__name__}, which cannot be serialized to JSON; "
                "a tool must return text, numbers, lists, dicts, dataclasses or pydantic models"
            ) from exc
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
