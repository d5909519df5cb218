"""Planner training examples from TaskBench's train split: real task graphs, not synthetic.

Each train record's human-verified graph becomes a foreplan plan (``eval.taskbench.gold_plan``),
shown to the model with the prompt the agent gives it at inference: the tools that
retrieval chooses for the request, and the gold tools among them where retrieval missed
one (the example must be solvable from its prompt). A plan that does not parse or
validate on those tools is dropped and counted. The test split is never read.

    train record ─► gold_plan ─► choose_tools (+ missing gold tools) ─► Planner.prompt
        ─► parse_plan ─► validate_plan ─► alpaca row (instruction = prompt, output = plan)
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from foreplan.errors import PlanParseError
from foreplan.eval.taskbench import gold_plan, load_records, load_toolkit, split_ids
from foreplan.plan.parse import parse_plan
from foreplan.plan.planner import Planner
from foreplan.plan.validate import validate_plan
from foreplan.synth.toolbox import StubLLM
from foreplan.tools.retrieval import DEFAULT_K, choose_tools


def taskbench_examples(data_dir: Path, k: int = DEFAULT_K) -> tuple[list[dict[str, Any]], Counter[str]]:
    """Alpaca rows for the train split's records, and why the others were dropped."""
    toolkit = load_toolkit(data_dir)
    train = split_ids("train")
    rows: list[dict[str, Any]] = []
    dropped: Counter[str] = Counter()
    for record in load_records(data_dir):
        if str(record["id"]) not in train:
            continue
        text = gold_plan(record)
        if text is None:
            dropped["an argument has no value"] += 1
            continue
        try:
            plan = parse_plan(text)
        except PlanParseError:
            dropped["does not parse"] += 1
            continue
        gold = [s.tool for s in plan.steps]
        if any(tool not in toolkit for tool in gold):
            dropped["names a tool outside the 40"] += 1
            continue
        chosen = choose_tools(toolkit, record["user_request"], k).tools
        shown = toolkit.subset([*chosen, *gold])
        if validate_plan(plan, shown):
            dropped["does not validate"] += 1
            continue
        prompt = Planner(StubLLM(), shown).prompt(record["user_request"])[-1]["content"]
        rows.append({"instruction": prompt, "input": "", "output": plan.render().strip(),
                     "id": f"taskbench-{record['id']}", "task": record["user_request"], "tools": list(shown.names)})
    return rows, dropped
