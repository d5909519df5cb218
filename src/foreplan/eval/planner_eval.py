"""Plan quality: does a planner model write plans that parse, validate, pick the right
tools and run? (``foreplan eval planner --tasks FILE --model M``)

Task file: JSON Lines, one task per line (documented in ``data/README.md``)::

    {"id": "t1", "task": "How many hours is flight LH400 delayed?",
     "tools": ["calculator", "get_flight_status"], "reference_tools": ["get_flight_status", "calculator"]}

``tools`` is exactly the toolkit shown to the planner, in order; names resolve against
the built-ins, the offline workspace tools and ``foreplan.synth.tools``. ``id`` defaults
to the line number. Per task, the real :class:`~foreplan.plan.planner.Planner` (plan
grammar on unless ``grammar=False``, one repair round as in the agent) writes a plan:

    first_parsed / first_valid   the first text parses / validates (what the model wrote)
    valid                        a valid plan came out of the planner (after its repair round)
    tool_exact                   the multiset of tools called equals reference_tools
    tool_precision / _recall     per-tool overlap of those multisets
    executed                     the worker ran every step successfully (offline tools;
                                 ``LLM`` steps get a stub reply; tools with several
                                 arguments need a JSON-object input: no caller model runs)
    steps, tokens, seconds       of the final plan / all planner calls / wall time

Rows are appended to ``results.jsonl`` as they finish, so an interrupted run resumes.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from foreplan.errors import ConfigError, ForeplanError, PlanInvalidError, PlanParseError
from foreplan.eval.results import read_json_lines, run_resumable
from foreplan.execute.dag import Worker
from foreplan.llm.base import LLM, GenerationOptions, Message
from foreplan.llm.meter import MeteredLLM
from foreplan.plan.grammar import DEFAULT_MAX_STEPS
from foreplan.plan.parse import parse_plan
from foreplan.plan.planner import Planner
from foreplan.plan.validate import validate_plan
from foreplan.synth.toolbox import StubLLM, Toolbox
from foreplan.tools.context import RunContext
from foreplan.tools.toolkit import Toolkit
from foreplan.types import Completion, Plan

#: Summary rates, in the order the table and chart show them.
RATES = ("first_parsed", "first_valid", "valid", "tool_exact", "tool_precision", "tool_recall", "executed")


@dataclass(frozen=True)
class PlannerTask:
    id: str
    task: str
    tools: list[str]
    reference_tools: list[str]


@dataclass
class TaskResult:
    id: str
    task: str
    reference_tools: list[str]
    used_tools: list[str] = field(default_factory=list)
    first_parsed: bool = False
    first_valid: bool = False
    valid: bool = False
    tool_exact: bool = False
    tool_precision: float = 0.0
    tool_recall: float = 0.0
    executed: bool = False
    steps: int = 0
    tokens: int = 0
    seconds: float = 0.0
    attempts: int = 0
    problems: list[str] = field(default_factory=list)
    """Why the plan did not parse, validate or run; empty when it did."""
    texts: list[str] = field(default_factory=list)
    """What the planner wrote, per attempt."""


def load_tasks(path: Path) -> list[PlannerTask]:
    """Read a planner task file.

    Raises:
        ConfigError: the file is missing, a line is not a JSON object, or a row lacks
            ``task``, ``tools`` or ``reference_tools`` (the message names the line).
    """
    path = Path(path)
    tasks: list[PlannerTask] = []
    for number, row in read_json_lines(path, "task file"):
        ok = (isinstance(row, dict) and isinstance(row.get("task"), str) and row["task"].strip()
              and all(isinstance(row.get(k), list) and all(isinstance(n, str) for n in row[k])
                      for k in ("tools", "reference_tools")) and row["tools"])
        if not ok:
            raise ConfigError(f'{path}:{number}: a task row needs "task" (text), "tools" (a non-empty list of '
                              'tool names) and "reference_tools" (a list of tool names)')
        tasks.append(PlannerTask(str(row.get("id", number)), row["task"], row["tools"], row["reference_tools"]))
    if not tasks:
        raise ConfigError(f"task file {path} holds no tasks")
    return tasks


def tool_overlap(used: Iterable[str], reference: Iterable[str]) -> tuple[bool, float, float]:
    """(exact multiset match, precision, recall) of the tools a plan calls."""
    used_c, reference_c = Counter(used), Counter(reference)
    same = sum((used_c & reference_c).values())
    precision = same / sum(used_c.values()) if used_c else 0.0
    recall = same / sum(reference_c.values()) if reference_c else float(not used_c)
    return used_c == reference_c, precision, recall


def run_plan(plan: Plan, toolkit: Toolkit) -> list[str]:
    """Execute ``plan`` offline; the failures of its steps (empty when all succeeded)."""
    evidence = Worker(toolkit, max_workers=4, context=RunContext(llm=StubLLM())).run(plan)
    return [f"#{e.step_id} {e.status.value}: {e.error}" for e in evidence.values() if not e.ok]


def evaluate_task(task: PlannerTask, llm: LLM, toolbox: Toolbox, *, grammar: bool = True,
                  max_steps: int = DEFAULT_MAX_STEPS, execute: bool = True,
                  keyword_arguments: bool = False) -> TaskResult:
    """Plan one task with ``llm`` and score the plan.

    Raises:
        LLMError: the backend failed (the caller records it and goes on).
    """
    toolkit = toolbox.toolkit(task.tools)
    metered = _Recorder(llm)
    planner = Planner(metered, toolkit, grammar=grammar, max_steps=max_steps, keyword_arguments=keyword_arguments)
    result = TaskResult(task.id, task.task, task.reference_tools)
    started = time.perf_counter()
    plan: Plan | None = None
    try:
        planned = planner.plan(task.task)
        plan, result.valid = planned.plan, True
    except PlanInvalidError as exc:
        result.problems = exc.problems
    result.seconds = time.perf_counter() - started
    result.texts, result.attempts = metered.texts, len(metered.texts)
    result.tokens = metered.usage.prompt_tokens + metered.usage.completion_tokens
    try:
        first = parse_plan(result.texts[0] if result.texts else "")
        result.first_parsed = True
        result.first_valid = not validate_plan(first, toolkit, max_steps)
    except PlanParseError:
        first = None
    scored = plan or first
    if scored is not None:
        result.used_tools = [s.tool for s in scored.steps]
        result.steps = len(scored.steps)
        result.tool_exact, result.tool_precision, result.tool_recall = tool_overlap(result.used_tools,
                                                                                   task.reference_tools)
    if plan is not None and execute:
        result.problems = run_plan(plan, toolkit)
        result.executed = not result.problems
    return result


class _Recorder(MeteredLLM):
    """Counts the planner's tokens and keeps every text it wrote (the first attempt's
    text is what the model wrote unaided; a failed repair leaves only the last in the error)."""

    def __init__(self, llm: LLM) -> None:
        super().__init__(llm)
        self.texts: list[str] = []

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        completion = super().generate(messages, options)
        self.texts.append(completion.text)
        return completion



def run_planner_eval(tasks: list[PlannerTask], llm: LLM, toolbox: Toolbox, results_path: Path, *,
                     resume: bool = False, grammar: bool = True, execute: bool = True,
                     max_steps: int = DEFAULT_MAX_STEPS, keyword_arguments: bool = False,
                     on_result: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Evaluate every task, appending each row to ``results_path`` as soon as it is scored.

    Args:
        resume: keep the rows already in ``results_path`` and skip their ids; otherwise
            the file is started afresh.

    Returns:
        One row per task, in task order (earlier rows included when resuming).
    """
    def row_for(task: PlannerTask) -> dict[str, Any]:
        try:
            return asdict(evaluate_task(task, llm, toolbox, grammar=grammar, max_steps=max_steps, execute=execute,
                                        keyword_arguments=keyword_arguments))
        except ForeplanError as exc:  # a backend failure is recorded for this task; the run goes on
            row = asdict(TaskResult(task.id, task.task, task.reference_tools, problems=[f"{type(exc).__name__}: {exc}"]))
            return row | {"error": str(exc)}

    return run_resumable(tasks, lambda t: t.id, row_for, Path(results_path), resume, on_result)


def summarize(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Mean of every rate, and of steps, tokens and seconds, over the rows (``n``, ``errors`` too)."""
    if not rows:
        return {"n": 0}
    summary: dict[str, float] = {"n": len(rows), "errors": sum(1 for r in rows if r.get("error"))}
    for key in (*RATES, "steps", "tokens", "seconds"):
        summary[key] = statistics.fmean(float(r.get(key, 0)) for r in rows)
    return summary


def render_table(summary: dict[str, float], title: str):
    """A rich table of one run's summary."""
    from rich.table import Table

    table = Table("metric", "value", title=title)
    for key in (*RATES, "steps", "tokens", "seconds"):
        table.add_row(key, f"{summary.get(key, 0):.3f}" if key in RATES else f"{summary.get(key, 0):.1f}")
    table.caption = f"{summary.get('n', 0):.0f} tasks, {summary.get('errors', 0):.0f} backend errors"
    return table


def write_report(rows: list[dict[str, Any]], out_dir: Path, model: str, tasks_file: Path) -> list[Path]:
    """``report.md`` (summary, then every task) and, when matplotlib is installed,
    ``rates.png``. Returns the files written."""
    out_dir = Path(out_dir)
    summary = summarize(rows)
    lines = [f"# Planner eval: {model}", "", f"Tasks: `{tasks_file}` ({len(rows)} scored)", "",
             "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {summary.get(k, 0):.3f} |" for k in RATES]
    lines += [f"| {k} per plan | {summary.get(k, 0):.1f} |" for k in ("steps", "tokens", "seconds")]
    lines += ["", "| id | valid | tools used | reference | exact | executed | problems |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        problems = "; ".join(r.get("problems", []))[:160].replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {r['id']} | {r.get('valid')} | {', '.join(r.get('used_tools', []))} | "
                     f"{', '.join(r['reference_tools'])} | {r.get('tool_exact')} | {r.get('executed')} | {problems} |")
    written = [out_dir / "report.md"]
    chart = _chart(summary, out_dir / "rates.png", model)
    lines += ["", f"![rates]({chart.name})" if chart else "(no chart: matplotlib is not installed; "
              "pip install 'foreplan[train]')"]
    written[0].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written + ([chart] if chart else [])


def _chart(summary: dict[str, float], path: Path, model: str) -> Path | None:
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display here; must come before pyplot
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.bar(RATES, [summary.get(k, 0) for k in RATES], color="#4c72b0")
    ax.set_ylim(0, 1)
    ax.set_title(f"planner: {model}")
    ax.tick_params(axis="x", labelrotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
