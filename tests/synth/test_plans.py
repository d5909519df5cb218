"""Synthesized planner data: every kept plan parses, validates, runs, and stays in its split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from foreplan.errors import ConfigError
from foreplan.plan.parse import parse_plan
from foreplan.plan.planner import Planner
from foreplan.plan.validate import validate_plan
from foreplan.synth import HELDOUT_TOOLS, StubLLM, Toolbox, synthesize
from foreplan.synth.dataset import write_dataset
from foreplan.synth.plans import MAX_PROMPT_TOKENS, PlanSynthesizer, SynthReport
from foreplan.synth.shapes import Candidate


@pytest.fixture(scope="module")
def toolbox(tmp_path_factory: pytest.TempPathFactory) -> Toolbox:
    return Toolbox(tmp_path_factory.mktemp("workspace"))


@pytest.fixture(scope="module")
def report(toolbox: Toolbox) -> SynthReport:
    return synthesize(toolbox, 80, 12, seed=3)


def test_the_quota_is_met_and_every_plan_checks_out(report: SynthReport, toolbox: Toolbox) -> None:
    assert len(report.split("train")) == 80 and len(report.split("heldout")) == 12
    for example in report.examples:
        toolkit = toolbox.toolkit(example.tools)
        plan = parse_plan(example.plan)
        assert validate_plan(plan, toolkit) == []
        assert [s.tool for s in plan.steps] == example.reference_tools
        assert set(example.reference_tools) <= set(example.tools)
        assert example.prompt == Planner(StubLLM(), toolkit).prompt(example.task)[0]["content"]
        assert example.prompt_tokens <= MAX_PROMPT_TOKENS


def test_held_out_tools_never_reach_training(report: SynthReport) -> None:
    for example in report.split("train"):
        assert not HELDOUT_TOOLS & set(example.tools), example.id
    for example in report.split("heldout"):
        assert HELDOUT_TOOLS & set(example.reference_tools), example.id


def test_the_same_seed_gives_the_same_examples(report: SynthReport, toolbox: Toolbox) -> None:
    again = synthesize(toolbox, 80, 12, seed=3)
    assert [e.alpaca() for e in again.examples] == [e.alpaca() for e in report.examples]
    other = synthesize(toolbox, 80, 12, seed=4)
    assert [e.task for e in other.examples] != [e.task for e in report.examples]


def test_many_shapes_and_tool_sets(report: SynthReport) -> None:
    assert len({e.shape for e in report.examples}) >= 8
    assert len({tuple(e.tools) for e in report.examples}) >= 60


def test_a_plan_that_fails_each_check_is_dropped_with_its_reason(toolbox: Toolbox) -> None:
    synthesizer = PlanSynthesizer(toolbox, grammar_check=lambda grammar, text: "weather" not in text)
    names = ["get_weather", "calculator"]
    good = Candidate("single", "t", [("Weather.", "get_weather", "Paris")])
    assert synthesizer.check(good, "Plan: Weather.\n#E1 = get_weather[Paris]", names) == "the plan grammar refuses it"
    synthesizer.grammar_check = None
    assert synthesizer.check(good, "Plan: Weather.\n#E1 = get_weather[Paris]", names) is None
    assert synthesizer.check(good, "no plan here", names).startswith("does not parse")
    assert synthesizer.check(good, "Plan: x\n#E1 = get_wether[Paris]", names) == "invalid: unknown_tool"
    assert synthesizer.check(good, "Plan: x\n#E1 = calculator[1 / 0]", names) == "step failed: calculator"


def test_written_files(report: SynthReport, tmp_path: Path) -> None:
    paths = write_dataset(report, tmp_path / "plans", tmp_path / "tasks.jsonl")
    info = json.loads(paths["dataset_info"].read_text())
    assert info["rewoo_plans"] == {"file_name": "train.jsonl",
                                   "columns": {"prompt": "instruction", "query": "input", "response": "output"}}
    rows = [json.loads(line) for line in paths["train"].read_text().splitlines()]
    assert len(rows) == 80 and rows[0]["input"] == "" and rows[0]["output"].startswith("Plan: ")
    tasks = [json.loads(line) for line in paths["tasks"].read_text().splitlines()]
    assert {"id", "task", "tools", "reference_tools"} <= set(tasks[0]) and len(tasks) == 12


def test_an_unknown_tool_name_lists_the_known_ones(toolbox: Toolbox) -> None:
    with pytest.raises(ConfigError, match="unknown tool 'get_wether'; known tools: LLM, calculator"):
        toolbox.toolkit(["get_wether"])


def test_committed_data_is_what_the_generator_writes() -> None:
    root = Path(__file__).resolve().parents[2] / "data"
    rows = [json.loads(line) for line in (root / "plans" / "train.jsonl").read_text().splitlines()]
    assert len(rows) == 600 and not any(HELDOUT_TOOLS & set(r["tools"]) for r in rows)
    tasks = [json.loads(line) for line in (root / "planner_tasks_heldout.jsonl").read_text().splitlines()]
    assert len(tasks) == 60
