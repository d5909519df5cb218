"""``foreplan eval solver``: does the answer say what the evidence holds?

Each task of the suite (solver_suite.py) is planned and run once, by the planner and the
caller model; then every solver model answers from that same evidence, so the solvers
are compared on equal footing. Per task and solver:

    holds      the evidence states the expected value (and, for a task that picks one
               of several values, all of them: both prices, for the dearer one)
    right      the answer states the expected value (numbers within 0.01, or 1e-4 of it;
               texts as words, in the expected case: "robrah" is not "ROBRAH"). A task that picks one of two values must lead with
               the right one: the first number the answer gives that the task did not
    invented   the answer states a number that is in neither the task, the plan nor the
               evidence (the solver's own check decides: solve.invented_numbers)
    first      the same for the solver's first answer, before its answer check re-asks
               or falls back (what foreplan answered before the check existed)
    fallback   the answer check replaced the solver's answer with the last evidence

Rows are appended to ``results.jsonl`` as they finish, so an interrupted run resumes.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from foreplan.errors import ForeplanError
from foreplan.eval.results import run_resumable
from foreplan.eval.solver_suite import Task, Value, make_tasks, make_toolkit
from foreplan.execute.caller import FunctionCaller
from foreplan.execute.dag import Worker
from foreplan.llm.base import LLM, GenerationOptions, Message
from foreplan.llm.meter import MeteredLLM
from foreplan.plan.planner import Planner
from foreplan.solve import Solver, invented_numbers, supported_numbers
from foreplan.types import numbers_in
from foreplan.tools.context import RunContext
from foreplan.types import Completion, Evidence, Plan


class FirstAnswer:
    """Passes calls through to ``llm`` and keeps the first reply: the solver's answer
    before its answer check."""

    def __init__(self, llm: LLM) -> None:
        self.llm, self.name, self.supports_grammar = llm, llm.name, llm.supports_grammar
        self.first: Completion | None = None

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        completion = self.llm.generate(messages, options)
        if self.first is None:
            self.first = completion
        return completion


def _close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) <= max(Decimal("0.01"), abs(b) * Decimal("0.0001"))


def _normal(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text).strip()


def states(text: str, value: Value) -> bool:
    """Whether ``text`` states ``value`` (a number within tolerance, or a text)."""
    if isinstance(value, str):
        return f" {_normal(value)} " in f" {_normal(text)} "
    return any(_close(n, Decimal(str(value))) for n in numbers_in(text))


def is_right(task: Task, answer: str) -> bool:
    if not task.choice:
        return states(answer, task.expected)
    given = set(numbers_in(task.instruction))
    headline = next((n for n in numbers_in(answer) if n not in given), None)
    return headline is not None and _close(headline, Decimal(str(task.expected)))


def evidence_holds(task: Task, evidence: dict[str, Evidence]) -> bool:
    return holds_in("\n".join(e.text() for e in evidence.values() if e.ok), task)


def holds_in(text: str, task: Task) -> bool:
    return states(text, task.expected) and all(states(text, v) for v in task.choice)


def rescore(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows' ``holds`` and ``right`` judged again from what they recorded (the evidence
    texts and the answers), after a change to the judging: no model runs."""
    tasks = {t.id: t for t in make_tasks()}
    for row in rows:
        task = tasks[row["id"]]
        ok = "\n".join(text for text in row.get("evidence", {}).values() if not text.startswith("["))
        row["holds"] = "error" not in row and holds_in(ok, task)
        for judged in row["solvers"].values():
            judged["right"], judged["right_first"] = is_right(task, judged["answer"]), is_right(task, judged["first_answer"])
    return rows


def _judge(task: Task, plan: Plan, evidence: dict[str, Evidence], completion: Completion,
           first: Completion, seconds: float) -> dict[str, Any]:
    known = supported_numbers(task.instruction, plan, evidence)
    fallback = completion.finish_reason == "fallback"
    return {
        "answer": completion.text.strip(), "first_answer": first.text.strip(),
        "right": is_right(task, completion.text), "right_first": is_right(task, first.text),
        "invented": [] if fallback else invented_numbers(completion.text, known),
        "invented_first": invented_numbers(first.text, known),
        "fallback": fallback, "seconds": round(seconds, 3),
    }


def answer_task(task: Task, planner: LLM, caller: LLM | None, solvers: dict[str, LLM]) -> dict[str, Any]:
    """Plan and run ``task`` once, then answer it with every solver: one results row."""
    toolkit = make_toolkit()
    row: dict[str, Any] = {"id": task.id, "kind": task.kind, "instruction": task.instruction,
                           "expected": task.expected}
    started = time.perf_counter()
    try:
        planned = Planner(planner, toolkit).plan(task.instruction)
        evidence = Worker(toolkit, FunctionCaller(caller), context=RunContext(llm=planner)).run(planned.plan)
    except ForeplanError as exc:  # no plan: every solver is scored wrong, none invented anything
        return {**row, "error": f"{type(exc).__name__}: {exc}", "holds": False, "solvers": {}}
    row.update(plan=planned.plan.render(), evidence={k: e.text() for k, e in evidence.items()},
               holds=evidence_holds(task, evidence), run_seconds=round(time.perf_counter() - started, 3),
               solvers={})
    for name, llm in solvers.items():
        recorded = FirstAnswer(llm)
        metered = MeteredLLM(recorded)  # type: ignore[arg-type]
        completion = Solver(metered).solve(task.instruction, planned.plan, evidence)
        assert recorded.first is not None
        row["solvers"][name] = _judge(task, planned.plan, evidence, completion, recorded.first, metered.usage.seconds)
    return row


def run_solver_eval(planner: LLM, caller: LLM | None, solvers: dict[str, LLM], folder: Path,
                    limit: int | None = None, resume: bool = False,
                    on_row: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    tasks = make_tasks()[:limit]
    return run_resumable(tasks, lambda t: t.id, lambda t: answer_task(t, planner, caller, solvers),
                         Path(folder) / "results.jsonl", resume, on_row)


def summarize(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per solver: right, right where the evidence holds the answer, invented values and
    seconds, for the checked answer and the first one; and right (holds) by kind."""
    names = list(dict.fromkeys(n for r in rows for n in r["solvers"]))
    summary = {}
    for name in names:
        scored = [(r, r["solvers"][name]) for r in rows if name in r["solvers"]]
        held = [(r, s) for r, s in scored if r["holds"]]
        kinds = sorted({r["kind"] for r in rows})
        summary[name] = {
            "tasks": len(rows), "holds": len(held),
            "right": sum(s["right"] for _, s in scored), "right_first": sum(s["right_first"] for _, s in scored),
            "right_where_holds": sum(s["right"] for _, s in held),
            "right_first_where_holds": sum(s["right_first"] for _, s in held),
            "invented": sum(bool(s["invented"]) for _, s in scored),
            "invented_first": sum(bool(s["invented_first"]) for _, s in scored),
            "fallbacks": sum(s["fallback"] for _, s in scored),
            "seconds_per_task": round(sum(s["seconds"] for _, s in scored) / max(len(scored), 1), 2),
            "by_kind": {k: [sum(s["right"] for r, s in held if r["kind"] == k),
                            sum(1 for r, _ in held if r["kind"] == k)] for k in kinds},
        }
    return summary


def _rate(part: int, whole: int) -> str:
    return f"{part}/{whole} ({part / whole:.1%})" if whole else "0/0"


def write_report(rows: list[dict[str, Any]], folder: Path, planner: str, caller: str) -> Path:
    """report.json and report.md in ``folder``; returns the markdown's path."""
    summary = summarize(rows)
    folder = Path(folder)
    (folder / "report.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    failed = sum("error" in r for r in rows)
    run_seconds = [r["run_seconds"] for r in rows if "run_seconds" in r]
    lines = [f"# Solver suite · planner {planner} · caller {caller}", "",
             f"{len(rows)} tasks; each planned and run once ({failed} without a valid plan; plan + tools "
             f"{sum(run_seconds) / max(len(run_seconds), 1):.1f} s per task), then answered by every solver "
             "from the same evidence. *First answer*: the solver's reply before the answer check "
             "(foreplan before the check existed).", "",
             "| solver | right where the evidence holds the answer | first answer | right overall | "
             "answers with an invented value | first answer | fallbacks | solver s/task |",
             "|---|---|---|---|---|---|---|---|"]
    for name, s in summary.items():
        lines.append(f"| {name} | {_rate(s['right_where_holds'], s['holds'])} | "
                     f"{_rate(s['right_first_where_holds'], s['holds'])} | {_rate(s['right'], s['tasks'])} | "
                     f"{s['invented']} | {s['invented_first']} | {s['fallbacks']} | {s['seconds_per_task']} |")
    kinds = sorted({r["kind"] for r in rows})
    lines += ["", "Right where the evidence holds the answer, by kind:", "",
              "| solver | " + " | ".join(kinds) + " |", "|---|" + "---|" * len(kinds)]
    for name, s in summary.items():
        lines.append(f"| {name} | " + " | ".join(_rate(*s["by_kind"][k]) for k in kinds) + " |")
    wrong = [(r, n, s) for r in rows for n, s in r["solvers"].items() if r["holds"] and not s["right"]]
    lines += ["", "## Wrong answers where the evidence held the answer", ""]
    for r, name, s in wrong:
        lines += [f"- **{r['id']}** ({name}): {r['instruction']} expected {r['expected']!r}; "
                  f"answered {s['answer'][:200]!r}"]
    path = folder / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
