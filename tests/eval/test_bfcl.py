"""``foreplan eval bfcl``: the scripted LLM answers, BFCL's real checker scores.

The data folder is written by the test in BFCL's layout, with rows copied from the
shipped files, so every number below is known.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("bfcl_eval", reason="pip install --no-deps bfcl-eval==2026.3.23")

from foreplan.errors import ConfigError
from foreplan.eval.bfcl import run_bfcl_eval, summarize, write_report
from foreplan.eval.bfcl_data import DEFAULT_CATEGORIES, BfclNotInstalledError, load_category, load_questions
from foreplan.llm.scripted import ScriptedLLM

FACTORIAL = {"name": "math.factorial", "description": "Calculate the factorial of a given number.",
             "parameters": {"type": "dict", "properties": {"number": {"type": "integer", "description": "n"}},
                            "required": ["number"]}}
BMI = {"name": "determine_body_mass_index", "description": "Calculate body mass index.",
       "parameters": {"type": "dict", "properties": {"weight": {"type": "float", "description": "kg"},
                                                      "height": {"type": "float", "description": "m"}},
                      "required": ["weight", "height"]}}


def call(name: str, **arguments: object) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "bfcl"
    user = [[{"role": "user", "content": "Calculate the factorial of 5."}]]
    _jsonl(data / "BFCL_v4_simple_python.json", [
        {"id": f"simple_python_{i}", "question": user, "function": [FACTORIAL]} for i in range(3)])
    _jsonl(data / "possible_answer" / "BFCL_v4_simple_python.json", [
        {"id": f"simple_python_{i}", "ground_truth": [{"math.factorial": {"number": [5]}}]} for i in range(3)])
    _jsonl(data / "BFCL_v4_irrelevance.json", [{"id": "irrelevance_0", "question": [[
        {"role": "user", "content": "What is the capital of France?"}]], "function": [BMI]}])
    return data


def test_a_run_scores_each_reply_and_shows_the_functions_as_tools(data_dir: Path, tmp_path: Path) -> None:
    questions = load_questions(["simple_python", "irrelevance"], data_dir=data_dir)
    llm = ScriptedLLM([call("math.factorial", number=5), call("math.factorial", number=6), "Sorry, I can't.",
                       "Paris is the capital of France."])
    rows = run_bfcl_eval(questions, llm, tmp_path / "out" / "results.jsonl")
    assert [(r["id"], r["correct"], r["reason"]) for r in rows] == [
        ("simple_python_0", True, None), ("simple_python_1", False, "wrong value"),
        ("simple_python_2", False, "no call"), ("irrelevance_0", True, None)]
    messages, options = llm.calls[0]
    assert messages == [{"role": "user", "content": "Calculate the factorial of 5."}]
    assert [t["function"]["name"] for t in options.tools] == ["math.factorial"]
    assert options.tools[0]["function"]["parameters"]["type"] == "object"
    assert llm.calls[3][1].tools[0]["function"]["parameters"]["properties"]["weight"]["type"] == "number"
    written = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    assert written == rows and all(r["tokens"] > 0 for r in rows)

    summary = summarize(rows)
    assert {c: (s["n"], s["correct"]) for c, s in summary.items()} == {
        "simple_python": (3, 1), "irrelevance": (1, 1), "all": (4, 2), "mean": (4, 2)}
    assert summary["simple_python"]["reasons"] == {"wrong value": 1, "no call": 1}
    assert summary["mean"]["accuracy"] == pytest.approx((1 / 3 + 1) / 2)


def test_a_call_when_none_is_wanted_and_a_failing_backend_are_recorded(data_dir: Path, tmp_path: Path) -> None:
    questions = load_questions(["irrelevance", "simple_python"], limit=1, data_dir=data_dir)
    rows = run_bfcl_eval(questions, ScriptedLLM([call("determine_body_mass_index", weight=70, height=1.8)]),
                         tmp_path / "results.jsonl")
    assert [(r["correct"], r["reason"]) for r in rows] == [(False, "called when it should not"),
                                                           (False, "backend error")]
    assert "ScriptExhaustedError" in rows[1]["detail"] and rows[1]["error"]


def test_resume_skips_finished_ids_and_a_fresh_run_starts_over(data_dir: Path, tmp_path: Path) -> None:
    questions = load_questions(["simple_python"], data_dir=data_dir)
    results = tmp_path / "results.jsonl"
    run_bfcl_eval(questions[:2], ScriptedLLM([call("math.factorial", number=5)] * 2), results)
    with results.open("a") as f:
        f.write('{"id": "simple_python_2", "categ')  # torn by a kill mid-write
    llm = ScriptedLLM([call("math.factorial", number=4)])
    rows = run_bfcl_eval(questions, llm, results, resume=True)
    assert llm.remaining == 0 and len(llm.calls) == 1
    assert [r["correct"] for r in rows] == [True, True, False]
    assert run_bfcl_eval(questions[:1], ScriptedLLM([call("math.factorial", number=3)]), results)[0]["correct"] is False
    assert len(results.read_text().splitlines()) == 1


def test_the_report_has_the_accuracy_table_the_reasons_and_a_chart(data_dir: Path, tmp_path: Path) -> None:
    questions = load_questions(["simple_python", "irrelevance"], data_dir=data_dir)
    rows = run_bfcl_eval(questions, ScriptedLLM([call("math.factorial", number=5), call("math.factorial", number=6),
                                                 "<tool_call>{oops</tool_call>", "No."]), tmp_path / "results.jsonl")
    written = write_report(rows, tmp_path / "report", "scripted")
    assert [p.name for p in written] == ["report.md", "accuracy.png"]
    report = written[0].read_text()
    assert "| simple_python | 3 | 0.333 |" in report and "| irrelevance | 1 | 1.000 |" in report
    assert "| wrong value | 1 | 0 | 1 |" in report and "| bad JSON | 1 | 0 | 1 |" in report
    assert "| simple_python_2 | bad JSON | {oops |" in report
    assert written[1].read_bytes().startswith(b"\x89PNG")


def test_bad_data_is_a_config_error(data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="unknown BFCL category 'simple_java'"):
        load_category("simple_java", data_dir=data_dir)
    with pytest.raises(ConfigError, match="does not exist"):
        load_category("parallel", data_dir=data_dir)
    with pytest.raises(ConfigError, match="no BFCL category given"):
        load_questions([], data_dir=data_dir)
    (data_dir / "possible_answer" / "BFCL_v4_simple_python.json").write_text('{"id": "simple_python_0"}\n')
    with pytest.raises(ConfigError, match="question simple_python_0 has no ground truth"):
        load_category("simple_python", data_dir=data_dir)
    (data_dir / "BFCL_v4_simple_python.json").write_text("{nope\n")
    with pytest.raises(ConfigError, match=r"BFCL_v4_simple_python.json:1 is not JSON"):
        load_category("simple_python", data_dir=data_dir)


def test_the_missing_package_error_names_the_no_deps_install() -> None:
    assert "pip install --no-deps bfcl-eval==2026.3.23" in str(BfclNotInstalledError())


def test_the_installed_package_has_the_five_categories() -> None:
    sizes = {c: len(load_category(c)) for c in DEFAULT_CATEGORIES}
    assert sizes == {"simple_python": 400, "multiple": 200, "parallel": 200, "parallel_multiple": 200,
                     "irrelevance": 240}


def test_the_command_refuses_an_unknown_category_before_loading_a_model() -> None:
    from typer.testing import CliRunner

    from foreplan.cli.eval import eval_app

    result = CliRunner().invoke(eval_app, ["bfcl", "--categories", "simple_python,nope", "--model", "nope"])
    assert result.exit_code == 1 and "unknown BFCL category 'nope'" in " ".join(result.output.split())


@pytest.mark.gguf
def test_the_embedded_0_5b_answers_two_real_questions(tmp_path: Path) -> None:
    from foreplan.llm.resolve import resolve_model

    questions = load_questions(["simple_python"], limit=2)
    rows = run_bfcl_eval(questions, resolve_model("qwen2.5-coder-0.5b"), tmp_path / "results.jsonl")
    assert len(rows) == 2 and all(r["tokens"] > 0 and r["text"] for r in rows)
    assert all(r["correct"] or r["reason"] for r in rows)
