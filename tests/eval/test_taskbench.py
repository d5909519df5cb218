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


def test_retrieval_keeps_at_least_98_percent_of_the_gold_tools_on_both_splits(data_dir):
    from foreplan.eval.taskbench import retrieval_recall

    for split_name in ("train", "test"):
        found = retrieval_recall(data_dir, split_name)
        assert found["recall"] >= 0.98 and found["tools_shown"] <= 12, found


def test_memory_seeded_from_train_lends_each_test_plan_a_similar_example(data_dir, tmp_path):
    from foreplan.eval.taskbench import gold_plan, seed_memory
    from foreplan.memory import RunMemory

    row = next(r for r in load_records(data_dir) if r["id"] == "16988029")
    text = gold_plan(row)
    assert text.startswith("Plan: Invoke borrow_book_online with 'The Great Gatsby' at 'Example Library'")
    assert '#E1 = borrow_book_online[book="The Great Gatsby", library="Example Library"]' in text
    assert len(parse_plan(text).steps) == 4

    store = RunMemory(tmp_path / "memory.sqlite")
    toolkit = load_toolkit(data_dir)
    assert seed_memory(store, data_dir, toolkit) > 400
    test_ids = set(json.loads(SPLIT_FILE.read_text())["test"])
    stored = {r.instruction for r in store.recent(10_000)}
    assert not stored & {r["user_request"] for r in load_records(data_dir) if str(r["id"]) in test_ids} - {
        r["user_request"] for r in load_records(data_dir) if str(r["id"]) not in test_ids}  # never a test record

    first = scored_records(data_dir, limit=1)[0]
    plan = "\n".join(f"Plan: do it.\n#E{i + 1} = {t}[x]" for i, t in enumerate(first.nodes))
    llm = ScriptedLLM([plan])
    rows = run_taskbench(llm, data_dir, tmp_path / "out", limit=1, examples_from_train=True)
    assert rows[0]["example"] and "For example:\nTask: " + rows[0]["example"] in llm.calls[0][0][0]["content"]
