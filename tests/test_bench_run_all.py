"""bench/run_all.py: runs the scripts in their own processes and prints one table of the
ratios they record; a script that fails is a row that says so. (The benchmarks
themselves measure speed and are not run here, except the executor's and
worker_limits', which take seconds and need no model.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_run_all_collects_the_ratio_a_script_records(tmp_path):
    done = subprocess.run([sys.executable, str(BENCH / "run_all.py"), "--only", "executor", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [r["bench"] for r in rows] == ["executor"] and rows[0]["target"] == "≤ 1.05"
    assert "| executor | makespan ÷ critical path, worst of 8 shapes |" in done.stdout
    assert done.returncode == (0 if rows[0]["passed"] else 1)  # a noisy machine may miss the target


def test_run_all_collects_every_ratio_of_worker_limits(tmp_path):
    done = subprocess.run([sys.executable, str(BENCH / "run_all.py"), "--only", "worker_limits", "--out",
                           str(tmp_path)], capture_output=True, text=True, timeout=300)
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [r["measure"] for r in rows] == [f"{case}: worker ÷ baseline run"
                                            for case in ("timeout", "timeout ×8", "Ctrl-C", "Ctrl-C, threads")]
    assert "| worker_limits | Ctrl-C: worker ÷ baseline run |" in done.stdout
    assert done.returncode == (0 if all(r["passed"] for r in rows) else 1)  # a noisy machine may miss a target


def test_a_script_that_fails_is_a_row_and_the_run_fails(tmp_path, monkeypatch):
    sys.path.insert(0, str(BENCH))
    try:
        import run_all
    finally:
        sys.path.remove(str(BENCH))
    monkeypatch.setattr(run_all, "HERE", tmp_path)
    (tmp_path / "broken.py").write_text("raise SystemExit('no model here')\n")
    monkeypatch.setitem(run_all.BENCHES, "broken", ([], []))
    monkeypatch.setattr(sys, "argv", ["run_all.py", "--only", "broken", "--out", str(tmp_path / "out")])
    assert run_all.main() == 1
    assert "| broken | (did not finish) | — | — | ERROR | exit 1: no model here |" in run_all.table([], {
        "broken": run_all.run("broken", [], tmp_path / "r.jsonl", tmp_path / "b.log", 60)})
