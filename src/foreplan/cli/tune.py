"""``foreplan tune``: tune the planner on a user's own toolkit, from data to a GGUF adapter.

    foreplan tune --toolkit my.toml --out runs/tune-my
        1 teach     the teacher writes tasks for the tools and plans them; a plan is kept
                    only if it validates and runs (side effects as dry runs)   tries.jsonl
        2 split     train and held-out, fixed by a seeded hash of each task    data/
        3 before    the student plans the held-out tasks as it is              before/
        4 train     LoRA on the train side, checkpointed                       adapter/
        5 export    the adapter as a GGUF LoRA file                            planner-lora.gguf
        6 after     the student + adapter plans the held-out tasks again       after/
        7 report    before/after table                                         report.md

Each stage leaves its result in ``--out`` and is skipped when that result is complete,
so running the same command again after a stop (Ctrl-C, a kill, a reboot) goes on where
it was: tries and eval rows are appended one by one, training resumes from its last
checkpoint. Then ``foreplan run --planner STUDENT+OUT/planner-lora.gguf --toolkit ...``
plans with the tuned adapter, on these tools and on tools added later.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from foreplan.cli.common import DebugOpt, err, errors, out, resolve

ADAPTER_FILE = "planner-lora.gguf"


def tune(
    toolkit_file: Annotated[Path, typer.Option("--toolkit", help="The toolkit file (TOML) whose tools to tune for.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for every stage's results; rerun to resume.")] = Path("runs/tune"),
    teacher_model: Annotated[str, typer.Option("--teacher", help="Writes and plans the tasks: a model spec or openai:URL.")] = "qwen2.5-coder-1.5b",
    student: Annotated[str, typer.Option("--student", help="The embedded model the adapter is trained for.")] = "qwen2.5-coder-0.5b",
    tasks: Annotated[int, typer.Option("--tasks", min=10, help="Tasks to keep (train and held-out together).")] = 200,
    max_tries: Annotated[int | None, typer.Option("--max-tries", min=1, help="Teacher tries at most (default: 3 per task).")] = None,
    heldout: Annotated[float, typer.Option("--heldout", min=0.05, max=0.5, help="Share of tasks held out for the before/after eval.")] = 0.2,
    epochs: Annotated[float, typer.Option("--epochs", min=0.1, help="Passes over the train side.")] = 2.0,
    max_steps: Annotated[int | None, typer.Option("--max-steps", min=1, help="Stop training after this many steps.")] = None,
    template: Annotated[str, typer.Option("--template", help="The student's chat template for training.")] = "qwen",
    seed: Annotated[int, typer.Option("--seed", help="Task draws, the split and training order.")] = 0,
    debug: DebugOpt = False,
) -> None:
    """Tune the planner on your own tools: teacher data, a held-out split, LoRA training,
    before/after eval and a GGUF adapter. Resumes when run again."""
    from foreplan.cli.common import load_toolkit

    with errors(False, debug):
        toolkit = load_toolkit(toolkit_file)  # a bad toolkit fails before any model loads
        out_dir.mkdir(parents=True, exist_ok=True)
        _check_same_run(out_dir, {"toolkit": str(toolkit_file.resolve()), "teacher": teacher_model,
                                  "student": student, "tasks": tasks, "heldout": heldout, "seed": seed,
                                  "tools": list(toolkit.names)})
        tries = _teach(toolkit, teacher_model, tasks, max_tries or 3 * tasks, seed, out_dir)
        train_rows, heldout_rows = _split(tries, toolkit, heldout, seed, out_dir)
        from foreplan.synth.teach import ToolkitBox

        box = ToolkitBox(toolkit)
        before = _evaluate("before", student, heldout_rows, box, out_dir)
        adapter = _train(student, template, epochs, max_steps, seed, len(train_rows), out_dir)
        gguf = _export(adapter, student, out_dir)
        after = _evaluate("after", f"{student}+{gguf}", heldout_rows, box, out_dir)
        _report(before, after, student, teacher_model, len(train_rows), len(heldout_rows), out_dir)
        out.print(f"plan with it: foreplan run --planner {student}+{gguf} --toolkit {toolkit_file} \"...\"",
                  highlight=False)


def _check_same_run(out_dir: Path, settings: dict[str, Any]) -> None:
    """Refuse to resume a folder made with other settings, which would mix two runs' data.

    Raises:
        ConfigError: ``out_dir`` holds a run with different settings.
    """
    from foreplan.errors import ConfigError

    path = out_dir / "tune.json"
    if path.exists():
        earlier = json.loads(path.read_text(encoding="utf-8"))
        changed = [k for k in settings if earlier.get(k) != settings[k]]
        if changed:
            raise ConfigError(f"{out_dir} holds a tune run with other settings ({', '.join(changed)} changed): "
                              "run with the same options to resume it, or choose another --out.")
    else:
        path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")


def _teach(toolkit: Any, teacher_model: str, want: int, max_tries: int, seed: int, out_dir: Path) -> list[Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from foreplan.errors import DatasetError
    from foreplan.synth.teach import Teacher, read_tries, teach

    path = out_dir / "tries.jsonl"
    tries = read_tries(path)
    if sum(t.kept for t in tries) < want and len(tries) < max_tries:
        teacher = Teacher(resolve(teacher_model), toolkit, seed=seed)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err,
                      transient=True) as bar:
            kept = bar.add_task(f"1 teach · {teacher_model} · kept", total=want, completed=sum(t.kept for t in tries))
            tries = teach(teacher, want, path, max_tries, on_try=lambda t: bar.advance(kept, int(t.kept)))
    n_kept = sum(t.kept for t in tries)
    _say(f"1 teach: {n_kept} tasks kept of {len(tries)} tries ({path})")
    reasons: dict[str, int] = {}
    for t in tries:
        if not t.kept:
            key = t.why.split(":")[0]
            reasons[key] = reasons.get(key, 0) + 1
    for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        _say(f"    dropped {count}: {reason}")
    if n_kept < want // 2:
        raise DatasetError(f"the teacher's plans passed for only {n_kept} of {len(tries)} tries (the reasons are "
                           "above): try a stronger --teacher, a worked planner_example in the toolkit file, or "
                           "fewer --tasks.")
    return tries


def _split(tries: list[Any], toolkit: Any, heldout: float, seed: int, out_dir: Path) -> tuple[list[Any], list[Any]]:
    from foreplan.errors import DatasetError
    from foreplan.synth.dataset import declare, write_jsonl
    from foreplan.synth.teach import examples

    train_rows, heldout_rows = examples(tries, toolkit, heldout, seed)
    if not train_rows or not heldout_rows:
        raise DatasetError(f"the split left {len(train_rows)} train and {len(heldout_rows)} held-out tasks; "
                           "ask for more --tasks.")
    data = out_dir / "data"
    declare(data, train_rows, "tune_plans", "train.jsonl")
    write_jsonl(data / "heldout_tasks.jsonl", heldout_rows)
    _say(f"2 split: {len(train_rows)} train, {len(heldout_rows)} held-out ({data})")
    return train_rows, heldout_rows


def _evaluate(stage: str, model: str, rows: list[dict[str, Any]], box: Any, out_dir: Path) -> dict[str, float]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from foreplan.eval.planner_eval import PlannerTask, run_planner_eval, summarize, write_report

    tasks = [PlannerTask(r["id"], r["task"], r["tools"], r["reference_tools"]) for r in rows]
    folder = out_dir / stage
    number = "3" if stage == "before" else "6"
    results = folder / "results.jsonl"
    done = results.exists() and len(results.read_text(encoding="utf-8").splitlines()) >= len(tasks)
    llm = None if done else resolve(model)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err,
                  transient=True) as bar:
        task = bar.add_task(f"{number} {stage} · {model}", total=len(tasks))
        scored = run_planner_eval(tasks, llm, box, results, resume=True, on_result=lambda row: bar.advance(task))
    write_report(scored, folder, model, out_dir / "data" / "heldout_tasks.jsonl")
    summary = summarize(scored)
    _say(f"{number} {stage}: valid {summary['valid']:.2f}, exact tools {summary['tool_exact']:.2f}, "
         f"runs {summary['executed']:.2f} on {len(tasks)} held-out tasks ({folder})")
    return summary


def _train(student: str, template: str, epochs: float, max_steps: int | None, seed: int, n_train: int,
           out_dir: Path) -> Path:
    adapter = out_dir / "adapter"
    if (adapter / "adapter_model.safetensors").exists():
        _say(f"4 train: done earlier ({adapter})")
        return adapter
    from foreplan.train.args import build_args

    try:
        from foreplan.train.recipe import run_training
    except ImportError as exc:
        from foreplan.errors import MissingExtraError

        raise MissingExtraError(exc.name or "torch", "train") from exc
    flags = ["--stage", "sft", "--do_train", "--model_name_or_path", student, "--dataset", "tune_plans",
             "--dataset_dir", str(out_dir / "data"), "--template", template, "--finetuning_type", "lora",
             "--lora_target", "all", "--lora_rank", "8", "--lora_alpha", "16", "--lora_dropout", "0.05",
             "--cutoff_len", "1280", "--per_device_train_batch_size", "1", "--gradient_accumulation_steps", "4",
             "--learning_rate", "2e-4", "--lr_scheduler_type", "cosine", "--warmup_steps", str(min(8, n_train // 8)),
             "--num_train_epochs", str(epochs), "--logging_steps", "1", "--save_steps", "5", "--seed", str(seed),
             "--plot_loss", "--output_dir", str(adapter)]
    if max_steps is not None:
        flags += ["--max_steps", str(max_steps)]
    if adapter.exists() and any(adapter.glob("checkpoint-*")):
        flags += ["--resume_from_checkpoint", "true"]
    elif adapter.exists():
        flags += ["--overwrite_output_dir"]
    result = run_training(build_args(flags), say=lambda m: err.print(m, highlight=False, markup=False))
    _say(f"4 train: {result.steps} steps, last loss {result.history[-1]['loss'] if result.history else '-'} ({adapter})")
    return adapter


def _export(adapter: Path, student: str, out_dir: Path) -> Path:
    from foreplan.export.lora import export_lora

    path = out_dir / ADAPTER_FILE
    if not path.exists():
        export_lora(adapter, student, path)
    _say(f"5 export: {path}")
    return path


def _report(before: dict[str, float], after: dict[str, float], student: str, teacher: str, n_train: int,
            n_heldout: int, out_dir: Path) -> None:
    from rich.table import Table

    rows = [("valid", "valid"), ("exact tools", "tool_exact"), ("tool precision", "tool_precision"),
            ("tool recall", "tool_recall"), ("plan runs", "executed"), ("steps", "steps"),
            ("s/plan", "seconds")]
    table = Table("held-out", f"{student}", "tuned", "change", title="7 report")
    lines = [f"# foreplan tune · student {student} · teacher {teacher}", "",
             f"{n_train} train tasks, {n_heldout} held-out tasks (never trained on).", "",
             f"| held-out | {student} | tuned | change |", "|---|---|---|---|"]
    for label, key in rows:
        a, b = before.get(key, 0.0), after.get(key, 0.0)
        cells = (f"{a:.2f}", f"{b:.2f}", f"{b - a:+.2f}")
        table.add_row(label, *cells)
        lines.append(f"| {label} | {' | '.join(cells)} |")
    out.print(table)
    (out_dir / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _say(f"7 report: {out_dir / 'report.md'}")


def _say(message: str) -> None:
    err.print(message, highlight=False, markup=False)
