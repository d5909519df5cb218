"""TaskBench's 40 tools as stubs, the committed split, and plans scored as TaskBench's
evaluate.py scores them (micro-averaged set F1). Scripted planner; the real one runs in
``foreplan eval taskbench`` (docs/eval/taskbench-1.5b)."""

from __future__ import annotations

import json

from foreplan.eval.taskbench import (
    SPLIT_FILE,
    load_records,
    load_toolkit,
    predicted_graph,
    run_taskbench,
    split,
    summarize,
    scored_records,
    write_report,
)
from foreplan.llm.scripted import ScriptedLLM
from foreplan.plan.parse import parse_plan


def test_the_committed_split_is_the_seeded_one_and_test_and_train_never_meet(data_dir):
    committed = json.loads(SPLIT_FILE.read_text())
    drawn = split([str(r["id"]) for r in load_records(data_dir)])
    assert committed["test"] == drawn["test"] and committed["train"] == drawn["train"]
    assert not set(committed["test"]) & set(committed["train"]) and len(committed["test"]) == 210


def test_the_40_tools_are_stubs_with_their_parameters(data_dir):
    toolkit = load_toolkit(data_dir)
    assert len(toolkit) == 40
    weather = toolkit.get("get_weather")
    assert list(weather.args_model.model_fields) == ["location", "date"]
    assert weather.run({"location": "Paris", "date": "2024-01-02"}).startswith("get_weather done:")


def test_a_plan_reads_back_as_nodes_links_and_arguments(data_dir):
    toolkit = load_toolkit(data_dir)
    plan = parse_plan("Plan: weather.\n#E1 = get_weather[location='Paris', date='2024-01-02']\n"
                      "Plan: call.\n#E2 = make_video_call['555-1234']\n"
                      "Plan: mail it.\n#E3 = send_email[email_address='a@b.c', content=#E1]")
    graph = predicted_graph(plan, toolkit)
    assert graph["nodes"] == ["get_weather", "make_video_call", "send_email"]
    # E2 cites nothing: linked from the step before; E3 cites E1
    assert graph["links"] == [("get_weather", "make_video_call"), ("get_weather", "send_email")]
    assert "make_video_call-phone_number-555-1234" in graph["values"]
    assert "send_email-content-<node-0>" in graph["values"] and "get_weather-date" in graph["args"]


def test_scores_pool_every_record_into_one_f1(data_dir, tmp_path):
    first, second = scored_records(data_dir, limit=2)
    plans = []
    for record in (first, second):  # the gold tools, each called with its first gold argument only
        steps = [f"Plan: do it.\n#E{i + 1} = {tool}[x]" for i, tool in enumerate(record.nodes)]
        plans.append("\n".join(steps))
    rows = run_taskbench(ScriptedLLM(plans), data_dir, tmp_path, limit=2)
    summary = summarize(rows)
    assert summary["records"] == 2 and summary["errors"] == 0 and summary["n_f1"] == 100.0
    report = write_report(rows, tmp_path, "scripted").read_text()
    assert "| gpt-4 (published, whole set) | 96.91 | 80.53 |" in report
    assert run_taskbench(ScriptedLLM([]), data_dir, tmp_path, limit=2, resume=True) == rows
