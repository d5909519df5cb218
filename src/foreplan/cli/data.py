"""``foreplan data``: build training data.

    foreplan data synth-plans --out data/plans --n 600 --heldout-n 60 --seed 0
    foreplan data caller --out data/caller --seed 0 --synth-n 400 --chat-n 600
    foreplan data taskbench-plans --out data/plans

Synthesizes ReWOO planner examples from toolkits (see :mod:`foreplan.synth`), checks
each plan (parse, validate, plan grammar, execution), and writes alpaca JSONL, a
LLaMA-Factory ``dataset_info.json`` and the held-out task file for ``foreplan eval planner``.
``caller`` puts function-caller data (Trelis sample, glaive demo, calls synthesized from
tool schemas) into one sharegpt-with-tools set (see :mod:`foreplan.synth.caller_data`).
``taskbench-plans`` turns TaskBench's train split into planner examples with the prompt
the agent shows (see :mod:`foreplan.synth.taskbench_plans`), and declares them beside
the synthesized ones.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from foreplan.cli.common import DebugOpt, err, errors, out

data_app = typer.Typer(no_args_is_help=True, help="Build training data.")


@data_app.callback()
def data_main() -> None:
    """Build training data (planner examples synthesized from toolkits)."""


def qwen_checks(model: str = "qwen2.5-coder-0.5b") -> tuple[Callable[[str], int], Callable[[str, str], bool]] | None:
    """Token counter and grammar check on an embedded model's vocabulary, or None when
    llama-cpp-python or the model file is not there."""
    try:
        import llama_cpp

        from foreplan.llm.gbnf import grammar_accepts
        from foreplan.llm.registry import get_model, is_pulled, model_path
    except ImportError:
        return None
    embedded = get_model(model)
    if not is_pulled(embedded):
        return None
    vocab: Any = llama_cpp.Llama(str(model_path(embedded)), vocab_only=True, verbose=False)

    def count(text: str) -> int:
        return len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    return count, lambda grammar, text: grammar_accepts(vocab, grammar, text)


@data_app.command("synth-plans")
def synth_plans(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for train.jsonl, heldout.jsonl, dataset_info.json.")] = Path("data/plans"),
    n: Annotated[int, typer.Option("--n", min=1, help="Training examples.")] = 600,
    heldout_n: Annotated[int, typer.Option("--heldout-n", min=0, help="Held-out tasks (they use held-out tools).")] = 60,
    seed: Annotated[int, typer.Option("--seed", help="The same seed gives the same files.")] = 0,
    heldout_file: Annotated[Path | None, typer.Option("--heldout-file", help="Task file (default: OUT/../planner_tasks_heldout.jsonl).")] = None,
    checks: Annotated[bool, typer.Option("--qwen-checks/--no-qwen-checks", help="Count tokens and check the plan grammar with the embedded Qwen vocabulary.")] = True,
    execute: Annotated[bool, typer.Option("--execute/--no-execute", help="Run each plan; keep it only if every step succeeds.")] = True,
    debug: DebugOpt = False,
) -> None:
    """Synthesize ReWOO planner training examples over many tool sets."""
    with errors(False, debug):
        _synth_plans(out_dir, n, heldout_n, seed, heldout_file, checks, execute)


def _synth_plans(out_dir: Path, n: int, heldout_n: int, seed: int, heldout_file: Path | None, checks: bool,
                 execute: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.table import Table

    from foreplan.errors import DatasetError
    from foreplan.synth.dataset import write_dataset
    from foreplan.synth.plans import char_tokens, synthesize
    from foreplan.synth.toolbox import Toolbox

    qwen = qwen_checks() if checks else None
    if checks and qwen is None:
        err.print("[yellow]note:[/yellow] llama-cpp-python or the Qwen 0.5B file is missing: tokens are estimated "
                  "from characters and the plan grammar is not checked.")
    count, grammar = qwen if qwen else (char_tokens, None)
    with tempfile.TemporaryDirectory(prefix="foreplan-synth-") as workspace, \
            Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err,
                     transient=True) as bar:
        task = bar.add_task("synthesizing plans", total=n + heldout_n)
        report = synthesize(Toolbox(Path(workspace)), n, heldout_n, seed, count_tokens=count, grammar_check=grammar,
                            execute=execute, on_example=lambda e: bar.advance(task))
    paths = write_dataset(report, out_dir, heldout_file or out_dir.parent / "planner_tasks_heldout.jsonl")
    kept = len(report.examples)
    out.print(f"{report.candidates} candidates: {kept} kept ({len(report.split('train'))} train, "
              f"{len(report.split('heldout'))} held-out), {report.candidates - kept} dropped", highlight=False)
    if report.dropped:
        table = Table("dropped because", "candidates")
        for reason, count_ in report.dropped.most_common():
            table.add_row(reason, str(count_))
        out.print(table)
    for path in paths:
        out.print(f"wrote {path}", highlight=False)
    if len(report.split("train")) < n or len(report.split("heldout")) < heldout_n:
        raise DatasetError(f"too few candidates passed ({len(report.split('train'))} of {n} train, "
                           f"{len(report.split('heldout'))} of {heldout_n} held-out); see the reasons above.")


@data_app.command("taskbench-plans")
def taskbench_plans(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for taskbench_train.jsonl; its dataset_info.json gains taskbench_plans.")] = Path("data/plans"),
    data_dir: Annotated[Path, typer.Option("--data-dir", help="The shared data folder (holds taskbench/).")] = Path("../shared/data"),
    debug: DebugOpt = False,
) -> None:
    """Planner examples from TaskBench's train split (never its test split), as the agent prompts."""
    from rich.table import Table

    from foreplan.synth.dataset import declare
    from foreplan.synth.taskbench_plans import taskbench_examples

    with errors(False, debug):
        rows, dropped = taskbench_examples(data_dir)
        path, info_path = declare(out_dir, rows, "taskbench_plans", "taskbench_train.jsonl")
        out.print(f"{len(rows)} train records kept, {sum(dropped.values())} dropped", highlight=False)
        if dropped:
            table = Table("dropped because", "records")
            for reason, count_ in dropped.most_common():
                table.add_row(reason, str(count_))
            out.print(table)
        out.print(f"wrote {path} and {info_path} (dataset taskbench_plans)", highlight=False)


@data_app.command("caller")
def caller(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for train.jsonl, heldout.jsonl, dataset_info.json.")] = Path("data/caller"),
    seed: Annotated[int, typer.Option("--seed", help="The same seed gives the same files.")] = 0,
    synth_n: Annotated[int, typer.Option("--synth-n", min=0, help="Calls synthesized from tool schemas for training.")] = 400,
    heldout_n: Annotated[int, typer.Option("--heldout-n", min=0, help="Synthesized calls to the held-out tools.")] = 60,
    chat_n: Annotated[int, typer.Option("--chat-n", min=0, help="Chat-with-tools rows (one call, several, none).")] = 600,
    source_dir: Annotated[Path, typer.Option("--source-dir", help="The Trelis sample and the glaive demo.")] = Path("../shared/data/function_calling"),
    taskbench: Annotated[bool, typer.Option("--taskbench/--no-taskbench", help="Chat rows over TaskBench's tools from its train split (the folder beside --source-dir), and hard no-call rows (an experiment: its adapter refused nearly everything; README).")] = False,
    debug: DebugOpt = False,
) -> None:
    """Function-caller data: the Trelis sample, the glaive demo and synthesized calls, as sharegpt with tools."""
    with errors(False, debug):
        _caller(out_dir, seed, synth_n, heldout_n, source_dir, chat_n, taskbench)


def _caller(out_dir: Path, seed: int, synth_n: int, heldout_n: int, source_dir: Path, chat_n: int = 0,
            taskbench: bool = False) -> None:
    from rich.table import Table

    from foreplan.errors import ConfigError
    from foreplan.synth.caller_data import build_caller_data, write_caller_data
    from foreplan.synth.toolbox import Toolbox

    if not source_dir.is_dir():
        raise ConfigError(f"{source_dir} does not exist; pass --source-dir (the shared function_calling folder).")
    real_dir = source_dir.parent if taskbench else None
    if real_dir is not None and not (real_dir / "taskbench").is_dir():
        raise ConfigError(f"{real_dir / 'taskbench'} does not exist; it must sit beside --source-dir, or pass --no-taskbench.")
    with tempfile.TemporaryDirectory(prefix="foreplan-caller-") as workspace:
        train, heldout, report = build_caller_data(source_dir, Toolbox(Path(workspace)), synth_n, heldout_n, seed,
                                                   chat_n, real_dir)
    paths = write_caller_data(out_dir, train, heldout)
    table = Table("source", "train", "held-out")
    for source in ("trelis", "glaive", "synth", "chat-one", "chat-several", "chat-none", "taskbench-one",
                   "taskbench-several", "taskbench-none", "glaive-none"):
        table.add_row(source, str(report.kept[source, "train"]), str(report.kept[source, "heldout"]))
    out.print(table)
    if report.dropped:
        dropped = Table("source", "dropped because", "rows")
        for (source, reason), count_ in sorted(report.dropped.items()):
            dropped.add_row(source, reason, str(count_))
        out.print(dropped)
    for path in paths:
        out.print(f"wrote {path}", highlight=False)
