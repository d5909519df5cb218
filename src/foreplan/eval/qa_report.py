"""``eval qa``'s report: JSON for machines, Markdown and a chart for people.

``report.json`` keeps the summaries, ratios and every row; ``report.md`` says what was
measured in one table (with the ReWOO/ReAct ratios, the paper's claim), and ``tokens.png``
shows the score (see :func:`chart_score`) and tokens per task by strategy side by side.
(``results.jsonl``, the rows as they were scored, is written by the run itself.)
"""

from __future__ import annotations

from pathlib import Path

from foreplan.eval.qa import Report, cache_use_text


def markdown(report: Report) -> str:
    metric = "accuracy" if report.dataset == "gsm8k" else "EM"
    lines = [f"# {report.dataset} · {report.model}", "",
             f"| strategy | n | {metric} | F1 | errors | tokens/task | tokens by role | s/task |",
             "|---|---|---|---|---|---|---|---|"]
    for s in report.summaries.values():
        roles = ", ".join(f"{k} {v:.0f}" for k, v in s.tokens.items() if k != "total")
        f1 = "-" if s.f1 is None else f"{s.f1:.3f}"
        lines.append(f"| {s.strategy} | {s.n} | {s.accuracy:.3f} | {f1} | {s.errors} | "
                     f"{s.tokens.get('total', 0):.0f} | {roles} | {s.seconds:.1f} |")
    if report.ratios:
        lines += ["", f"ReWOO / ReAct: tokens {report.ratios['tokens']:.2f}×, "
                      f"latency {report.ratios['seconds']:.2f}× (same questions, same model)."]
    cache = [cache_use_text(s) for s in report.summaries.values() if s.computed is not None]
    if cache:
        lines += ["", "Tokens the model computed (prompt tokens not served from the KV prefix cache, plus "
                      "generated ones): " + "; ".join(cache) + "."]
    wrong = [r for r in report.rows if not r.correct][:10]
    if wrong:
        lines += ["", "## First wrong answers", "", "| id | strategy | gold | answer |", "|---|---|---|---|"]
        for r in wrong:
            answer = (r.error or r.answer).replace("|", "\\|").replace("\n", " ")[:80]
            lines.append(f"| {r.id} | {r.strategy} | {r.gold.replace('|', '/')[:40]} | {answer} |")
    return "\n".join(lines) + "\n"


def chart_score(report: Report) -> tuple[str, list[float]]:
    """What the chart's left panel shows per strategy: numeric accuracy (GSM8K), token F1
    (SOTU, whose reference answers are sentences no reply matches exactly), else exact match."""
    summaries = list(report.summaries.values())
    if report.dataset == "gsm8k":
        return "accuracy", [s.accuracy for s in summaries]
    if report.dataset == "sotu":
        return "token F1", [s.f1 or 0.0 for s in summaries]
    return "exact match", [s.accuracy for s in summaries]


def write_chart(report: Report, path: Path) -> Path | None:
    """Accuracy and mean tokens per task by strategy; None when matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report.summaries)
    title, scores = chart_score(report)
    fig, (acc, tok) = plt.subplots(1, 2, figsize=(8, 3.5), dpi=100)
    acc.bar(names, scores, color="#4c72b0")
    acc.set_ylim(0, 1)
    acc.set_title(title)
    tok.bar(names, [report.summaries[n].tokens.get("total", 0) for n in names], color="#dd8452")
    tok.set_title("tokens per task")
    fig.suptitle(f"{report.dataset} · {report.model}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_all(report: Report, out_dir: Path) -> list[Path]:
    """``report.json``, ``report.md`` and ``tokens.png`` in ``out_dir`` (made if missing)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md = out_dir / "report.json", out_dir / "report.md"
    report.write(json_path)
    md.write_text(markdown(report), encoding="utf-8")
    chart = write_chart(report, out_dir / "tokens.png")
    return [json_path, md] + ([chart] if chart else [])
