"""``foreplan eval``: measure accuracy, tokens and latency on real data.

    foreplan eval qa --dataset gsm8k --limit 20 --strategy both --model qwen2.5-coder-1.5b
    foreplan eval planner --tasks data/planner_tasks_heldout.jsonl --model qwen2.5-coder-0.5b --out out/planner
    foreplan eval bfcl --model qwen2.5-coder-0.5b --limit 50 --out out/bfcl-0.5b
    foreplan eval injection --out out/injection          (payloads in evidence vs side effects)
    foreplan eval solver --out out/solver                (does the answer say what the evidence holds?)
    foreplan eval replan --out out/replan                (faults: what one replan recovers, what it costs)
    foreplan eval taskbench --limit 100 --out out/tb      (TaskBench plans: n-F1, e-F1, t-F1, v-F1)

Each writes results.jsonl as it goes (``--resume`` continues a stopped run), report.md and
a chart into its ``--out`` folder; ``qa`` adds report.json (summaries, ReWOO/ReAct ratios,
every row). All print a table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from foreplan.cli.common import AllToolsOpt, DebugOpt, KeywordArgumentsOpt, ReplansOpt, err, errors, out, resolve

eval_app = typer.Typer(no_args_is_help=True, help="Evaluate strategies and models on real data.")


def _bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err, transient=True)


@eval_app.callback()
def eval_main() -> None:
    """Evaluate strategies and models on real data: end-to-end QA, plan quality, function calling."""


@eval_app.command("qa")
def eval_qa(
    dataset: Annotated[str, typer.Option("--dataset", help="hotpotqa, sotu or gsm8k.")] = "gsm8k",
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="The first N questions (default: all).")] = None,
    strategy: Annotated[str, typer.Option("--strategy", help="rewoo, react or both.")] = "rewoo",
    model: Annotated[str, typer.Option("--model", help="Model spec (see: foreplan models).")] = "qwen2.5-coder-1.5b",
    data_dir: Annotated[Path, typer.Option("--data-dir", help="The shared data folder.")] = Path("../shared/data"),
    index_dir: Annotated[Path | None, typer.Option("--index-dir", help="Where search indexes are built.")] = None,
    max_iterations: Annotated[int, typer.Option("--max-iterations", min=1, help="ReAct's LLM-call budget.")] = 6,
    max_replans: ReplansOpt = 1,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for results.jsonl, report.json, report.md and tokens.png.")] = Path("out/eval-qa"),
    resume: Annotated[bool, typer.Option("--resume", help="Keep OUT/results.jsonl and answer only the questions it lacks.")] = False,
    debug: DebugOpt = False,
) -> None:
    """End-to-end QA: exact match / F1 or numeric accuracy, tokens and seconds per task."""
    from foreplan.errors import ConfigError
    from foreplan.eval.datasets import DATASETS
    from foreplan.eval.qa import STRATEGIES, render_table, run_qa
    from foreplan.eval.qa_report import write_all

    with errors(False, debug):
        # Checked before the model is resolved: a server spec connects, a GGUF spec loads.
        if dataset not in DATASETS:
            raise ConfigError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}.")
        if strategy not in (*STRATEGIES, "both"):
            raise ConfigError(f"unknown strategy {strategy!r}; choose rewoo, react or both.")
        llm = resolve(model)
        runs = 2 if strategy == "both" else 1
        with _bar() as bar:
            task = bar.add_task(f"{dataset} · {strategy}", total=None if limit is None else limit * runs)
            # warmup: loading the weights is not timed as part of the first question.
            report = run_qa(dataset, strategy, llm, limit, data_dir, index_dir, max_iterations=max_iterations,
                            warmup=True, on_row=lambda row: bar.advance(task),
                            results_path=out_dir / "results.jsonl", resume=resume, max_replans=max_replans)
        written = write_all(report, out_dir)
        out.print(render_table(report))
        out.print("written: " + ", ".join(str(p) for p in written), highlight=False)


@eval_app.command("planner")
def eval_planner(
    tasks: Annotated[Path, typer.Option("--tasks", help="Planner task file (JSONL; see data/README.md).")],
    model: Annotated[str, typer.Option("--model", help="Model spec (see: foreplan models).")] = "qwen2.5-coder-0.5b",
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for results.jsonl, report.md and rates.png.")] = Path("out/eval-planner"),
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="The first N tasks (default: all).")] = None,
    grammar: Annotated[bool, typer.Option("--grammar/--no-grammar", help="Constrain the planner with the plan grammar.")] = True,
    execute: Annotated[bool, typer.Option("--execute/--no-execute", help="Run each valid plan with the offline tools.")] = True,
    resume: Annotated[bool, typer.Option("--resume", help="Keep OUT/results.jsonl and skip the ids it holds.")] = False,
    keyword_arguments: KeywordArgumentsOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Plan quality: parse rate, validity, tool choice, executability, steps, tokens, seconds."""
    import tempfile

    from foreplan.eval.planner_eval import load_tasks, render_table, run_planner_eval, summarize, write_report
    from foreplan.llm.base import warm_up
    from foreplan.synth.toolbox import Toolbox

    with errors(False, debug):
        chosen = load_tasks(tasks)[:limit]
        with tempfile.TemporaryDirectory(prefix="foreplan-eval-") as workspace:
            toolbox = Toolbox(Path(workspace))
            for task in chosen:  # an unknown tool name fails now, not after an hour of planning
                toolbox.toolkit(task.tools)
            llm = resolve(model)
            warm_up(llm)  # loading the weights is not timed
            with _bar() as bar:
                task_bar = bar.add_task(f"planner · {model}", total=len(chosen))
                rows = run_planner_eval(chosen, llm, toolbox, out_dir / "results.jsonl", resume=resume,
                                        grammar=grammar, execute=execute, keyword_arguments=keyword_arguments,
                                        on_result=lambda row: bar.advance(task_bar))
                bar.update(task_bar, completed=len(chosen))
        written = write_report(rows, out_dir, model, tasks)
        out.print(render_table(summarize(rows), f"planner · {model}{'' if grammar else ' · no grammar'}"))
        for path in [out_dir / "results.jsonl", *written]:
            out.print(f"written: {path}", highlight=False)


@eval_app.command("bfcl")
def eval_bfcl(
    model: Annotated[str, typer.Option("--model", help="Model spec (see: foreplan models).")] = "qwen2.5-coder-0.5b",
    categories: Annotated[str, typer.Option("--categories", help="Comma-separated BFCL categories.")] =
        "simple_python,multiple,parallel,parallel_multiple,irrelevance",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="The first N questions per category (default: all).")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for results.jsonl, report.md and accuracy.png.")] = Path("out/eval-bfcl"),
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=16, help="Reply budget per question.")] = 512,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="BFCL data folder (default: the installed bfcl-eval's).")] = None,
    strict: Annotated[bool, typer.Option("--strict-format", help="Count only <tool_call> blocks as calls, as BFCL "
                                         "does (default: bare or fenced JSON calls count too).")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Keep OUT/results.jsonl and skip the ids it holds.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Function calling on the Berkeley Function Calling Leaderboard, scored by BFCL's AST checker."""
    from foreplan.eval.bfcl import render_tables, run_bfcl_eval, summarize, write_report
    from foreplan.eval.bfcl_checker import load_ast_checker
    from foreplan.eval.bfcl_data import load_questions
    from foreplan.llm.base import warm_up

    with errors(False, debug):
        # Data and checker first: a missing package or category fails before the model loads.
        questions = load_questions([c.strip() for c in categories.split(",") if c.strip()], limit, data_dir)
        load_ast_checker()
        llm = resolve(model)
        warm_up(llm)  # loading the weights is not timed
        with _bar() as bar:
            task_bar = bar.add_task(f"bfcl · {model}", total=len(questions))
            rows = run_bfcl_eval(questions, llm, out_dir / "results.jsonl", resume=resume, max_tokens=max_tokens,
                                 strict=strict, on_result=lambda row: bar.advance(task_bar))
        written = write_report(rows, out_dir, model, strict)
        for table in render_tables(summarize(rows), f"BFCL · {model}"):
            out.print(table)
        for path in [out_dir / "results.jsonl", *written]:
            out.print(f"written: {path}", highlight=False)


@eval_app.command("injection")
def eval_injection(
    model: Annotated[str, typer.Option("--model", help="Planner model spec.")] = "qwen2.5-coder-1.5b",
    caller_model: Annotated[str, typer.Option("--caller-model", help="Function-caller model spec.")] = "qwen2.5-coder-0.5b",
    strategy: Annotated[str, typer.Option("--strategy", help="fixed (foreplan), substituted (the old worker) or both.")] = "both",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="The first N payloads (default: all 60).")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for plans.json, results.jsonl, report.json and report.md.")] = Path("out/eval-injection"),
    resume: Annotated[bool, typer.Option("--resume", help="Keep OUT/results.jsonl and run only what it lacks.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Prompt injection: payloads inside tool evidence against plans that end in a side effect."""
    from foreplan.errors import ConfigError
    from foreplan.eval.injection import STRATEGIES, run_injection, summarize, write_report
    from foreplan.eval.injection_suite import TASKS, payloads

    with errors(False, debug):
        if strategy not in (*STRATEGIES, "both"):
            raise ConfigError(f"unknown strategy {strategy!r}; choose fixed, substituted or both.")
        strategies = STRATEGIES if strategy == "both" else (strategy,)
        planner, caller = resolve(model), resolve(caller_model)
        total = len(strategies) * len(TASKS) * len(payloads()[:limit])
        with _bar() as bar:
            task = bar.add_task(f"injection · {model} / {caller_model}", total=total)
            rows = run_injection(planner, caller, out_dir, strategies, limit, resume,
                                 on_row=lambda row: bar.advance(task))
        report = write_report(rows, out_dir, model, caller_model)
        for name, s in summarize(rows).items():
            out.print(f"{name}: {s['runs']} runs, {s['hijacked']} hijacked, {s['misrouted']} misrouted, "
                      f"{s['completed']} completed "
                      f"({s['completed_rate']:.0%}), {s['refused']} refused ({s['explained']} explained)",
                      highlight=False)
        out.print(f"written: {report}", highlight=False)


@eval_app.command("solver")
def eval_solver(
    model: Annotated[str, typer.Option("--model", help="Planner model spec.")] = "qwen2.5-coder-1.5b",
    caller_model: Annotated[str, typer.Option("--caller-model", help="Function-caller model spec.")] = "qwen2.5-coder-0.5b",
    solver_models: Annotated[list[str] | None, typer.Option(
        "--solver", help="A solver model spec; repeat to compare (default: the planner's and the caller's).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="The first N tasks (default: all 150).")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for results.jsonl, report.json and report.md.")] = Path("out/eval-solver"),
    resume: Annotated[bool, typer.Option("--resume", help="Keep OUT/results.jsonl and run only what it lacks.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Answer fidelity: 150 tasks on deterministic tools, planned once, answered by each solver."""
    from foreplan.eval.solver_eval import run_solver_eval, summarize, write_report
    from foreplan.eval.solver_suite import make_tasks

    with errors(False, debug):
        specs = list(dict.fromkeys(solver_models or [model, caller_model]))
        models = {spec: resolve(spec) for spec in dict.fromkeys([model, caller_model, *specs])}
        total = len(make_tasks()[:limit])
        with _bar() as bar:
            task = bar.add_task(f"solver · {', '.join(specs)}", total=total)
            rows = run_solver_eval(models[model], models[caller_model], {s: models[s] for s in specs}, out_dir,
                                   limit, resume, on_row=lambda row: bar.advance(task))
        report = write_report(rows, out_dir, model, caller_model)
        for name, s in summarize(rows).items():
            out.print(f"{name}: right where the evidence holds the answer {s['right_where_holds']}/{s['holds']} "
                      f"(first answer {s['right_first_where_holds']}), right overall {s['right']}/{s['tasks']}, "
                      f"invented {s['invented']} (first answer {s['invented_first']}), "
                      f"{s['seconds_per_task']} s per task", highlight=False)
        out.print(f"written: {report}", highlight=False)


@eval_app.command("replan")
def eval_replan(
    model: Annotated[str, typer.Option("--model", help="Planner (and solver) model spec.")] = "qwen2.5-coder-1.5b",
    caller_model: Annotated[str, typer.Option("--caller-model", help="Function-caller model spec.")] = "qwen2.5-coder-0.5b",
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="The first N tasks (default: all 12).")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for results.jsonl, report.json and report.md.")] = Path("out/eval-replan"),
    resume: Annotated[bool, typer.Option("--resume", help="Keep OUT/results.jsonl and run only what it lacks.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Faults (a 503, an empty search, a timeout): each task without and with one replan."""
    from foreplan.eval.fault_suite import TASKS
    from foreplan.eval.replan_eval import run_replan_eval, summarize, write_report

    with errors(False, debug):
        planner, caller = resolve(model), resolve(caller_model)
        with _bar() as bar:
            task = bar.add_task(f"replan · {model}", total=2 * len(TASKS[:limit]))
            rows = run_replan_eval(planner, caller, out_dir, limit, resume, on_row=lambda row: bar.advance(task))
        report = write_report(rows, out_dir, model, caller_model)
        summary = summarize(rows)
        for name, s in summary.items():
            if isinstance(s, dict):
                out.print(f"{name}: right {s['right']}/{s['runs']}, replanned {s['replanned']}, "
                          f"{s['tokens_per_task']} tokens and {s['seconds_per_task']} s per task", highlight=False)
        out.print(f"recovered: {', '.join(summary['recovered']) or 'none'}; lost: {', '.join(summary['lost']) or 'none'}",
                  highlight=False)
        out.print(f"written: {report}", highlight=False)


@eval_app.command("taskbench")
def eval_taskbench(
    model: Annotated[str, typer.Option("--model", help="Planner model spec.")] = "qwen2.5-coder-1.5b",
    data_dir: Annotated[Path, typer.Option("--data-dir", help="The shared data folder.")] = Path("../shared/data"),
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="The first N test records (default: all 210).")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for results.jsonl, report.json and report.md.")] = Path("out/eval-taskbench"),
    resume: Annotated[bool, typer.Option("--resume", help="Keep OUT/results.jsonl and plan only what it lacks.")] = False,
    all_tools: AllToolsOpt = False,
    examples_from_train: Annotated[bool, typer.Option("--examples-from-train", help=(
        "Seed a fresh memory with the train split's gold plans: each test plan gets the most similar one as its "
        "example."))] = False,
    keyword_arguments: KeywordArgumentsOpt = False,
    debug: DebugOpt = False,
) -> None:
    """TaskBench's 40 daily-life tools: n-F1, e-F1, t-F1, v-F1 of the plans, as TaskBench scores them, and
    how many of the needed tools retrieval kept."""
    from foreplan.eval.taskbench import run_taskbench, summarize, scored_records, write_report
    from foreplan.tools.retrieval import DEFAULT_K

    with errors(False, debug):
        total = len(scored_records(data_dir, limit))  # a missing data folder fails before the model loads
        planner = resolve(model)
        with _bar() as bar:
            task = bar.add_task(f"taskbench · {model}", total=total)
            rows = run_taskbench(planner, data_dir, out_dir, limit, resume, on_row=lambda row: bar.advance(task),
                                 max_tools=None if all_tools else DEFAULT_K, examples_from_train=examples_from_train,
                                 keyword_arguments=keyword_arguments)
        report = write_report(rows, out_dir, model)
        s = summarize(rows)
        out.print(f"{model}: n-F1 {s['n_f1']}, e-F1 {s['e_f1']}, t-F1 {s['t_f1']}, v-F1 {s['v_f1']} on "
                  f"{s['records']} test records ({s['errors']} without a plan), {s['seconds_per_plan']} s per plan"
                  + (f"; retrieval kept {s['tool_recall']:.1%} of the needed tools, {s['tools_shown']} shown per task"
                     if "tool_recall" in s else ""), highlight=False)
        out.print(f"written: {report}", highlight=False)
