"""run_qa end to end on the real data files, with a ScriptedLLM answering every role."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from foreplan.cli.eval import eval_app
from foreplan.eval.qa import render_table, run_qa
from foreplan.llm.base import GenerationOptions, Message
from foreplan.llm.scripted import ScriptedLLM

# GSM8K's first two questions: 16 - 3 - 4 eggs at $2 (gold 18); 2 + 2 / 2 bolts (gold 3).
PLANS = {
    "Janet": "Plan: Count the eggs left.\n#E1 = calculator[16 - 3 - 4]\n"
             "Plan: Multiply by the price.\n#E2 = calculator[#E1 * 2]\n",
    "robe": "Plan: Add the white fiber.\n#E1 = calculator[2 + 2 / 2]\n",
}
REACT = {
    "Janet": ["Eggs left.\nAction: calculator[16 - 3 - 4]", "Money.\nAction: calculator[9 * 2]",
              "I now know the final answer\nFinal Answer: $18"],
    "robe": ["Total.\nAction: calculator[2 + 1]", "I now know the final answer\nFinal Answer: 3 bolts"],
}


class Script:
    """Answers by looking at the prompt: planner, solver, or the ReAct loop's next turn.
    Records every reply so the test can count tokens the way ScriptedLLM does."""

    def __init__(self) -> None:
        self.replies: list[str] = []

    def __call__(self, messages: list[Message], options: GenerationOptions) -> str:
        prompt = messages[0]["content"]
        key = "Janet" if "Janet" in prompt else "robe"
        if prompt.startswith("For the following tasks, make plans"):
            reply = PLANS[key]
        elif prompt.startswith("Solve the following task"):
            # The solver answers from the last evidence, except that it gets the robe wrong
            # (with a number the task holds, so the answer check keeps it).
            reply = "2" if key == "robe" else re.findall(r"Evidence \(#E\d+, calculator(?:, final result)?\): (\S+)", prompt)[-1]
        else:
            turn = messages[-1]["content"].count("\nObservation: ")  # the trace the model continues
            reply = REACT[key][turn]
        self.replies.append(reply)
        return reply


def _tokens(llm: ScriptedLLM, replies: list[str], calls: range) -> int:
    prompt = sum(len(m["content"].split()) for i in calls for m in llm.calls[i][0])
    return prompt + sum(len(replies[i].split()) for i in calls)


def test_gsm8k_both_strategies(data_dir, tmp_path):
    script = Script()
    llm = ScriptedLLM([script] * 20)
    seen = []
    report = run_qa("gsm8k", "both", llm, limit=2, data_dir=data_dir, index_dir=tmp_path, on_row=seen.append)

    assert [(r.strategy, r.id) for r in report.rows] == [  # paired: a stopped run compares like with like
        ("rewoo", "gsm8k-0"), ("react", "gsm8k-0"), ("rewoo", "gsm8k-1"), ("react", "gsm8k-1")]
    assert seen == report.rows
    assert [(r.answer, r.correct, r.error) for r in report.rows] == [
        ("18", True, None), ("$18", True, None), ("2", False, None), ("3 bolts", True, None)]
    rewoo, react = report.summaries["rewoo"], report.summaries["react"]
    assert (rewoo.n, rewoo.accuracy, rewoo.f1, rewoo.errors) == (2, 0.5, None, 0)
    assert (react.n, react.accuracy, react.errors) == (2, 1.0, 0)

    # LLM calls in order: question 1 by rewoo (planner, solver) then react (3 turns),
    # question 2 by rewoo (2) then react (2 turns).
    assert len(llm.calls) == 9
    rows = report.rows
    assert rows[0].tokens["planner"] == _tokens(llm, script.replies, range(0, 1))
    assert rows[0].tokens["solver"] == _tokens(llm, script.replies, range(1, 2))
    assert (rows[0].tokens["caller"], rows[0].tokens["tools"]) == (0, 0)
    assert rows[1].tokens == {"react": _tokens(llm, script.replies, range(2, 5)), "tools": 0,
                              "total": _tokens(llm, script.replies, range(2, 5))}
    assert rows[2].tokens["total"] == _tokens(llm, script.replies, range(5, 7))
    assert rows[3].tokens["total"] == _tokens(llm, script.replies, range(7, 9))
    assert rewoo.tokens["total"] == (rows[0].tokens["total"] + rows[2].tokens["total"]) / 2
    assert report.ratios["tokens"] == rewoo.tokens["total"] / react.tokens["total"]
    assert rows[1].detail["iterations"] == 3

    path = tmp_path / "out" / "report.json"
    report.write(path)
    saved = json.loads(path.read_text())
    assert saved["summaries"]["react"]["accuracy"] == 1.0
    assert saved["ratios"] == report.ratios
    assert render_table(report).caption.startswith("ReWOO/ReAct: tokens ")


def test_backend_failure_is_recorded_per_question(data_dir, tmp_path):
    report = run_qa("gsm8k", "rewoo", ScriptedLLM([]), limit=2, data_dir=data_dir, index_dir=tmp_path)
    assert [r.error.split(":")[0] for r in report.rows] == ["ScriptExhaustedError"] * 2
    summary = report.summaries["rewoo"]
    assert (summary.accuracy, summary.errors, summary.tokens, summary.seconds) == (0.0, 2, {}, 0.0)
    assert report.ratios is None


def test_hotpotqa_react_searches_its_own_paragraphs(data_dir, tmp_path):
    llm = ScriptedLLM(["Look him up.\nAction: search_wiki[Scott Derrickson]", "Final Answer: Yes."])
    report = run_qa("hotpotqa", "react", llm, limit=1, data_dir=data_dir, index_dir=tmp_path)
    (row,) = report.rows
    assert "Scott Derrickson" in row.detail["steps"][0]["observation"]
    assert (row.correct, row.f1) == (True, 1.0)
    assert (tmp_path / "hotpotqa.sqlite").is_file()


def test_sotu_rewoo_scores_f1(data_dir, tmp_path):
    # The plan holds 58, so the answer check keeps the solver's number.
    llm = ScriptedLLM(["Plan: Find the speakers.\n#E1 = search_wiki[Speaker of the House Kevin, 58]\n",
                       "No, Kevin is 58"])
    report = run_qa("sotu", "rewoo", llm, limit=1, data_dir=data_dir, index_dir=tmp_path)
    (row,) = report.rows
    assert row.error is None and not row.correct
    # "no kevin is 58" against "no kevin is 58 while nancy is 83": P 1, R 1/2 (the yes/no rule
    # does not apply: neither side is just "no").
    assert row.f1 == 2 / 3
    assert (tmp_path / "sotu.sqlite").is_file()


def test_cli_unknown_dataset_exits_1(tmp_path):
    result = CliRunner().invoke(eval_app, ["qa", "--dataset", "squad", "--model", "openai:http://127.0.0.1:9/v1",
                                           "--out", str(tmp_path / "qa")])
    assert result.exit_code == 1
    assert "unknown dataset 'squad'" in result.output
    assert not (tmp_path / "qa").exists()


def test_cli_unknown_strategy_exits_1(tmp_path, data_dir):
    result = CliRunner().invoke(eval_app, ["qa", "--strategy", "cot", "--data-dir", str(data_dir),
                                           "--model", "openai:http://127.0.0.1:9/v1"])
    assert result.exit_code == 1
    assert "unknown strategy 'cot'" in result.output


def test_warmup_makes_one_untimed_call_first(data_dir, tmp_path):
    llm = ScriptedLLM(["ok", "Final Answer: 18"])
    report = run_qa("gsm8k", "react", llm, limit=1, data_dir=data_dir, index_dir=tmp_path, warmup=True)
    assert llm.calls[0][0] == [{"role": "user", "content": "Hi"}] and llm.calls[0][1].max_tokens == 1
    assert report.rows[0].tokens["react"] == sum(len(m["content"].split()) for m in llm.calls[1][0]) + 3


def test_interrupted_runs_resume_from_their_results_file(data_dir, tmp_path):
    results = tmp_path / "rows.jsonl"
    first = run_qa("gsm8k", "both", ScriptedLLM([Script()] * 20), limit=1, data_dir=data_dir, index_dir=tmp_path,
                   results_path=results)
    assert len(results.read_text().splitlines()) == 2  # one row per strategy, written as scored
    # The second run asks for two questions: only the new one reaches the model (a scripted LLM
    # with no replies for the first would fail loudly), the first comes from the file.
    script = Script()
    second = run_qa("gsm8k", "both", ScriptedLLM([script] * 20), limit=2, data_dir=data_dir, index_dir=tmp_path,
                    results_path=results, resume=True)
    assert second.rows[:2] == first.rows
    # Question 2 alone: ReWOO's planner and solver, ReAct's two turns (question 1 would add 5 more).
    assert script.replies == [PLANS["robe"], "2", *REACT["robe"]]
    assert len(results.read_text().splitlines()) == 4


def test_sotu_can_compute(data_dir, tmp_path):
    llm = ScriptedLLM(["Plan: Raise the rate.\n#E1 = calculator[3.4 ** 0.98]\n", "3.317"])
    report = run_qa("sotu", "rewoo", llm, limit=1, data_dir=data_dir, index_dir=tmp_path)
    assert report.rows[0].error is None
    assert "(2) calculator[input]" in llm.calls[0][0][0]["content"]


def test_cli_writes_its_folder_and_resumes_without_asking_again(data_dir, tmp_path, monkeypatch):
    import foreplan.llm.resolve

    out = tmp_path / "qa"
    args = ["qa", "--dataset", "gsm8k", "--limit", "1", "--strategy", "both", "--data-dir", str(data_dir),
            "--index-dir", str(tmp_path), "--out", str(out), "--model", "scripted"]
    monkeypatch.setattr(foreplan.llm.resolve.ModelRegistry, "resolve", lambda self, spec, progress=None: ScriptedLLM(["ok"] + [Script()] * 20))
    first = CliRunner().invoke(eval_app, args)
    assert first.exit_code == 0, first.output
    assert sorted(p.name for p in out.iterdir()) == ["report.json", "report.md", "results.jsonl", "tokens.png"]
    assert len((out / "results.jsonl").read_text().splitlines()) == 2
    # Resumed: only the warm-up call reaches the model (a second question would exhaust it).
    monkeypatch.setattr(foreplan.llm.resolve.ModelRegistry, "resolve", lambda self, spec, progress=None: ScriptedLLM(["ok"]))
    second = CliRunner().invoke(eval_app, [*args, "--resume"])
    assert second.exit_code == 0, second.output
    assert json.loads((out / "report.json").read_text())["summaries"]["react"]["n"] == 1
