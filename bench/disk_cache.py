"""First plan token in a freshly started process: with the on-disk prefix cache vs cold.

    python bench/disk_cache.py [--model qwen2.5-coder-1.5b]

Three processes, one after another, each loading the model itself (load time is not
counted): a cold one without the disk cache, one that plans another task and leaves
the planner's static prefix in ``FOREPLAN_PREFIX_CACHE_DIR``, and a restarted one that
plans a third task with that cache. Target (issue 8): restarted ≤ 0.4 × cold, the same
target the in-process warm prefix has.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from _results import record  # bench/_results.py: collected by bench/run_all.py

PROBE = """
import json, sys, time
sys.path.insert(0, "bench")
from latency import first_token_seconds
from foreplan.llm.llamacpp import LlamaCppLLM
from foreplan.llm.registry import get_model, pull
llm = LlamaCppLLM(pull(get_model(sys.argv[1])))
llm.llama  # load outside the timing
print(json.dumps({"seconds": first_token_seconds(llm, sys.argv[2])}))
"""

TASKS = ("How many days are left until the end of this year, and what is that number squared?",
         "What is 17% of 2,340, rounded to the nearest whole number?",
         "What time is it in Tokyo right now, and what weekday is it there?")


def probe(model: str, task: str, cache_dir: str | None) -> float:
    env = {k: v for k, v in os.environ.items() if k != "FOREPLAN_PREFIX_CACHE_DIR"}
    if cache_dir:
        env["FOREPLAN_PREFIX_CACHE_DIR"] = cache_dir
    out = subprocess.run([sys.executable, "-c", PROBE, model, task], env=env, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        cold = probe(args.model, TASKS[0], None)
        probe(args.model, TASKS[1], cache)
        restarted = probe(args.model, TASKS[2], cache)
    ratio = restarted / cold
    print(f"\n{args.model}: first plan token in a new process\n")
    print("| cold (no cache) | restarted, prefix from disk | ratio | target |")
    print("|---|---|---|---|")
    print(f"| {cold:.2f} s | {restarted:.2f} s | {ratio:.2f} | ≤ 0.4 {'PASS' if ratio <= 0.4 else 'FAIL'} |")
    record("disk_cache", f"first plan token, restarted ÷ cold ({args.model})", ratio, "≤ 0.4", ratio <= 0.4,
           f"{restarted:.2f} s vs {cold:.2f} s")


if __name__ == "__main__":
    main()
