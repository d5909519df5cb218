"""eval qa's human report: Markdown with the numbers and ratios, and a chart, beside the JSON."""

from __future__ import annotations

import json

from foreplan.eval.qa import Report, Row, summarize
from foreplan.eval.qa_report import chart_score, markdown, write_all


def _row(i: int, strategy: str, correct: bool, total: int) -> Row:
    return Row(f"q{i}", strategy, "Q?", "Paris", "Paris" if correct else "Lyon", correct, 1.0 if correct else 0.0,
               {"planner": total // 2, "solver": total - total // 2, "total": total}, 2.0)


def _report() -> Report:
    rows = [_row(1, "rewoo", True, 400), _row(2, "rewoo", False, 600),
            _row(1, "react", True, 2000), _row(2, "react", True, 2000)]
    summaries = {s: summarize(s, [r for r in rows if r.strategy == s]) for s in ("rewoo", "react")}
    return Report("hotpotqa", "qwen2.5-coder-0.5b", rows, summaries)


def test_markdown_has_the_summary_the_ratio_and_the_wrong_answers():
    text = markdown(_report())
    assert "| rewoo | 2 | 0.500 | 0.500 | 0 | 500 |" in text
    assert "| react | 2 | 1.000 | 1.000 | 0 | 2000 |" in text
    assert "ReWOO / ReAct: tokens 0.25×" in text
    assert "| q2 | rewoo | Paris | Lyon |" in text


def test_json_markdown_and_chart_are_written_into_the_folder(tmp_path):
    written = write_all(_report(), tmp_path / "hotpot")
    assert [p.name for p in written] == ["report.json", "report.md", "tokens.png"]
    assert json.loads((tmp_path / "hotpot" / "report.json").read_text())["ratios"]["tokens"] == 0.25
    assert (tmp_path / "hotpot" / "tokens.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_chart_scores_sotu_by_f1_and_the_others_by_their_accuracy():
    report = _report()
    assert chart_score(report) == ("exact match", [0.5, 1.0])
    report.rows[1].f1 = 0.25
    sotu = Report("sotu", report.model, report.rows,
                  {s: summarize(s, [r for r in report.rows if r.strategy == s]) for s in ("rewoo", "react")})
    assert chart_score(sotu) == ("token F1", [0.625, 1.0])


def test_tokens_served_from_the_prefix_cache_are_reported_when_every_row_says():
    def used(prompt: int, cached: int, completion: int) -> dict:
        return {"prompt_tokens": prompt, "completion_tokens": completion, "cached_tokens": cached, "calls": 1,
                "seconds": 1.0}

    rows = [_row(1, "react", True, 2000), _row(2, "react", True, 2000)]
    rows[0].detail["usage"] = {"react": used(1800, 1500, 200)}
    assert summarize("react", rows).computed is None  # the second row does not say: no guess
    rows[1].detail["usage"] = {"react": used(1800, 900, 200), "tools": used(0, 0, 0)}
    summary = summarize("react", rows)
    assert summary.computed == (300 + 200 + 900 + 200) / 2 and summary.cached_share == 2400 / 3600
    report = Report("sotu", "m", rows, {"react": summary})
    assert "react 800/task (67% of prompt tokens cached)" in markdown(report)
