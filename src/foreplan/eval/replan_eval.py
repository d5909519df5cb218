"""``foreplan eval replan``: what does one replan recover, and what does it cost?

Every task of the fault suite (fault_suite.py) runs through the whole agent twice, in a
fresh world each time: with ``max_replans`` 0 (no replan) and 1 (the default). Per run:
right (the answer states the expected value), the replan's reasons, tokens (all roles)
and seconds. The report lists, per task, which answers the replan recovered and which
it lost.

Rows are appended to ``results.jsonl`` as they finish, so an interrupted run resumes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from foreplan.agent import Agent
from foreplan.errors import ForeplanError
from foreplan.eval.fault_suite import TASKS, Task, make_world
from foreplan.eval.results import run_resumable
from foreplan.eval.solver_eval import states
from foreplan.llm.base import LLM

SETTINGS = (0, 1)


def answer_task(task: Task, max_replans: int, planner: LLM, caller: LLM | None) -> dict[str, Any]:
    row: dict[str, Any] = {"id": f"{task.id}:{max_replans}", "task": task.id, "fault": task.fault,
                           "max_replans": max_replans, "expected": task.expected}
    try:
        result = Agent(planner, make_world(), caller=caller, max_replans=max_replans).run(task.instruction)
    except ForeplanError as exc:
        return {**row, "answer": "", "right": False, "error": f"{type(exc).__name__}: {exc}", "replans": [],
                "tokens": 0, "seconds": 0.0}
    tokens = sum(u.prompt_tokens + u.completion_tokens for u in result.usage.values())
    return {**row, "answer": result.answer, "right": states(result.answer, task.expected),
            "replans": [r.reasons for r in result.replans], "notes": result.notes, "tokens": tokens,
            "seconds": round(result.seconds, 2), "plan": result.plan.render()}


def run_replan_eval(planner: LLM, caller: LLM | None, folder: Path, limit: int | None = None, resume: bool = False,
                    on_row: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    items = [(task, n) for task in TASKS[:limit] for n in SETTINGS]
    return run_resumable(items, lambda item: f"{item[0].id}:{item[1]}",
                         lambda item: answer_task(item[0], item[1], planner, caller),
                         Path(folder) / "results.jsonl", resume, on_row)


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by = {n: {r["task"]: r for r in rows if r["max_replans"] == n} for n in SETTINGS}
    both = sorted(set(by[0]) & set(by[1]))
    summary: dict[str, Any] = {}
    for n in SETTINGS:
        runs = [by[n][t] for t in both]
        summary[f"max_replans={n}"] = {
            "runs": len(runs), "right": sum(r["right"] for r in runs),
            "replanned": sum(bool(r["replans"]) for r in runs),
            "tokens_per_task": round(sum(r["tokens"] for r in runs) / max(len(runs), 1)),
            "seconds_per_task": round(sum(r["seconds"] for r in runs) / max(len(runs), 1), 2),
        }
    summary["recovered"] = [t for t in both if by[1][t]["right"] and not by[0][t]["right"]]
    summary["lost"] = [t for t in both if by[0][t]["right"] and not by[1][t]["right"]]
    return summary


def write_report(rows: list[dict[str, Any]], folder: Path, planner: str, caller: str) -> Path:
    summary = summarize(rows)
    folder = Path(folder)
    (folder / "report.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    lines = [f"# Replan on the fault suite · planner {planner} · caller {caller}", "",
             f"{len(TASKS)} tasks whose tools fail once (a 503, a search that needs other words, a timeout); "
             "each run twice in a fresh world, without and with one replan.", "",
             "| setting | right | replanned | tokens/task | s/task |", "|---|---|---|---|---|"]
    for name in (f"max_replans={n}" for n in SETTINGS):
        s = summary[name]
        lines.append(f"| {name} | {s['right']}/{s['runs']} | {s['replanned']} | {s['tokens_per_task']} | "
                     f"{s['seconds_per_task']} |")
    lines += ["", f"Recovered by the replan: {', '.join(summary['recovered']) or 'none'}. "
              f"Lost: {', '.join(summary['lost']) or 'none'}.", "",
              "| task | fault | expected | without replan | with one replan | why it replanned |",
              "|---|---|---|---|---|---|"]
    by = {(r["task"], r["max_replans"]): r for r in rows}
    for task in TASKS:
        off, on = by.get((task.id, 0)), by.get((task.id, 1))
        if off is None or on is None:
            continue
        mark = {True: "✓", False: "✗"}
        why = "; ".join(reason for reasons in on["replans"] for reason in reasons)[:160]
        lines.append(f"| {task.id} | {task.fault} | {task.expected} | {mark[off['right']]} {off['answer'][:60]!r} | "
                     f"{mark[on['right']]} {on['answer'][:60]!r} | {why} |".replace("\n", " "))
    path = folder / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
