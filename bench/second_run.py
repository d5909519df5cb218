"""The README's first task in a second CLI invocation: what a user who runs it again waits,
process start and model load included.

    python bench/second_run.py [--model qwen2.5-coder-1.5b] [--repeats 2]

Three settings, each in fresh folders, each run twice (the first fills what the second
reads); the second invocation's wall time is the figure:

    off          no on-disk prefix cache, no memory (FOREPLAN_PREFIX_CACHE=off, --no-memory)
    disk cache   the on-disk prompt-prefix cache (on by default): the planner's static
                 prompt comes from disk
    + memory     also the run store (on by default): the same task reuses its plan

Target (issue 19): ≤ 6 s on 2 cores with both defaults on; the ratio to "off" is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from _results import record  # bench/_results.py: collected by bench/run_all.py

TASK = "How many days are left until the end of this year, and what is that number squared?"


def invoke(model: str, env: dict[str, str], memory: bool) -> tuple[float, dict]:
    command = [sys.executable, "-m", "foreplan.cli", "run", TASK, "--model", model, "--json"]
    if not memory:
        command.append("--no-memory")
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=True)
    return time.perf_counter() - started, json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--repeats", type=int, default=2, help="Pairs of invocations per setting.")
    args = parser.parse_args()
    settings = {"off": (False, False), "disk cache": (True, False), "disk cache + memory": (True, True)}
    seconds: dict[str, list[float]] = {name: [] for name in settings}
    answers: dict[str, list[str]] = {name: [] for name in settings}
    for _ in range(args.repeats):
        for name, (disk, memory) in settings.items():  # alternating, so drift hits all alike
            with tempfile.TemporaryDirectory() as folder:
                env = os.environ | {"FOREPLAN_MEMORY": f"{folder}/runs.sqlite",
                                    "FOREPLAN_PREFIX_CACHE_DIR": f"{folder}/prefix"}
                if not disk:
                    env["FOREPLAN_PREFIX_CACHE"] = "off"
                invoke(args.model, env, memory)
                wall, result = invoke(args.model, env, memory)
                seconds[name].append(wall)
                answers[name].append(result["answer"])
                if memory:
                    assert result["reused_from"] is not None, "the second run did not reuse the plan"
    print("| setting | second invocation, s (each) | mean | ÷ off |")
    print("|---|---|---|---|")
    base = sum(seconds["off"]) / len(seconds["off"])
    for name, values in seconds.items():
        mean = sum(values) / len(values)
        print(f"| {name} | {', '.join(f'{v:.1f}' for v in values)} | {mean:.1f} | {mean / base:.2f} |")
    best = sum(seconds["disk cache + memory"]) / args.repeats
    print(f"\nanswers: {json.dumps(answers, ensure_ascii=False)}")
    print(f"second invocation with both defaults: {best:.1f} s (target ≤ 6 s); off: {base:.1f} s")
    record("second_run", "README task, second invocation: defaults ÷ off", best / base, "≤ 6 s absolute",
           best <= 6.0, f"{best:.1f} s vs {base:.1f} s")
    return 0 if best <= 6.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
