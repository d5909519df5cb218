"""How promptly the worker lets go: of a hung tool at its timeout, of a run at Ctrl-C.

The worker's tests prove the structure (a timeout is recorded, Ctrl-C ends in
``RunCancelled``) but leave out how long it took, which a busy machine makes noisy. This
script measures it, each case against a baseline run in the same process that ends
the same way by itself, so only the worker's own delay shows in the ratio:

    case                 measured run                        baseline run
    timeout              a tool that hangs, timeout T        a tool that sleeps T
    timeout ×8           eight such steps at once            eight sleeps of T at once
    Ctrl-C               SIGINT D after the tool starts      the tool returns D after it starts
    Ctrl-C, threads      … until no thread of the run would hold the interpreter's exit

A ratio up to 1.05 passes; the threads case may take one extra poll of the worker
(0.1 s: it abandons a tool's attempt at its next look at the cancel flag).

Run it as ``python bench/worker_limits.py`` (no pytest). It always exits 0; read the
PASS/FAIL column and the overall line.
"""

from __future__ import annotations

import signal
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

try:
    import foreplan  # noqa: F401
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _results import record  # bench/_results.py: collected by bench/run_all.py

from foreplan.errors import RunCancelled
from foreplan.execute.dag import Worker
from foreplan.tools.tool import Tool, tool
from foreplan.tools.toolkit import Toolkit
from foreplan.types import Plan, Step

RUNS = 5
TARGET = 1.05
TIMEOUT = 0.3
"""T: the hung tool's timeout, and how long the baseline tool sleeps."""
DELAY = 0.55
"""D: seconds after the tool starts when Ctrl-C (or, for the baseline, the tool's return) comes;
not a multiple of the poll, whose phase would otherwise hide it."""
POLL = 0.1  # foreplan.execute.dag._POLL_SECONDS
THREADS_TARGET = round(TARGET + POLL / DELAY, 2)


def blocking_tool(name: str, timeout: float, started: threading.Event, release: threading.Event) -> Tool:
    def block(text: str) -> str:
        """Wait until released.

        Args:
            text: ignored.
        """
        started.set()
        release.wait(60)
        return "released"

    return tool(block, name=name, timeout=timeout)


@tool
def nap(text: str) -> str:
    """Sleep for the number of seconds given.

    Args:
        text: seconds to sleep.
    """
    time.sleep(float(text))
    return "ok"


def plan_of(tool_name: str, text: str, width: int = 1) -> Plan:
    return Plan(tuple(Step(f"E{i + 1}", f"step {i + 1}", tool_name, text) for i in range(width)))


def median_of(run: Callable[[], float]) -> float:
    return statistics.median(run() for _ in range(RUNS))


def timed(worker: Worker, plan: Plan) -> float:
    started = time.perf_counter()
    worker.run(plan)
    return time.perf_counter() - started


def timeout_case(width: int) -> tuple[float, float]:
    """(hung run, sleeping run): seconds until ``Worker.run`` returns."""
    release = threading.Event()
    hang = blocking_tool("hang", TIMEOUT, threading.Event(), release)
    worker = Worker(Toolkit([hang, nap]), max_workers=16)
    try:
        hung = median_of(lambda: timed(worker, plan_of("hang", "x", width)))
    finally:
        release.set()  # the abandoned attempts end now rather than after a minute
    slept = median_of(lambda: timed(worker, plan_of("nap", f"{TIMEOUT}", width)))
    return hung, slept


def exit_holders() -> list[threading.Thread]:
    """The threads an interpreter exit would wait for (the trigger thread is a daemon)."""
    return [t for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()]


def ctrl_c_run(interrupt: bool) -> tuple[float, float]:
    """One run whose tool blocks; D after it starts, SIGINT reaches the main thread (or the
    tool returns). Seconds until ``Worker.run`` ends, and until no thread of it would hold
    the interpreter's exit."""
    started, release = threading.Event(), threading.Event()
    worker = Worker(Toolkit([blocking_tool("block", 30, started, release)]))

    def trigger() -> None:
        if started.wait(10):
            time.sleep(DELAY)
            if interrupt:
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
            else:
                release.set()

    trigger_thread = threading.Thread(target=trigger, daemon=True)
    trigger_thread.start()
    began = time.perf_counter()
    try:
        worker.run(plan_of("block", "x"))
    except RunCancelled:
        pass
    ended = time.perf_counter() - began
    while exit_holders():
        time.sleep(0.001)
    freed = time.perf_counter() - began
    release.set()
    trigger_thread.join()
    return ended, freed


def ctrl_c_case() -> tuple[tuple[float, float], tuple[float, float]]:
    """((cancelled, returned) until the run ends, (cancelled, returned) until its threads end)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    cancelled = [ctrl_c_run(interrupt=True) for _ in range(RUNS)]
    returned = [ctrl_c_run(interrupt=False) for _ in range(RUNS)]

    def med(runs: list[tuple[float, float]], i: int) -> float:
        return statistics.median(r[i] for r in runs)

    return (med(cancelled, 0), med(returned, 0)), (med(cancelled, 1), med(returned, 1))


def main() -> int:
    (cancelled, returned), (cancelled_freed, returned_freed) = ctrl_c_case()
    cases = [
        ("timeout", *timeout_case(1), TARGET),
        ("timeout ×8", *timeout_case(8), TARGET),
        ("Ctrl-C", cancelled, returned, TARGET),
        ("Ctrl-C, threads", cancelled_freed, returned_freed, THREADS_TARGET),
    ]
    rows = []
    for name, measured, baseline, target in cases:
        ratio = measured / baseline
        rows.append((name, f"{measured:.3f}", f"{baseline:.3f}", f"{ratio:.3f}", f"≤ {target}",
                     "PASS" if ratio <= target else "FAIL"))
        record("worker_limits", f"{name}: worker ÷ baseline run", ratio, f"≤ {target}", ratio <= target,
               f"{measured:.3f} s vs {baseline:.3f} s")
    headers = ("case", "measured s", "baseline s", "ratio", "target", "verdict")
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
        for line in (headers, *rows):
            print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)))
    else:
        table = Table(title=f"Worker letting go, T = {TIMEOUT} s, D = {DELAY} s (median of {RUNS} runs)")
        for i, h in enumerate(headers):
            table.add_column(h, justify="left" if i == 0 else "right")
        for r in rows:
            table.add_row(*r[:-1], f"[green]{r[-1]}[/]" if r[-1] == "PASS" else f"[red]{r[-1]}[/]")
        Console().print(table)
    print(f"overall: {'PASS' if all(r[-1] == 'PASS' for r in rows) else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
