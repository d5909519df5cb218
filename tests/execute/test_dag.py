"""The worker runs a plan as a dependency graph: in parallel where it can, in order where
it must, and every failure (timeout, exception, bad result, failed dependency, Ctrl-C)
ends as evidence rather than as an exception out of the run.

The tools are real functions on real threads. Overlap is proven by gauges of how many
tools run at once and by the order of events, never by an upper bound on the time taken
(a busy machine only makes things slower): bench/executor.py measures the makespan and
bench/worker_limits.py how promptly a timeout or Ctrl-C lets go.
"""

from __future__ import annotations

import contextvars
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass

import pydantic
import pytest

from foreplan.errors import ConfigError, RetryableToolError, RunCancelled, ToolError
from foreplan.events import StepFinished, StepStarted
from foreplan.execute.caller import FunctionCaller
from foreplan.execute.dag import Worker, call_tool
from foreplan.plan.parse import parse_plan
from foreplan.tools.tool import Tool, tool
from foreplan.tools.toolkit import Toolkit
from foreplan.types import Plan, Status, Step


def run(tools: list[Tool], plan: str | Plan, **options):
    """Run ``plan`` with ``tools``; (evidence, events, seconds)."""
    events: list = []
    worker = Worker(Toolkit(tools), on_event=events.append, **({"backoff": 0.01} | options))
    started = time.perf_counter()
    evidence = worker.run(parse_plan(plan) if isinstance(plan, str) else plan)
    return evidence, events, time.perf_counter() - started


def steps(*pairs: str) -> str:
    """ReWOO text from ``"E1 = a[x]"`` lines."""
    return "".join(f"Plan: step {line.split()[0]}.\n#{line}\n" for line in pairs)


# --- parallelism and order -------------------------------------------------------------


def test_independent_steps_start_together_and_overlap(sleeper, gauge):
    nap = sleeper("nap", 0.2, gauge)
    evidence, events, seconds = run([nap], steps(*(f"E{i} = nap[{i}]" for i in range(1, 9))), max_workers=8)

    assert [e.value for e in evidence.values()] == [f"nap({i})" for i in range(1, 9)]
    assert gauge.peak == 8  # one wave of eight, not eight in a row
    first_finish = next(i for i, e in enumerate(events) if isinstance(e, StepFinished))
    assert [type(e) for e in events[:first_finish]] == [StepStarted] * 8


def test_max_workers_bounds_concurrency(sleeper, gauge):
    nap = sleeper("nap", 0.1, gauge)
    evidence, _, seconds = run([nap], steps(*(f"E{i} = nap[{i}]" for i in range(1, 7))), max_workers=2)

    assert all(e.ok for e in evidence.values())
    assert gauge.peak == 2
    assert seconds >= 0.3  # three waves of two


def test_chain_runs_in_order_with_substituted_inputs(sleeper):
    tools = [sleeper("a", 0.1), sleeper("b", 0.1), sleeper("c", 0.1)]
    evidence, events, seconds = run(tools, steps("E1 = a[x]", "E2 = b[#E1]", "E3 = c[#E2!]"))

    assert seconds >= 0.3
    assert evidence["E3"].input == "b(a(x))!"
    assert evidence["E3"].value == "c(b(a(x))!)"
    order = [(type(e).__name__, e.step.id) for e in events]
    assert order == [("StepStarted", "E1"), ("StepFinished", "E1"), ("StepStarted", "E2"),
                     ("StepFinished", "E2"), ("StepStarted", "E3"), ("StepFinished", "E3")]


def test_diamond_runs_the_middle_in_parallel(sleeper, gauge):
    tools = [sleeper("a", 0.1, gauge), sleeper("b", 0.15, gauge), sleeper("c", 0.15, gauge), sleeper("d", 0.1, gauge)]
    evidence, _, seconds = run(tools, steps("E1 = a[x]", "E2 = b[#E1]", "E3 = c[#E1]", "E4 = d[#E2 + #E3]"))

    assert evidence["E4"].value == "d(b(a(x)) + c(a(x)))"
    assert gauge.peak == 2  # E2 and E3 overlapped
    assert seconds >= 0.35


def test_evidence_is_in_plan_order_not_finishing_order(sleeper):
    plan = steps("E3 = slow[x]", "E1 = fast[y]", "E10 = fast[#E1]")
    evidence, events, _ = run([sleeper("slow", 0.2), sleeper("fast", 0)], plan)

    assert list(evidence) == ["E3", "E1", "E10"]
    assert [e.step.id for e in events if isinstance(e, StepFinished)] == ["E1", "E10", "E3"]
    assert evidence["E10"].value == "fast(fast(y))"  # #E10 is not #E1 followed by 0


# --- timeouts and retries ---------------------------------------------------------------


def test_timeout_is_recorded_and_not_waited_for(sleeper):
    evidence, _, _ = run([sleeper("hang", 5, timeout=0.2)], steps("E1 = hang[x]"))

    assert evidence["E1"].status is Status.TIMEOUT
    assert "hang timed out after 0.2 s" in evidence["E1"].error


def test_retryable_error_is_retried_until_it_succeeds(flaky):
    fetch, calls = flaky(failures=2, retries=2)
    evidence, _, _ = run([fetch], steps("E1 = fetch[x]"))

    assert evidence["E1"].status is Status.OK and evidence["E1"].value == "fetched"
    assert evidence["E1"].attempts == 3 and calls == ["x"] * 3


def test_exhausted_retries_end_as_error(flaky):
    fetch, calls = flaky(failures=5, retries=2)
    evidence, _, _ = run([fetch], steps("E1 = fetch[x]"))

    assert evidence["E1"].status is Status.ERROR
    assert evidence["E1"].attempts == 3 and len(calls) == 3
    assert evidence["E1"].error == "fetch failed: blip 3"


def test_plain_tool_error_is_not_retried(flaky):
    fetch, calls = flaky(failures=5, exc=ToolError, retries=2)
    evidence, _, _ = run([fetch], steps("E1 = fetch[x]"))

    assert evidence["E1"].status is Status.ERROR and evidence["E1"].attempts == 1 and len(calls) == 1


@pytest.mark.timeout(20)
def test_cancel_stops_the_retries_and_their_backoff():
    cancel = threading.Event()
    calls: list[str] = []

    def fetch(text: str) -> str:
        """Fail in a way worth retrying, as Ctrl-C arrives.

        Args:
            text: what to fetch.
        """
        calls.append(text)
        cancel.set()
        raise RetryableToolError("blip")

    evidence = call_tool(tool(fetch, retries=3), {"text": "x"}, backoff=60, cancel=cancel)

    assert evidence.attempts == 1 and calls == ["x"]  # no second attempt, no 60 s backoff


@tool
def explode(text: str) -> str:
    """Fail the way a buggy tool does.

    Args:
        text: ignored.
    """
    raise RuntimeError("disk on fire")


def test_unexpected_exception_becomes_error_evidence():
    evidence, _, _ = run([explode], steps("E1 = explode[x]"))

    assert evidence["E1"].status is Status.ERROR
    assert evidence["E1"].error == "explode raised RuntimeError: disk on fire. Please try again or use another tool."


class BrokenCaller(FunctionCaller):
    """A function caller with a bug in it (foreplan's own code, not a tool's)."""

    def arguments(self, *args: object, **kwargs: object) -> tuple:
        raise KeyError("no such slot")


def test_our_own_bug_is_logged_with_its_traceback_and_becomes_evidence(sleeper, caplog):
    worker = Worker(Toolkit([sleeper("a", 0)]), BrokenCaller(None))
    with caplog.at_level(logging.ERROR, logger="foreplan.execute.dag"):
        evidence = worker.run(parse_plan(steps("E1 = a[x]", "E2 = a[#E1]")))

    assert evidence["E1"].status is Status.ERROR
    assert evidence["E1"].error == "internal error: KeyError: 'no such slot'"
    assert evidence["E2"].error == "skipped because #E1 error"
    [record] = caplog.records
    assert "#E1" in record.getMessage() and record.exc_info[0] is KeyError


REQUEST = contextvars.ContextVar("REQUEST", default="none")


@tool
def whose(text: str) -> str:
    """Which request this call belongs to.

    Args:
        text: ignored.
    """
    return REQUEST.get()


def test_steps_and_tools_see_the_callers_contextvars():
    token = REQUEST.set("request 7")
    try:
        evidence, _, _ = run([whose], steps("E1 = whose[x]", "E2 = whose[#E1]"))
    finally:
        REQUEST.reset(token)

    assert [e.value for e in evidence.values()] == ["request 7", "request 7"]


# --- failures flow downstream -----------------------------------------------------------


def test_failure_skips_dependants_transitively_but_not_other_branches(sleeper):
    plan = steps("E1 = explode[x]", "E2 = a[#E1]", "E3 = a[#E2]", "E4 = a[free]", "E5 = a[#E4]")
    evidence, events, _ = run([explode, sleeper("a", 0)], plan)

    assert {k: e.status for k, e in evidence.items()} == {
        "E1": Status.ERROR, "E2": Status.SKIPPED, "E3": Status.SKIPPED, "E4": Status.OK, "E5": Status.OK}
    assert evidence["E2"].error == "skipped because #E1 error"
    assert evidence["E3"].error == "skipped because #E2 skipped; root cause: #E1 error"
    assert {e.step.id for e in events if isinstance(e, StepStarted)} == {"E1", "E4", "E5"}


@pytest.mark.parametrize("make", [object, threading.Lock], ids=["object", "lock"])
def test_unserializable_result_becomes_error_evidence(make):
    def odd(text: str) -> object:
        """Return something JSON cannot hold.

        Args:
            text: ignored.
        """
        return make()

    evidence, _, _ = run([tool(odd)], steps("E1 = odd[x]"))

    assert evidence["E1"].status is Status.ERROR
    assert "cannot be serialized to JSON" in evidence["E1"].error


@dataclass
class Film:
    Title: str
    Year: int


@dataclass
class Films:
    rows: list[Film]


class Person(pydantic.BaseModel):
    name: str
    born: int


@tool
def find_films(query: str) -> Films:
    """Films matching a query.

    Args:
        query: words to look for.
    """
    return Films([Film("Inception", 2010), Film("Tenet", 2020)])


@tool
def director(film: str) -> Person:
    """The director of a film.

    Args:
        film: the film's title.
    """
    return Person(name=f"Nolan of {film}", born=1970)


def test_structured_results_become_dicts_and_fields_substitute():
    plan = steps("E1 = find_films[nolan]", "E2 = director[#E1.rows[1].Title]", "E3 = director[#E2.born]")
    evidence, _, _ = run([find_films, director], plan)

    assert evidence["E1"].value == {"rows": [{"Title": "Inception", "Year": 2010}, {"Title": "Tenet", "Year": 2020}]}
    assert evidence["E2"].input == "Tenet"
    assert evidence["E2"].value == {"name": "Nolan of Tenet", "born": 1970}
    assert evidence["E3"].value["name"] == "Nolan of 1970"  # a number into a text parameter


def test_bad_field_path_is_error_evidence_listing_the_fields():
    evidence, _, _ = run([find_films, director], steps("E1 = find_films[x]", "E2 = director[#E1.rows[0].Name]"))

    assert evidence["E2"].status is Status.ERROR
    assert evidence["E2"].error == "#E1.rows[0].Name: #E1.rows[0] has no field 'Name' (fields: Title, Year)"


@pytest.mark.timeout(10)
def test_cycle_and_undefined_reference_are_skipped_not_awaited(sleeper):
    plan = Plan((Step("E1", "", "a", "#E2"), Step("E2", "", "a", "#E1"), Step("E3", "", "a", "#E9"),
                 Step("E4", "", "a", "fine")))
    evidence, _, _ = run([sleeper("a", 0)], plan)

    assert [e.status for e in evidence.values()] == [Status.SKIPPED] * 3 + [Status.OK]
    assert "#E2" in evidence["E1"].error and "cycle" in evidence["E1"].error
    assert evidence["E3"].error == "skipped because #E9 is not in the plan"


def test_duplicate_step_id_does_not_break_the_run(sleeper):
    evidence, events, _ = run([sleeper("a", 0)], steps("E1 = a[first]", "E1 = a[second]", "E2 = a[#E1]"))

    assert evidence["E2"].value == "a(a(first))"
    assert sum(isinstance(e, StepFinished) for e in events) == 3


def test_max_workers_below_one_is_refused():
    with pytest.raises(ConfigError, match="max_workers must be at least 1"):
        Worker(Toolkit(), max_workers=0)


# --- Ctrl-C ------------------------------------------------------------------------------


@pytest.mark.parametrize("send", ["pthread_kill", "kill"])
@pytest.mark.timeout(20)
def test_ctrl_c_cancels_running_steps_and_skips_waiting_ones(sleeper, flaky, release, default_sigint, send):
    entered, returned = threading.Event(), threading.Event()

    def block(text: str) -> str:
        """Wait until released.

        Args:
            text: ignored.
        """
        entered.set()
        release.wait(10)
        returned.set()
        return "late"

    def interrupt() -> None:
        if entered.wait(10):  # the tool is running, so E2 has started and E3 waits for it
            if send == "pthread_kill":
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
            else:
                os.kill(os.getpid(), signal.SIGINT)

    fetch, calls = flaky(failures=2, retries=2)
    events: list = []
    worker = Worker(Toolkit([sleeper("quick", 0), tool(block), fetch]), backoff=0.01, on_event=events.append)
    killer = threading.Thread(target=interrupt)
    before = set(threading.enumerate())
    killer.start()
    try:
        with pytest.raises(RunCancelled) as info:
            worker.run(parse_plan(steps("E1 = quick[x]", "E2 = block[#E1]", "E3 = quick[#E2]")))
    except KeyboardInterrupt:  # pragma: no cover - would mean the worker let Ctrl-C escape
        pytest.fail("KeyboardInterrupt escaped the worker instead of RunCancelled")
    finally:
        killer.join()

    partial = info.value.partial
    assert list(partial) == ["E1", "E2", "E3"]
    assert [e.status for e in partial.values()] == [Status.OK, Status.CANCELLED, Status.SKIPPED]
    assert partial["E3"].error == "not started: the run was cancelled"
    assert [(e.step.id, e.evidence.status) for e in events if isinstance(e, StepFinished)][-2:] == [
        ("E2", Status.CANCELLED), ("E3", Status.SKIPPED)]

    # No step thread stays to wait for the blocked tool (an interpreter exit would wait for
    # it): the attempt was abandoned while the tool still runs.
    for thread in set(threading.enumerate()) - before:
        if thread.name.startswith("foreplan-step"):
            thread.join()
    assert not returned.is_set()

    # The same worker runs the next plan normally: the cancellation does not stick.
    evidence = worker.run(parse_plan(steps("E1 = fetch[again]")))
    assert evidence["E1"].ok and evidence["E1"].attempts == 3
