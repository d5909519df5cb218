"""``foreplan eval``: measure accuracy, tokens and latency on real data.

    foreplan eval qa --dataset gsm8k --limit 20 --strategy both --model qwen2.5-coder-1.5b

Writes a JSON report (summaries, ReWOO/ReAct ratios, every row) and prints a table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

eval_app = typer.Typer(no_args_is_help=True, help="Evaluate strategies and models on real data.")

out = Console()
err = Console(stderr=True)


@eval_app.callback()
def eval_main() -> None:
    """Evaluate strategies and models on real data (more commands will join ``qa``)."""


@eval_app.command("qa")
def eval_qa(
    dataset: Annotated[str, typer.Option("--dataset", help="hotpotqa, sotu or gsm8k.")] = "gsm8k",
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="The first N questions (default: all).")] = None,
    strategy: Annotated[str, typer.Option("--strategy", help="rewoo, react or both.")] = "rewoo",
    model: Annotated[str, typer.Option("--model", help="Model spec (see: foreplan models).")] = "qwen2.5-coder-1.5b",
    data_dir: Annotated[Path, typer.Option("--data-dir", help="The shared data folder.")] = Path("../shared/data"),
    index_dir: Annotated[Path | None, typer.Option("--index-dir", help="Where search indexes are built.")] = None,
    max_iterations: Annotated[int, typer.Option("--max-iterations", min=1, help="ReAct's LLM-call budget.")] = 6,
    output: Annotated[Path, typer.Option("--output", "-o", help="JSON report file.")] = Path("report.json"),
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """End-to-end QA: exact match / F1 or numeric accuracy, tokens and seconds per task."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from foreplan.errors import ConfigError, ForeplanError
    from foreplan.eval.datasets import DATASETS
    from foreplan.eval.qa import STRATEGIES, render_table, run_qa
    from foreplan.llm.resolve import resolve_model

    try:
        # Checked before the model is resolved: a server spec connects, a GGUF spec loads.
        if dataset not in DATASETS:
            raise ConfigError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}.")
        if strategy not in (*STRATEGIES, "both"):
            raise ConfigError(f"unknown strategy {strategy!r}; choose rewoo, react or both.")
        llm = resolve_model(model)
        runs = 2 if strategy == "both" else 1
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      console=err, transient=True) as bar:
            task = bar.add_task(f"{dataset} · {strategy}", total=None if limit is None else limit * runs)
            # warmup: loading the weights is not timed as part of the first question.
            report = run_qa(dataset, strategy, llm, limit, data_dir, index_dir, max_iterations=max_iterations,
                            warmup=True, on_row=lambda row: bar.advance(task))
    except ForeplanError as exc:
        if debug:
            raise
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    report.write(output)
    out.print(render_table(report))
    out.print(f"report written to {output}", highlight=False)
