"""``foreplan data synth-plans`` end to end (the Qwen checks are covered by the committed data)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from foreplan.cli.data import data_app


def test_synth_plans_writes_the_files_and_reports_drops(tmp_path: Path) -> None:
    args = ["synth-plans", "--out", str(tmp_path / "plans"), "--n", "30", "--heldout-n", "5", "--seed", "1",
            "--no-qwen-checks"]
    result = CliRunner().invoke(data_app, args)
    assert result.exit_code == 0, result.output
    assert "35 kept (30 train, 5 held-out)" in result.output
    assert len((tmp_path / "plans" / "train.jsonl").read_text().splitlines()) == 30
    tasks = (tmp_path / "planner_tasks_heldout.jsonl").read_text().splitlines()
    assert len(tasks) == 5 and json.loads(tasks[0])["id"] == "heldout-0000"
    again = CliRunner().invoke(data_app, [*args[:2], str(tmp_path / "again"), *args[3:]])
    assert again.exit_code == 0
    assert (tmp_path / "again" / "train.jsonl").read_bytes() == (tmp_path / "plans" / "train.jsonl").read_bytes()
