"""End-to-end QA: ReWOO and the ReAct baseline on the same questions, scored and timed.

    load_examples ─► toolkit for the dataset ─► Agent.run (rewoo) / run_react (react)
                                              ─► score ─► Row ─► Summary per strategy ─► Report

Toolkits: GSM8K gets ``calculator`` + ``LLM``; HotpotQA gets ``search_wiki`` over an
index of the sample's own 991 paragraphs + ``LLM``; SOTU gets ``search_wiki`` over the
address text + ``calculator`` + ``LLM`` (some of its questions compute, as in ReWOO's
``SearchSOTU`` + ``Calculator`` + ``LLM`` runs). Indexes are built once into ``index_dir``. A question whose run
raises a :class:`~foreplan.errors.ForeplanError` counts as wrong and keeps the error;
token and time means cover the questions that finished (a failed run reports no usage).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from foreplan.agent import Agent
from foreplan.errors import ConfigError, ForeplanError
from foreplan.eval.datasets import (
    DEFAULT_DATA_DIR,
    SOTU_TEXT,
    Example,
    dataset_file,
    load_examples,
)
from foreplan.eval.metrics import exact_match, f1_score, numeric_match
from foreplan.eval.react import DEFAULT_MAX_ITERATIONS, run_react
from foreplan.eval.results import append_result, start_results
from foreplan.llm.base import LLM, warm_up
from foreplan.tools import corpus
from foreplan.tools.calculator import calculator
from foreplan.tools.llm_tool import llm_tool
from foreplan.tools.toolkit import Toolkit
from foreplan.tools.wiki import default_index_path, make_search_wiki
from foreplan.types import Usage

STRATEGIES = ("rewoo", "react")


@dataclass
class Row:
    """One question answered by one strategy."""

    id: str
    strategy: str
    question: str
    gold: str
    answer: str
    correct: bool
    """Exact match (HotpotQA, SOTU) or numeric match (GSM8K)."""
    f1: float | None
    """Token F1 (HotpotQA, SOTU); ``None`` for GSM8K."""
    tokens: dict[str, int]
    """Prompt + completion tokens per role, and ``total``."""
    seconds: float
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    """The plan (rewoo) or the ReAct steps, for reading failures."""


@dataclass
class Summary:
    """Means over one strategy's rows."""

    strategy: str
    n: int
    accuracy: float
    """Share of correct answers: EM for HotpotQA/SOTU, numeric accuracy for GSM8K."""
    f1: float | None
    errors: int
    tokens: dict[str, float]
    """Mean tokens per finished task, per role and ``total``."""
    seconds: float
    """Mean wall seconds per finished task."""
    computed: float | None = None
    """Mean tokens per task the model really computed: prompt tokens not served from the KV
    prefix cache, plus generated ones. ``None`` unless every finished row says (rows written
    before foreplan recorded it, or a backend that does not report its cache)."""
    cached_share: float | None = None
    """Share of all prompt tokens that came from the KV prefix cache (same rows)."""


@dataclass
class Report:
    dataset: str
    model: str
    rows: list[Row]
    summaries: dict[str, Summary]

    @property
    def ratios(self) -> dict[str, float] | None:
        """ReWOO / ReAct mean total tokens and seconds, when both ran (ReWOO's claim is
        a token ratio well below 1)."""
        rewoo, react = self.summaries.get("rewoo"), self.summaries.get("react")
        if rewoo is None or react is None or not react.tokens.get("total") or not react.seconds:
            return None
        return {"tokens": rewoo.tokens["total"] / react.tokens["total"], "seconds": rewoo.seconds / react.seconds}

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "model": self.model,
                "summaries": {k: asdict(v) for k, v in self.summaries.items()},
                "ratios": self.ratios, "rows": [asdict(r) for r in self.rows]}

    def write(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def build_toolkit(dataset: str, data_dir: Path = DEFAULT_DATA_DIR, index_dir: Path | None = None) -> Toolkit:
    """The tools a dataset's questions are answered with (its search index built once).

    Raises:
        ConfigError: unknown dataset or missing data file.
    """
    if dataset == "gsm8k":
        return Toolkit([calculator, llm_tool])
    index_dir = Path(index_dir) if index_dir is not None else default_index_path().parent / "eval"
    index = index_dir / f"{dataset}.sqlite"
    if not index.is_file():
        if dataset == "hotpotqa":
            documents = corpus.documents_from_hotpotqa(dataset_file("hotpotqa", data_dir))
        elif dataset == "sotu":
            documents = corpus.documents_from_sotu(Path(data_dir) / SOTU_TEXT)
        else:
            dataset_file(dataset, data_dir)  # raises for an unknown dataset
            raise ConfigError(f"no toolkit for dataset {dataset!r}")
        corpus.build_index(documents, index)
    if dataset == "sotu":
        return Toolkit([make_search_wiki(index), calculator, llm_tool])
    return Toolkit([make_search_wiki(index), llm_tool])


def run_qa(
    dataset: str,
    strategy: str,
    llm: LLM,
    limit: int | None = None,
    data_dir: Path = DEFAULT_DATA_DIR,
    index_dir: Path | None = None,
    *,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    on_row: Callable[[Row], None] | None = None,
    warmup: bool = False,
    results_path: Path | None = None,
    resume: bool = False,
    max_replans: int = 1,
) -> Report:
    """Answer the first ``limit`` questions of ``dataset`` with ``strategy`` and score them.

    Args:
        dataset: ``gsm8k``, ``hotpotqa`` or ``sotu``.
        strategy: ``rewoo``, ``react`` or ``both`` (each question by ReWOO, then by ReAct).
        llm: the backend every role uses (planner, solver, ReAct, the ``LLM`` tool).
        limit: how many questions, from the top of the file; all when None.
        data_dir: the shared data folder.
        index_dir: where search indexes are kept (default: the user cache).
        max_iterations: the ReAct loop's budget.
        on_row: called after each answered question (progress).
        warmup: make one 1-token call first, so that loading the weights is not timed
            as part of the first question (off for scripted LLMs, which count calls).
        results_path: JSON Lines file each row is appended to as soon as it is scored.
        resume: keep the rows already in ``results_path`` and answer only the others.
        max_replans: ReWOO's rounds of new steps after the first (plan/replan.py).

    Raises:
        ConfigError: unknown dataset or strategy, missing or malformed data.
    """
    strategies = STRATEGIES if strategy == "both" else (strategy,)
    if strategy != "both" and strategy not in STRATEGIES:
        raise ConfigError(f"unknown strategy {strategy!r}; choose rewoo, react or both.")
    examples = load_examples(dataset, data_dir, limit)
    toolkit = build_toolkit(dataset, data_dir, index_dir)
    if warmup:
        warm_up(llm)
    done: dict[str, dict[str, Any]] = {}
    if results_path is not None:
        done = start_results(results_path, resume, key=lambda r: f"{r['strategy']}:{r['id']}")
    rows: list[Row] = []
    for example in examples:  # both strategies on one question, then the next: a stopped run stays paired
        for name in strategies:
            earlier = done.get(f"{name}:{example.id}")
            row = Row(**earlier) if earlier is not None else _answer(name, example, llm, toolkit, max_iterations,
                                                                     max_replans)
            if earlier is None and results_path is not None:
                append_result(results_path, asdict(row))
            rows.append(row)
            if on_row is not None:
                on_row(row)
    summaries = {name: summarize(name, [r for r in rows if r.strategy == name]) for name in strategies}
    return Report(dataset, getattr(llm, "name", "?"), rows, summaries)


def _answer(strategy: str, example: Example, llm: LLM, toolkit: Toolkit, max_iterations: int,
            max_replans: int = 1) -> Row:
    started = time.perf_counter()
    try:
        if strategy == "rewoo":
            result = Agent(llm, toolkit, max_replans=max_replans).run(example.question)
            usage, detail = result.usage, {"plan": result.plan.render(), "replans": [r.reasons for r in result.replans]}
        else:
            react = run_react(llm, toolkit, example.question, max_iterations)
            result, usage = react, react.usage
            detail = {"finished": react.finished, "iterations": react.iterations,
                      "steps": [s.to_dict() for s in react.steps]}
    except ForeplanError as exc:
        return Row(example.id, strategy, example.question, example.answer, "", False,
                   None if example.kind == "gsm8k" else 0.0, {}, time.perf_counter() - started,
                   f"{type(exc).__name__}: {exc}")
    detail["usage"] = {role: u.to_dict() for role, u in usage.items()}
    correct, f1 = score(example, result.answer)
    return Row(example.id, strategy, example.question, example.answer, result.answer, correct, f1,
               _tokens(usage), result.seconds, detail=detail)


def score(example: Example, answer: str) -> tuple[bool, float | None]:
    """``(correct, f1)``: numeric match for GSM8K; exact match and token F1 otherwise."""
    if example.kind == "gsm8k":
        return numeric_match(answer, example.answer), None
    return exact_match(answer, example.answer), f1_score(answer, example.answer)[0]


def _tokens(usage: dict[str, Usage]) -> dict[str, int]:
    tokens = {role: u.prompt_tokens + u.completion_tokens for role, u in usage.items()}
    tokens["total"] = sum(tokens.values())
    return tokens


def summarize(strategy: str, rows: list[Row]) -> Summary:
    """Accuracy and F1 over all rows; tokens and seconds over the rows without an error."""
    finished = [r for r in rows if r.error is None]
    roles = list(dict.fromkeys(role for r in finished for role in r.tokens))
    f1s = [r.f1 for r in rows if r.f1 is not None]
    computed, cached_share = _cache_use(finished)
    return Summary(
        strategy, len(rows),
        statistics.fmean(r.correct for r in rows) if rows else 0.0,
        statistics.fmean(f1s) if f1s else None,
        len(rows) - len(finished),
        {role: statistics.fmean(r.tokens.get(role, 0) for r in finished) for role in roles},
        statistics.fmean(r.seconds for r in finished) if finished else 0.0,
        computed, cached_share,
    )


def _cache_use(rows: list[Row]) -> tuple[float | None, float | None]:
    """Mean computed tokens per row and the cached share of prompt tokens (see Summary)."""
    usages = [r.detail.get("usage") for r in rows]
    if not rows or any(not u or any("cached_tokens" not in v for v in u.values()) for u in usages):
        return None, None
    prompt = sum(v["prompt_tokens"] for u in usages for v in u.values())
    cached = sum(v["cached_tokens"] for u in usages for v in u.values())
    generated = sum(v["completion_tokens"] for u in usages for v in u.values())
    return (prompt - cached + generated) / len(rows), (cached / prompt if prompt else 0.0)


def cache_use_text(s: Summary) -> str:
    """One strategy's computed tokens and cached share, as the report and the table say it."""
    return f"{s.strategy} {s.computed:.0f}/task ({s.cached_share:.0%} of prompt tokens cached)"


def render_table(report: Report):
    """A rich table of the summaries (and a caption with the ReWOO/ReAct ratios)."""
    from rich.table import Table

    metric = "accuracy" if report.dataset == "gsm8k" else "EM"
    table = Table("strategy", "n", metric, "F1", "errors", "tokens/task (by role)", "total tokens", "s/task",
                  title=f"{report.dataset} · {report.model}")
    for s in report.summaries.values():
        roles = ", ".join(f"{k} {v:.0f}" for k, v in s.tokens.items() if k != "total")
        table.add_row(s.strategy, str(s.n), f"{s.accuracy:.3f}", "-" if s.f1 is None else f"{s.f1:.3f}",
                      str(s.errors), roles, f"{s.tokens.get('total', 0):.0f}", f"{s.seconds:.1f}")
    notes = []
    if report.ratios:
        notes.append(f"ReWOO/ReAct: tokens {report.ratios['tokens']:.2f}×, latency {report.ratios['seconds']:.2f}×")
    cache = [cache_use_text(s) for s in report.summaries.values() if s.computed is not None]
    if cache:
        notes.append("tokens computed: " + "; ".join(cache))
    if notes:
        table.caption = "\n".join(notes)
    return table
