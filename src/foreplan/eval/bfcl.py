"""The Berkeley Function Calling Leaderboard for foreplan's function calling
(``foreplan eval bfcl --model M --categories simple_python,...``).

    bfcl_data.py     BFCL_v4_<category>.json + possible_answer/ ──► BfclQuestion
    bfcl_schema.py   Gorilla docs ──► OpenAI tools with JSON Schema parameters
    this module      question ──► llm.generate(messages, tools=...) ──► <tool_call> blocks
    bfcl_checker.py  ──► BFCL's own AST checker ──► correct / reason ──► results.jsonl,
                     report.md, accuracy.png

How the model answers: the functions go to the model as ``GenerationOptions.tools``, its
own chat template lists them (Qwen's asks for ``<tool_call>{"name", "arguments"}</tool_call>``),
decoding is free and the reply is parsed, as ``tool_choice: auto`` in foreplan's server.
That is the fairest choice for these categories: the model decides how many calls to
make (parallel wants several, irrelevance none), and it is how BFCL runs Qwen's
function-calling mode (``qwen_fc.py``), so scores compare with the leaderboard's. The
caller's JSON-schema-constrained path would force exactly one call, which makes
irrelevance impossible and parallel unfair; it measures something else (argument
filling once the tool is chosen).

Rows are appended to ``results.jsonl`` as they are scored, so an interrupted run resumes;
a backend failure is recorded for its question ("backend error") and the run goes on.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from foreplan.errors import ForeplanError
from foreplan.eval.bfcl_checker import REASONS, load_ast_checker, score
from foreplan.eval.bfcl_data import BfclQuestion
from foreplan.eval.bfcl_schema import to_tools
from foreplan.eval.results import run_resumable
from foreplan.llm.base import LLM, GenerationOptions

#: Enough for four parallel calls with long string arguments.
DEFAULT_MAX_TOKENS = 512


def answer(question: BfclQuestion, llm: LLM, check: Callable[..., dict[str, Any]],
           max_tokens: int = DEFAULT_MAX_TOKENS, strict: bool = False) -> dict[str, Any]:
    """Ask ``llm`` one question with its functions as tools and score the reply
    (``strict``: only ``<tool_call>`` blocks count as calls, see bfcl_checker.py).

    Raises:
        ForeplanError: the backend failed (the caller records it and goes on).
    """
    messages = [{"role": m["role"], "content": m["content"]} for m in question.messages]
    options = GenerationOptions(max_tokens=max_tokens, tools=to_tools(question.functions))
    started = time.perf_counter()
    completion = llm.generate(messages, options)
    seconds = time.perf_counter() - started
    result = score(question, completion.text, check, strict)
    return {"id": question.id, "category": question.category, "correct": result.correct,
            "reason": result.reason, "detail": result.detail, "error_type": result.error_type, "form": result.form,
            "text": completion.text, "tokens": completion.usage.prompt_tokens + completion.usage.completion_tokens,
            "seconds": round(seconds, 3)}



def run_bfcl_eval(questions: list[BfclQuestion], llm: LLM, results_path: Path, *, resume: bool = False,
                  max_tokens: int = DEFAULT_MAX_TOKENS, strict: bool = False,
                  on_result: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Answer and score every question, appending each row to ``results_path`` at once.

    Args:
        strict: only ``<tool_call>`` blocks count as calls (BFCL's Qwen handler);
            otherwise bare or fenced JSON calls count too when a reply has no block.
        resume: keep the rows already in ``results_path`` and skip their ids; otherwise
            the file is started afresh.
        on_result: called with each new row (the progress bar).

    Returns:
        One row per question, in question order (earlier rows included when resuming).

    Raises:
        BfclNotInstalledError: the ``bfcl-eval`` package (its checker) is missing.
    """
    check = load_ast_checker()

    def row_for(question: BfclQuestion) -> dict[str, Any]:
        try:
            return answer(question, llm, check, max_tokens, strict)
        except ForeplanError as exc:  # recorded for this question; the run goes on
            return {"id": question.id, "category": question.category, "correct": False,
                    "reason": "backend error", "detail": f"{type(exc).__name__}: {exc}", "error_type": "",
                    "form": "", "text": "", "tokens": 0, "seconds": 0.0, "error": str(exc)}

    return run_resumable(questions, lambda q: q.id, row_for, Path(results_path), resume, on_result)


def summarize(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per category (in first-seen order), then ``all`` (every row) and ``mean`` (the
    unweighted mean of the category accuracies): n, correct, accuracy, the failures by
    reason, replies whose calls had no ``<tool_call>`` tags (``untagged``), and mean
    tokens and seconds per question."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["category"], []).append(row)
    summary = {name: _summary(group) for name, group in groups.items()}
    if summary:
        summary["all"] = _summary(rows)
        summary["mean"] = {**summary["all"], "accuracy": sum(s["accuracy"] for n, s in summary.items()
                                                             if n != "all") / len(groups)}
    return summary


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    correct = sum(1 for r in rows if r["correct"])
    return {"n": len(rows), "correct": correct, "accuracy": correct / len(rows),
            "reasons": dict(Counter(r["reason"] for r in rows if not r["correct"])),
            "untagged": sum(1 for r in rows if r.get("form") == "json"),
            "tokens": sum(r.get("tokens", 0) for r in rows) / len(rows),
            "seconds": sum(r.get("seconds", 0.0) for r in rows) / len(rows)}


def _reasons_seen(summary: dict[str, dict[str, Any]]) -> list[str]:
    seen = summary.get("all", {}).get("reasons", {})
    return [r for r in REASONS if r in seen] + sorted(r for r in seen if r not in REASONS)


def render_tables(summary: dict[str, dict[str, Any]], title: str) -> list[Any]:
    """Rich tables: accuracy per category, then failures by reason per category."""
    from rich.table import Table

    accuracy = Table("category", "n", "accuracy", "untagged", "tokens/q", "s/q", title=title)
    for name, s in summary.items():
        n, untagged = ("", "") if name == "mean" else (str(s["n"]), str(s["untagged"]))
        accuracy.add_row(name, n, f"{s['accuracy']:.3f}", untagged, f"{s['tokens']:.0f}", f"{s['seconds']:.2f}")
    categories = [c for c in summary if c not in ("all", "mean")]
    reasons = Table("failure", *categories, "all", title="failures by reason")
    for reason in _reasons_seen(summary):
        reasons.add_row(reason, *(str(summary[c]["reasons"].get(reason, 0)) for c in [*categories, "all"]))
    return [accuracy, reasons]


def write_report(rows: list[dict[str, Any]], out_dir: Path, model: str, strict: bool = False) -> list[Path]:
    """``report.md`` (accuracy, failures by reason, every failure) and, when matplotlib
    is installed, ``accuracy.png``. Returns the files written."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize(rows)
    categories = [c for c in summary if c not in ("all", "mean")]
    lines = [f"# BFCL: {model}", "",
             ("Berkeley Function Calling Leaderboard questions (bfcl-eval), scored with BFCL's AST checker; "
              "`mean` is the unweighted mean over categories. "
              + ("Only `<tool_call>` blocks count as calls (strict)." if strict else
                 "`untagged`: replies whose calls were read from bare or fenced JSON, without `<tool_call>` tags.")), "",
             "| category | n | accuracy | untagged | tokens/question | seconds/question |", "|---|---|---|---|---|---|"]
    for c, s in summary.items():
        n, untagged = ("", "") if c == "mean" else (s["n"], s["untagged"])
        lines.append(f"| {c} | {n} | {s['accuracy']:.3f} | {untagged} | {s['tokens']:.0f} | {s['seconds']:.2f} |")
    lines += ["", "## Failures by reason", "", f"| reason | {' | '.join(categories)} | all |",
              "|---" * (len(categories) + 2) + "|"]
    for reason in _reasons_seen(summary):
        counts = [str(summary[c]["reasons"].get(reason, 0)) for c in [*categories, "all"]]
        lines.append(f"| {reason} | {' | '.join(counts)} |")
    lines += ["", "## Every failure", "", "| id | reason | detail |", "|---|---|---|"]
    for r in rows:
        if not r["correct"]:
            detail = str(r.get("detail", ""))[:200].replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {r['id']} | {r['reason']} | {detail} |")
    written = [out_dir / "report.md"]
    chart = _chart(summary, out_dir / "accuracy.png", model)
    lines += ["", f"![accuracy]({chart.name})" if chart else "(no chart: matplotlib is not installed; "
              "pip install 'foreplan[train]')"]
    written[0].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written + ([chart] if chart else [])


def _chart(summary: dict[str, dict[str, Any]], path: Path, model: str) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display here; must come before pyplot
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    names = [c for c in summary if c != "all"]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    bars = ax.bar(names, [summary[c]["accuracy"] for c in names],
                  color=["#dd8452" if c == "mean" else "#4c72b0" for c in names])
    ax.bar_label(bars, fmt="%.2f")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("accuracy")
    ax.set_title(f"BFCL: {model}")
    ax.tick_params(axis="x", labelrotation=20)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
