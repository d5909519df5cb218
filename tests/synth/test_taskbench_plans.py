"""TaskBench's train split as planner examples: the agent's prompt, the gold plan, never a test record."""

from __future__ import annotations

import json

import pytest

from foreplan.eval.taskbench import split_ids
from foreplan.plan.parse import parse_plan
from foreplan.synth.taskbench_plans import taskbench_examples

SHARED = __import__("pathlib").Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="module")
def examples():
    if not (SHARED / "taskbench").is_dir():
        pytest.fail(f"{SHARED / 'taskbench'} is missing: the shared data folder must sit beside the repository")
    return taskbench_examples(SHARED)


def test_every_example_is_a_train_record_planned_on_the_tools_its_prompt_lists(examples):
    rows, dropped = examples
    train, test = split_ids("train"), split_ids("test")
    assert len(rows) > 400 and sum(dropped.values()) + len(rows) == len(train)
    for row in rows:
        record = row["id"].removeprefix("taskbench-")
        assert record in train and record not in test
        assert row["instruction"].rstrip().endswith(f"Task: {row['task']}")
        used = {s.tool for s in parse_plan(row["output"]).steps}
        assert used <= set(row["tools"])
        assert all(f") {tool}[input]:" in row["instruction"] for tool in used)


def test_the_cli_declares_the_set_beside_the_synthesized_ones(tmp_path, monkeypatch, examples):
    from typer.testing import CliRunner

    import foreplan.synth.taskbench_plans as builder
    from foreplan.cli import app

    monkeypatch.setattr(builder, "taskbench_examples", lambda data_dir: examples)  # built once, above

    (tmp_path / "dataset_info.json").write_text(json.dumps({"rewoo_plans": {"file_name": "train.jsonl"}}))
    done = CliRunner().invoke(app, ["data", "taskbench-plans", "--out", str(tmp_path), "--data-dir", str(SHARED)])
    assert done.exit_code == 0, done.output
    info = json.loads((tmp_path / "dataset_info.json").read_text())
    assert info["rewoo_plans"] == {"file_name": "train.jsonl"}
    assert info["taskbench_plans"]["file_name"] == "taskbench_train.jsonl"
    assert len((tmp_path / "taskbench_train.jsonl").read_text().splitlines()) == len(examples[0])
