"""Where a user's time goes on the CPU, with foreplan's optimizations on and off.

    python bench/latency.py [--model qwen2.5-coder-1.5b] [--tasks 5]

1. Time to the first plan token, cold (nothing cached) vs warm (the planner's static
   prefix cached by an earlier plan for another task). Target: warm ≤ 0.4 × cold.
2. Whole agent runs on fixed tasks, optimizations off (llama-cpp-python's own grammar
   sampler and its last-prompt-only reuse) vs on (prefix cache + fast constrained
   decoding). Target: on ≤ 0.5 × off.
3. Peak RSS of the process with the planner/solver and the caller model loaded.

Ratios are taken within this one run; the machine is noisy, absolute times drift.
"""

from __future__ import annotations

import argparse
import resource
import time

from _results import record  # bench/_results.py: collected by bench/run_all.py

from foreplan.agent import Agent
from foreplan.llm.base import Constraint, GenerationOptions
from foreplan.llm.llamacpp import LlamaCppLLM
from foreplan.llm.registry import DEFAULT_CALLER, get_model, pull
from foreplan.plan.grammar import plan_grammar
from foreplan.plan.planner import Planner
from foreplan.tools import default_toolkit

TASKS = [
    "How many days are left until the end of this year, and what is that number squared?",
    "What is 17% of 2,340, rounded to the nearest whole number?",
    "What time is it in Tokyo right now, and what weekday is it there?",
    "What is the square root of 1764, plus the current year?",
    "Name the largest planet in the solar system and compute 11 to the power of 4.",
]


def first_token_seconds(llm: LlamaCppLLM, task: str) -> float:
    toolkit = default_toolkit()
    options = GenerationOptions(max_tokens=1, constraint=Constraint(grammar=plan_grammar(toolkit, 6)))
    started = time.perf_counter()
    llm.generate(Planner(llm, toolkit).prompt(task), options)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--tasks", type=int, default=5)
    args = parser.parse_args()
    path = pull(get_model(args.model))
    on, off = LlamaCppLLM(path), LlamaCppLLM(path, fast_grammar=False, prefix_cache=False)

    # 1. First plan token: cold, then warm after a plan for another task.
    on.llama.reset()
    cold = first_token_seconds(off, TASKS[0])
    first_token_seconds(on, TASKS[1])  # caches the planner's static prefix
    on.generate([{"role": "user", "content": "An unrelated prompt in between."}], GenerationOptions(max_tokens=2))
    warm = first_token_seconds(on, TASKS[2])

    # 2. Whole runs, off then on.
    tasks = TASKS[: args.tasks]
    times: dict[str, list[float]] = {"off": [], "on": []}
    answers: dict[str, list[str]] = {"off": [], "on": []}
    for label, llm in (("off", off), ("on", on)):
        llm.llama.reset()
        for task in tasks:
            result = Agent(llm, default_toolkit(), max_steps=6).run(task)
            times[label].append(result.seconds)
            answers[label].append(result.answer)

    # 3. Peak RSS with the caller model loaded too.
    caller = LlamaCppLLM(pull(get_model(DEFAULT_CALLER)))
    caller.generate([{"role": "user", "content": "{}"}], GenerationOptions(max_tokens=2))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    ratio_first = warm / cold
    ratio_runs = sum(times["on"]) / sum(times["off"])
    same = sum(a == b for a, b in zip(answers["on"], answers["off"]))
    print(f"model: {args.model}")
    print(f"{'measure':<34} {'off / cold':>10} {'on / warm':>10} {'ratio':>6}  target")
    print(f"{'first plan token (s)':<34} {cold:>10.2f} {warm:>10.2f} {ratio_first:>6.2f}  ≤ 0.4 {'PASS' if ratio_first <= 0.4 else 'FAIL'}")
    print(f"{f'{len(tasks)} agent runs (s)':<34} {sum(times['off']):>10.1f} {sum(times['on']):>10.1f} {ratio_runs:>6.2f}  ≤ 0.5 {'PASS' if ratio_runs <= 0.5 else 'FAIL'}")
    for task, t_off, t_on in zip(tasks, times["off"], times["on"]):
        print(f"  {task[:60]:<60} {t_off:6.1f} {t_on:6.1f}")
    print(f"same answers on and off: {same}/{len(tasks)}")
    print(f"peak RSS, planner/solver + caller loaded: {peak_mb:,.0f} MB")
    record("latency", f"first plan token, warm ÷ cold ({args.model})", ratio_first, "≤ 0.4", ratio_first <= 0.4,
           f"{warm:.2f} s vs {cold:.2f} s")
    record("latency", f"{len(tasks)} agent runs, optimizations on ÷ off", ratio_runs, "≤ 0.5", ratio_runs <= 0.5,
           f"{sum(times['on']):.1f} s vs {sum(times['off']):.1f} s; same answers {same}/{len(tasks)}; "
           f"peak RSS {peak_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
