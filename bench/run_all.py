"""Every benchmark, one after another, and one table of their headline ratios.

    python bench/run_all.py [--quick] [--only serve,latency] [--timeout 3600]

Each script runs in its own process (they load models and set thread counts of their
own) with ``FOREPLAN_BENCH_RESULTS`` pointing at one JSON Lines file, where each records
its ratios (``bench/_results.py``); its own output goes to ``OUT/NAME.log``. A script
that fails or times out is a row saying so, and the others still run. ``--quick`` passes
smaller settings (fewer repeats, tokens and tasks: noisier ratios, minutes instead of an
hour). Ratios are taken within each script, against a baseline run in the same process
or command, because absolute times drift on shared machines.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: script → (full arguments, --quick arguments)
BENCHES: dict[str, tuple[list[str], list[str]]] = {
    "executor": ([], []),
    "worker_limits": ([], []),
    "plan_decode": ([], ["--repeats", "1", "--max-tokens", "96"]),
    "latency": ([], ["--tasks", "2"]),
    "disk_cache": ([], []),
    "plan_reuse": ([], ["--tasks", "2"]),
    "second_run": ([], ["--repeats", "1"]),
    "prompt_lookup": ([], ["--questions", "4", "--configs", "3/3"]),
    "rewoo_answers": ([], ["--questions", "2"]),
    "serve": ([], ["--reps", "3", "--clients", "1", "4"]),
    "train_step": ([], ["--steps", "2", "--seq", "256"]),
    "train_packing": ([], ["--examples", "6", "--batch", "2"]),
    "qlora_memory": ([], ["--steps", "3", "--seq", "256"]),  # says so and exits 0 without CUDA
}


def run(name: str, args: list[str], results: Path, log: Path, timeout: float) -> str | None:
    """Run one script; None when it succeeded, else what went wrong."""
    env = os.environ | {"FOREPLAN_BENCH_RESULTS": str(results)}
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        try:
            done = subprocess.run([sys.executable, str(HERE / f"{name}.py"), *args], cwd=HERE.parent, env=env,
                                  stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return f"timed out after {timeout:.0f} s"
    print(f"  {name}: {'ok' if done.returncode == 0 else f'exit {done.returncode}'} "
          f"in {time.monotonic() - started:.0f} s ({log})", flush=True)
    if done.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-1:] or [""]
        return f"exit {done.returncode}: {tail[0][:160]}"
    return None


def table(rows: list[dict], failures: dict[str, str]) -> str:
    lines = ["| bench | measure | ratio | target | verdict | detail |", "|---|---|---|---|---|---|"]
    for row in rows:
        verdict = {True: "PASS", False: "FAIL", None: "—"}[row["passed"]]
        lines.append(f"| {row['bench']} | {row['measure']} | {row['ratio']:.2f} | {row['target']} | {verdict} "
                     f"| {row['detail']} |")
    for name, why in failures.items():
        lines.append(f"| {name} | (did not finish) | — | — | ERROR | {why} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller settings for every script")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(BENCHES)}")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per script")
    parser.add_argument("--out", type=Path, default=None, help="folder for the logs and results.jsonl")
    args = parser.parse_args()

    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown bench {', '.join(unknown)}; choose from {', '.join(BENCHES)}")
    out = args.out or Path(tempfile.mkdtemp(prefix="foreplan-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.jsonl"
    results.unlink(missing_ok=True)

    print(f"# foreplan benchmarks ({os.cpu_count()} cores{', quick' if args.quick else ''}); logs in {out}",
          flush=True)
    failures = {}
    for name in names:
        full, quick = BENCHES[name]
        why = run(name, quick if args.quick else full, results, out / f"{name}.log", args.timeout)
        if why:
            failures[name] = why
    rows = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()] if results.exists() else []
    print()
    print(table(rows, failures))
    return 1 if failures or any(r["passed"] is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
