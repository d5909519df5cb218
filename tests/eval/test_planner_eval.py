"""``foreplan eval planner``: scored with the scripted LLM, so every number is known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from foreplan.errors import ConfigError
from foreplan.eval.planner_eval import (
    PlannerTask, load_tasks, run_planner_eval, summarize, tool_overlap, write_report,
)  # fmt: skip
from foreplan.llm.scripted import ScriptedLLM
from foreplan.synth.toolbox import Toolbox

TOOLS = ["get_weather", "calculator", "lookup_stock_price"]
GOOD = "Plan: Weather in Paris.\n#E1 = get_weather[Paris]\nPlan: To Fahrenheit.\n#E2 = calculator[#E1.temperature_c * 9 / 5 + 32]"
WRONG_TOOL = "Plan: Price.\n#E1 = lookup_stock_price[PARIS]"


def _task(i: int) -> PlannerTask:
    return PlannerTask(f"t{i}", f"What is the temperature in Paris in Fahrenheit? ({i})", TOOLS,
                       ["get_weather", "calculator"])


@pytest.fixture
def toolbox(tmp_path: Path) -> Toolbox:
    return Toolbox(tmp_path / "workspace")


def test_a_correct_plan_scores_one_everywhere(toolbox: Toolbox, tmp_path: Path) -> None:
    [row] = run_planner_eval([_task(1)], ScriptedLLM([GOOD]), toolbox, tmp_path / "results.jsonl")
    assert {k: row[k] for k in ("first_parsed", "first_valid", "valid", "tool_exact", "executed")} == dict.fromkeys(
        ("first_parsed", "first_valid", "valid", "tool_exact", "executed"), True)
    assert (row["tool_precision"], row["tool_recall"], row["steps"], row["attempts"]) == (1.0, 1.0, 2, 1)
    assert row["used_tools"] == ["get_weather", "calculator"] and row["problems"] == []
    assert row["tokens"] > 0


def test_a_wrong_tool_scores_zero_tool_choice_but_still_runs(toolbox: Toolbox, tmp_path: Path) -> None:
    [row] = run_planner_eval([_task(1)], ScriptedLLM([WRONG_TOOL]), toolbox, tmp_path / "results.jsonl")
    assert row["valid"] and row["executed"]
    assert (row["tool_exact"], row["tool_precision"], row["tool_recall"]) == (False, 0.0, 0.0)


def test_unparsable_text_is_a_parse_failure_after_the_repair_round(toolbox: Toolbox, tmp_path: Path) -> None:
    llm = ScriptedLLM(["I would check the weather first.", "Sorry, no plan."])
    [row] = run_planner_eval([_task(1)], llm, toolbox, tmp_path / "results.jsonl")
    assert (row["first_parsed"], row["valid"], row["executed"], row["steps"], row["attempts"]) == (False, False, False, 0, 2)
    assert row["texts"] == ["I would check the weather first.", "Sorry, no plan."]
    assert "not a plan" in row["problems"][0]


def test_a_repaired_plan_is_valid_but_not_first_valid(toolbox: Toolbox, tmp_path: Path) -> None:
    [row] = run_planner_eval([_task(1)], ScriptedLLM(["Plan: x\n#E1 = get_wether[Paris]", GOOD]), toolbox,
                             tmp_path / "results.jsonl")
    assert (row["first_parsed"], row["first_valid"], row["valid"], row["tool_exact"]) == (True, False, True, True)


def test_a_step_that_fails_makes_the_plan_not_executable(toolbox: Toolbox, tmp_path: Path) -> None:
    [row] = run_planner_eval([_task(1)], ScriptedLLM([("Plan: p\n#E1 = get_weather[Paris]\nPlan: q\n"
                                                       "#E2 = calculator[#E1.rain_mm * 2]")]), toolbox, tmp_path / "r.jsonl")
    assert row["valid"] and row["tool_exact"] and not row["executed"]
    assert "no field 'rain_mm'" in row["problems"][0]


def test_summary_and_resume(toolbox: Toolbox, tmp_path: Path) -> None:
    results = tmp_path / "out" / "results.jsonl"
    run_planner_eval([_task(1), _task(2)], ScriptedLLM([GOOD, WRONG_TOOL]), toolbox, results)
    llm = ScriptedLLM([GOOD])  # only the third task is planned again
    rows = run_planner_eval([_task(1), _task(2), _task(3)], llm, toolbox, results, resume=True)
    assert llm.remaining == 0 and [r["id"] for r in rows] == ["t1", "t2", "t3"]
    assert len(results.read_text().splitlines()) == 3
    summary = summarize(rows)
    assert summary["n"] == 3 and summary["tool_exact"] == pytest.approx(2 / 3) and summary["executed"] == 1.0
    assert summary["steps"] == pytest.approx(5 / 3)
    written = write_report(rows, tmp_path / "out", "scripted", tmp_path / "tasks.jsonl")
    assert [p.name for p in written] == ["report.md", "rates.png"]
    report = written[0].read_text()
    assert "| tool_exact | 0.667 |" in report and "| t2 | True | lookup_stock_price |" in report


def test_a_backend_failure_is_recorded_and_the_run_goes_on(toolbox: Toolbox, tmp_path: Path) -> None:
    rows = run_planner_eval([_task(1), _task(2)], ScriptedLLM([GOOD]), toolbox, tmp_path / "results.jsonl")
    assert rows[0]["tool_exact"] and "ScriptExhaustedError" in rows[1]["problems"][0] and rows[1]["error"]


def test_tool_overlap_counts_repeats() -> None:
    assert tool_overlap(["a", "a", "b"], ["a", "b"]) == (False, 2 / 3, 1.0)
    assert tool_overlap([], []) == (True, 0.0, 1.0)


def test_task_files(tmp_path: Path) -> None:
    path = tmp_path / "tasks.jsonl"
    path.write_text(json.dumps({"task": "t", "tools": ["calculator"], "reference_tools": ["calculator"]}) + "\n\n")
    assert load_tasks(path) == [PlannerTask("1", "t", ["calculator"], ["calculator"])]
    path.write_text('{"task": "t", "tools": []}\n')
    with pytest.raises(ConfigError, match=r"tasks.jsonl:1: a task row needs"):
        load_tasks(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_tasks(tmp_path / "missing.jsonl")


def test_the_shipped_held_out_file_loads_and_resolves(toolbox: Toolbox) -> None:
    tasks = load_tasks(Path(__file__).resolve().parents[2] / "data" / "planner_tasks_heldout.jsonl")
    assert len(tasks) == 60
    for task in tasks:
        assert set(task.reference_tools) <= set(toolbox.toolkit(task.tools).names)


@pytest.mark.gguf
def test_the_embedded_0_5b_plans_two_held_out_tasks(toolbox: Toolbox, tmp_path: Path) -> None:
    from foreplan.llm.resolve import resolve_model

    tasks = load_tasks(Path(__file__).resolve().parents[2] / "data" / "planner_tasks_heldout.jsonl")[:2]
    rows = run_planner_eval(tasks, resolve_model("qwen2.5-coder-0.5b"), toolbox, tmp_path / "results.jsonl")
    assert len(rows) == 2 and all(r["first_parsed"] for r in rows)  # the grammar admits only plans
    assert all(r["tokens"] > 0 and r["steps"] >= 1 for r in rows)


def test_the_command_refuses_a_missing_task_file_before_loading_a_model(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from foreplan.cli.eval import eval_app

    result = CliRunner().invoke(eval_app, ["planner", "--tasks", str(tmp_path / "none.jsonl"), "--model", "nope"])
    assert result.exit_code == 1 and "does not exist" in " ".join(result.output.split())  # rich wraps lines


def test_keyword_arguments_reach_the_planners_grammar_and_such_steps_run_without_a_caller(
        toolbox: Toolbox, tmp_path: Path) -> None:
    task = PlannerTask("d", "How far is Paris from Lyon?", ["get_distance", "calculator"], ["get_distance"])
    plan = "Plan: Distance.\n#E1 = get_distance[origin='Paris', destination='Lyon']"
    llm = ScriptedLLM([plan])
    [row] = run_planner_eval([task], llm, toolbox, tmp_path / "r.jsonl", keyword_arguments=True)
    assert row["valid"] and row["executed"], row["problems"]
    assert '"get_distance[" "origin=" text1 ", destination=" text1 "]"' in llm.calls[0][1].constraint.grammar
    free = ScriptedLLM([plan])
    run_planner_eval([task], free, toolbox, tmp_path / "r2.jsonl")
    assert '"get_distance["' not in free.calls[0][1].constraint.grammar
