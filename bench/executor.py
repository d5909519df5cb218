"""How close the worker comes to the ideal schedule: makespan against critical path.

With enough workers, a DAG of sleeping steps can finish no sooner than its critical
path (the longest chain of durations). Everything above that is the scheduler's own
overhead: thread starts, queue hand-offs, substitution, events. This script runs
several shapes with steps of known duration and prints, for each, the critical path,
the median makespan over a few runs and their ratio; a ratio up to 1.05 passes.

    wide           E1 … E8, all independent
    chain          E1 → E2 → E3 → E4 → E5
    diamond        E1 → (E2, E3) → E4
    two chains     a chain of 2 beside a chain of 4 (the long one decides)
    fan-out/in     E1 → six parallel steps → E8
    random-N       random DAGs from a fixed seed

Run it as ``python bench/executor.py`` (no pytest). It always exits 0; read the
PASS/FAIL column and the overall line.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

try:
    import foreplan  # noqa: F401
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _results import record  # bench/_results.py: collected by bench/run_all.py

from foreplan.execute.dag import Worker
from foreplan.tools.tool import tool
from foreplan.tools.toolkit import Toolkit
from foreplan.types import Plan, Step

RUNS = 3
TARGET = 1.05
SEED = 20261125


@tool
def nap(text: str) -> str:
    """Sleep for the number of seconds the input starts with.

    Args:
        text: seconds to sleep, then (after substitution) the results it depends on.
    """
    time.sleep(float(text.split()[0]))
    return "ok"


@dataclass(frozen=True)
class Shape:
    name: str
    durations: list[float]
    deps: list[list[int]]
    """For each step, the indexes of the earlier steps it needs."""

    def plan(self) -> Plan:
        return Plan(tuple(
            Step(f"E{i + 1}", f"step {i + 1}", "nap",
                 " ".join([f"{d:.3f}"] + [f"#E{j + 1}" for j in self.deps[i]]))
            for i, d in enumerate(self.durations)
        ))

    def critical_path(self) -> float:
        finish: list[float] = []
        for i, d in enumerate(self.durations):  # steps are listed in topological order
            finish.append(d + max((finish[j] for j in self.deps[i]), default=0.0))
        return max(finish)


def shapes() -> list[Shape]:
    out = [
        Shape("wide", [0.2] * 8, [[] for _ in range(8)]),
        Shape("chain", [0.1] * 5, [[]] + [[i] for i in range(4)]),
        Shape("diamond", [0.1, 0.15, 0.1, 0.1], [[], [0], [0], [1, 2]]),
        Shape("two chains", [0.1, 0.1, 0.1, 0.1, 0.1, 0.1], [[], [0], [], [2], [3], [4]]),
        Shape("fan-out/in", [0.1] + [0.15] * 6 + [0.1], [[]] + [[0]] * 6 + [list(range(1, 7))]),
    ]
    rng = random.Random(SEED)
    for n in (8, 10, 12):
        durations = [rng.choice((0.05, 0.1, 0.15, 0.2)) for _ in range(n)]
        deps = [sorted(rng.sample(range(i), k=min(i, rng.randint(0, 3)))) for i in range(n)]
        out.append(Shape(f"random-{n}", durations, deps))
    return out


def measure(shape: Shape) -> tuple[float, bool]:
    """Median makespan over RUNS runs, and whether every step succeeded."""
    worker = Worker(Toolkit([nap]), max_workers=16)
    plan = shape.plan()
    times, all_ok = [], True
    for _ in range(RUNS):
        started = time.perf_counter()
        evidence = worker.run(plan)
        times.append(time.perf_counter() - started)
        all_ok = all_ok and all(e.ok for e in evidence.values())
    return statistics.median(times), all_ok


def main() -> int:
    rows = []
    for shape in shapes():
        makespan, all_ok = measure(shape)
        critical = shape.critical_path()
        ratio = makespan / critical
        verdict = "PASS" if all_ok and ratio <= TARGET else ("FAIL (step failed)" if not all_ok else "FAIL")
        rows.append((shape.name, str(len(shape.durations)), f"{critical:.3f}", f"{makespan:.3f}",
                     f"{ratio:.3f}", verdict))
    headers = ("shape", "steps", "critical path s", "makespan s", "ratio", f"≤ {TARGET}")
    overall = "PASS" if all(r[-1] == "PASS" for r in rows) else "FAIL"
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
        for line in (headers, *rows):
            print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)))
    else:
        table = Table(title=f"Worker makespan vs critical path (median of {RUNS} runs)")
        for i, h in enumerate(headers):
            table.add_column(h, justify="left" if i == 0 else "right")
        for r in rows:
            table.add_row(*r[:-1], f"[green]{r[-1]}[/]" if r[-1] == "PASS" else f"[red]{r[-1]}[/]")
        Console().print(table)
    print(f"overall: {overall}")
    worst = max(rows, key=lambda r: float(r[4]))
    record("executor", f"makespan ÷ critical path, worst of {len(rows)} shapes", float(worst[4]), f"≤ {TARGET}",
           overall == "PASS", f"{worst[0]}: {worst[3]} s vs {worst[2]} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
