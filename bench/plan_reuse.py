"""A repeated task on the same tools reuses its stored plan (memory.py): how much sooner
does its first step start, and is its answer the same?

    python bench/plan_reuse.py [--model qwen2.5-coder-1.5b] [--tasks 3]

For each task: a run that plans (memory empty for it), then the same task again, which
reuses the plan. Time to first step is from the run's start to its first
``step_started`` event; both runs use the same warm model in this one process, so the
planner's static prompt prefix is already cached for the first run too. Target: reused
≤ 0.3 × planned, with the same answers (deterministic tools, greedy decoding).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _results import record  # bench/_results.py: collected by bench/run_all.py

from foreplan.agent import Agent
from foreplan.events import RunStarted, StepStarted
from foreplan.llm.llamacpp import LlamaCppLLM
from foreplan.llm.registry import get_model, pull
from foreplan.memory import RunMemory
from foreplan.tools import Toolkit, calculator

TASKS = [
    "What is 37 times 41, minus 517?",
    "What is 17% of 2,340, rounded to the nearest whole number?",
    "What is the square root of 1764, plus 58?",
    "What is 12 to the power of 3, divided by 8?",
]


def time_to_first_step(agent: Agent, task: str) -> tuple[float, str, int | None]:
    marks: dict[str, float] = {}

    def on_event(event: object) -> None:
        if isinstance(event, RunStarted):
            marks["start"] = time.perf_counter()
        elif isinstance(event, StepStarted) and "step" not in marks:
            marks["step"] = time.perf_counter()

    result = agent.run(task, on_event=on_event)
    return marks["step"] - marks["start"], result.answer, result.reused_from


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--tasks", type=int, default=3)
    args = parser.parse_args()
    llm = LlamaCppLLM(pull(get_model(args.model)))
    with tempfile.TemporaryDirectory() as folder:
        agent = Agent(llm, Toolkit([calculator]), memory=RunMemory(Path(folder) / "runs.sqlite"), max_replans=0)
        agent.run("What is 2 plus 2?")  # warms the model and caches the planner's static prefix
        rows = []
        for task in TASKS[: args.tasks]:
            planned, first_answer, _ = time_to_first_step(agent, task)
            reused, second_answer, reused_from = time_to_first_step(agent, task)
            rows.append((task, planned, reused, reused_from is not None, first_answer == second_answer))
    print("| task | planned: s to first step | reused: s to first step | reused ÷ planned | plan reused | "
          "same answer |")
    print("|---|---|---|---|---|---|")
    for task, planned, reused, was_reused, same in rows:
        print(f"| {task} | {planned:.2f} | {reused:.3f} | {reused / planned:.3f} | {was_reused} | {same} |")
    ratio = sum(r[2] for r in rows) / sum(r[1] for r in rows)
    all_reused, all_same = all(r[3] for r in rows), all(r[4] for r in rows)
    passed = ratio <= 0.3 and all_reused and all_same
    print(f"\nreused ÷ planned, time to first step over {len(rows)} tasks: {ratio:.3f} (target ≤ 0.3); "
          f"every plan reused: {all_reused}; every answer the same: {all_same}")
    record("plan_reuse", "time to first step, reused ÷ planned", ratio, "≤ 0.3", passed,
           f"{len(rows)} tasks, plans reused {all_reused}, answers the same {all_same}")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
