"""``foreplan eval taskbench``: plans on TaskBench's 40 daily-life tools, scored as
TaskBench's evaluate.py scores them (../shared/data/taskbench/README.md).

The 40 tools become stub tools (their names, descriptions and parameters, all text),
the planner plans each record's ``user_request`` (what TaskBench's inference sends), and
the plan is read back as TaskBench's graph:

    nodes    the plan's tools (names outside the 40 ignored, as in n-F1)
    links    (producer tool, consumer tool) for every ``#E`` reference; a step that cites
             no earlier step is linked from the step before it, since TaskBench's chains
             also link steps that only follow each other ("pay the bill, then call")
    args     ``tool-arg`` and ``tool-arg-value`` for each argument the step's input spells
             out (keywords, positional values in the tool's parameter order, a JSON
             object, or a one-parameter tool's whole input); a referenced value is
             ``<node-k>``, TaskBench's notation for step k's output

Each score pools every record's set comparison into one micro-averaged F1: n-F1, e-F1,
t-F1, v-F1. Records whose gold arguments lack a value are left out, as evaluate.py
leaves them out. The records are split once into test and train (``SPLIT_FILE``, seed
0, committed); only the test split is scored here.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foreplan.errors import ConfigError, ForeplanError, PlanParseError
from foreplan.eval.results import read_json_lines, run_resumable
from foreplan.llm.base import LLM
from foreplan.memory import RunMemory
from foreplan.plan.parse import parse_plan
from foreplan.plan.planner import Planner
from foreplan.tools.call_syntax import one_input_text, written_arguments
from foreplan.tools.retrieval import DEFAULT_K, choose_tools
from foreplan.tools.spec import load_spec_tools
from foreplan.tools.toolkit import Toolkit
from foreplan.types import Plan, find_references

SPLIT_FILE = Path(__file__).resolve().parents[3] / "data" / "taskbench_split.json"
TEST_SHARE = 0.3
SEED = 0


def load_toolkit(data_dir: Path) -> Toolkit:
    """TaskBench's 40 daily-life tools as stubs that say what they were asked to do."""
    path = Path(data_dir) / "taskbench" / "dailylifeapis_tools.json"
    if not path.is_file():
        raise ConfigError(f"{path} does not exist; --data-dir must be the shared data folder")
    return Toolkit(load_spec_tools(path))


@dataclass(frozen=True)
class Record:
    id: str
    request: str
    nodes: list[str]
    links: list[tuple[str, str]]
    args: list[str]
    values: list[str]


def _record(row: dict[str, Any]) -> Record | None:
    """The gold graph; None when an argument lacks a value (evaluate.py skips those)."""
    args, values = [], []
    for node in row["task_nodes"]:
        for arg in node.get("arguments", []):
            if not isinstance(arg, dict) or "value" not in arg:
                return None
            args.append(f"{node['task']}-{arg['name']}")
            values.append(f"{node['task']}-{arg['name']}-{arg['value']}")
    links = [(link["source"], link["target"]) for link in row.get("task_links", [])]
    return Record(str(row["id"]), row["user_request"], [n["task"] for n in row["task_nodes"]], links, args, values)


def load_records(data_dir: Path) -> list[dict[str, Any]]:
    path = Path(data_dir) / "taskbench" / "dailylifeapis.jsonl"
    return [row for _, row in read_json_lines(path, "TaskBench records")]


def split(ids: list[str]) -> dict[str, list[str]]:
    """Test and train ids, drawn once with SEED (the committed SPLIT_FILE is this)."""
    shuffled = sorted(ids)
    random.Random(SEED).shuffle(shuffled)
    cut = round(len(shuffled) * TEST_SHARE)
    return {"test": sorted(shuffled[:cut]), "train": sorted(shuffled[cut:])}


def split_ids(name: str) -> set[str]:
    """The record ids of the committed split ``name`` (``test`` or ``train``)."""
    if not SPLIT_FILE.is_file():
        raise ConfigError(f"the TaskBench split {SPLIT_FILE} is missing: run the eval from a clone of foreplan")
    return set(json.loads(SPLIT_FILE.read_text(encoding="utf-8"))[name])


def split_records(data_dir: Path, name: str = "test") -> list[Record]:
    """A split's scorable records, in file order."""
    ids = split_ids(name)
    records = [_record(row) for row in load_records(data_dir) if str(row["id"]) in ids]
    return [r for r in records if r is not None]


def scored_records(data_dir: Path, limit: int | None = None) -> list[Record]:
    """The test split's scorable records, in file order."""
    return split_records(data_dir, "test")[:limit]


def predicted_graph(plan: Plan, toolkit: Toolkit) -> dict[str, list]:
    """The plan as TaskBench's nodes, links, ``tool-arg`` and ``tool-arg-value`` lists."""
    tool_of = {s.id: s.tool for s in plan.steps}
    index = {s.id: i for i, s in enumerate(plan.steps)}
    nodes, links, args, values = [], [], [], []
    for i, step in enumerate(plan.steps):
        nodes.append(step.tool)
        cited = [d for d in step.depends_on if d in tool_of]
        if cited:
            links += [(tool_of[d], step.tool) for d in cited]
        elif i > 0:
            links.append((plan.steps[i - 1].tool, step.tool))
        tool = toolkit.get(step.tool)
        if tool is None:
            continue
        params = list(tool.args_model.model_fields)
        written = {params[0]: one_input_text(step.input, params[0]).strip()} if len(params) == 1 else written_arguments(step.input, params) or {}
        for name, value in written.items():
            text = value if isinstance(value, str) else json.dumps(value)
            refs = find_references(text)
            if refs and refs[0].text == text.strip() and refs[0].step_id in index:
                text = f"<node-{index[refs[0].step_id]}>"
            args.append(f"{step.tool}-{name}")
            values.append(f"{step.tool}-{name}-{text.strip().strip(chr(39)).strip(chr(34))}")
    return {"nodes": nodes, "links": links, "args": args, "values": values}


def _counts(gold: list, predicted: list) -> list[int]:
    g, p = set(map(str, gold)), set(map(str, predicted))
    return [len(g & p), len(p - g), len(g - p)]


def gold_plan(row: dict[str, Any]) -> str | None:
    """A train record's gold graph as a foreplan plan (its ``task_steps`` as the plan
    lines, its arguments as keywords), to seed memory with; None when a step lacks its
    arguments' values."""
    texts = [t for t in row.get("task_steps") or [] if isinstance(t, str)]
    lines = []
    for i, node in enumerate(row["task_nodes"]):
        arguments = node.get("arguments", [])
        if not all(isinstance(a, dict) and "value" in a for a in arguments):
            return None
        said = re.sub(r"^\s*Step \d+\s*:\s*", "", texts[i]) if i < len(texts) else f"Call {node['task']}."
        said = " ".join(said.replace("[", "(").replace("]", ")").replace("#", "").split())
        written = ", ".join(f"{a['name']}={json.dumps(a['value'], ensure_ascii=False)}" for a in arguments)
        lines += [f"Plan: {said}", f"#E{i + 1} = {node['task']}[{written}]"]
    return "\n".join(lines)


def seed_memory(store: RunMemory, data_dir: Path, toolkit: Toolkit) -> int:
    """Store the train split's gold plans as good past runs on ``toolkit`` (never a test
    record); returns how many were stored."""
    train = split_ids("train")
    fingerprint = toolkit.fingerprint()
    stored = 0
    for row in load_records(data_dir):
        text = gold_plan(row) if str(row["id"]) in train else None
        if text is None:
            continue
        try:
            plan = parse_plan(text)
        except PlanParseError:
            continue
        if all(s.tool in toolkit for s in plan.steps):
            store.add(row["user_request"], fingerprint, plan, {}, "", {}, 0.0)
            stored += 1
    return stored


def plan_record(record: Record, planner: LLM, toolkit: Toolkit, max_tools: int | None = DEFAULT_K,
                memory: RunMemory | None = None, keyword_arguments: bool = False) -> dict[str, Any]:
    """Plan one record; with ``max_tools``, on the tools retrieval chooses for it (as an
    agent run does), recording the choice and how many of the gold tools it kept; with
    ``memory``, the most similar stored plan on those tools is the planner's example; with
    ``keyword_arguments``, the plan grammar has every step name its tool's arguments."""
    started = time.perf_counter()
    row: dict[str, Any] = {"id": record.id, "request": record.request}
    shown = toolkit
    if max_tools is not None:
        choice = choose_tools(toolkit, record.request, max_tools)
        shown = toolkit.subset(choice.tools)
        needed = set(record.nodes) & set(toolkit.names)  # gold graphs name a few tools outside the 40
        row.update(tools=list(choice.tools), recall=[len(needed & set(choice.tools)), len(needed)])
    examples: tuple[str, ...] = ()
    if memory is not None:
        similar = memory.similar(record.request, set(shown.names), 1)
        examples = tuple(run.example() for run in similar)
        row["example"] = similar[0].instruction if similar else None
    try:
        planned = Planner(planner, shown, examples=examples, keyword_arguments=keyword_arguments).plan(record.request)
    except ForeplanError as exc:
        graph: dict[str, list] = {"nodes": [], "links": [], "args": [], "values": []}
        row.update(error=f"{type(exc).__name__}: {exc}"[:500], plan="")
    else:
        graph = predicted_graph(planned.plan, toolkit)
        row.update(plan=planned.plan.render(), tokens=planned.usage.prompt_tokens + planned.usage.completion_tokens,
                   prompt_tokens=planned.usage.prompt_tokens)
    known = set(toolkit.names)
    row["counts"] = {
        "node": _counts(record.nodes, [n for n in graph["nodes"] if n in known]),
        "edge": _counts(record.links, graph["links"]),
        "arg": _counts(record.args, graph["args"]),
        "value": _counts(record.values, graph["values"]),
    }
    row["seconds"] = round(time.perf_counter() - started, 2)
    return row


def run_taskbench(planner: LLM, data_dir: Path, folder: Path, limit: int | None = None, resume: bool = False,
                  on_row: Callable[[dict[str, Any]], None] | None = None,
                  max_tools: int | None = DEFAULT_K, examples_from_train: bool = False,
                  keyword_arguments: bool = False) -> list[dict[str, Any]]:
    toolkit = load_toolkit(data_dir)
    memory = None
    if examples_from_train:  # a fresh store of the train split's gold plans, beside the results
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / "memory.sqlite").unlink(missing_ok=True)
        memory = RunMemory(Path(folder) / "memory.sqlite")
        seed_memory(memory, data_dir, toolkit)
    return run_resumable(scored_records(data_dir, limit), lambda r: r.id,
                         lambda r: plan_record(r, planner, toolkit, max_tools, memory, keyword_arguments),
                         Path(folder) / "results.jsonl", resume, on_row)


def retrieval_recall(data_dir: Path, split_name: str = "test", k: int = DEFAULT_K) -> dict[str, Any]:
    """How many of the gold tools retrieval keeps, over a whole split (no model needed)."""
    toolkit = load_toolkit(data_dir)
    records = split_records(data_dir, split_name)
    found = needed = whole = shown = 0
    for record in records:
        chosen = set(choose_tools(toolkit, record.request, k).tools)
        gold = set(record.nodes) & set(toolkit.names)
        found, needed = found + len(gold & chosen), needed + len(gold)
        whole += gold <= chosen
        shown += len(chosen)
    return {"split": split_name, "k": k, "records": len(records), "recall": round(found / max(needed, 1), 4),
            "records_with_every_tool": whole, "tools_shown": round(shown / max(len(records), 1), 2)}


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Micro-averaged F1 (in %) per graph part, pooled over ``rows``."""
    summary: dict[str, Any] = {"records": len(rows), "errors": sum("error" in r for r in rows)}
    for part, key in (("node", "n_f1"), ("edge", "e_f1"), ("arg", "t_f1"), ("value", "v_f1")):
        tp, fp, fn = (sum(r["counts"][part][i] for r in rows) for i in range(3))
        summary[key] = round(100 * 2 * tp / (2 * tp + fp + fn), 2) if tp + fp + fn else 0.0
    summary["seconds_per_plan"] = round(sum(r["seconds"] for r in rows) / max(len(rows), 1), 2)
    planned = [r for r in rows if "prompt_tokens" in r]
    if planned:
        summary["prompt_tokens_per_plan"] = round(sum(r["prompt_tokens"] for r in planned) / len(planned))
    if any("example" in r for r in rows):
        summary["with_example"] = sum(bool(r.get("example")) for r in rows)
    retrieved = [r for r in rows if "recall" in r]
    if retrieved:
        summary["tool_recall"] = round(sum(r["recall"][0] for r in retrieved) /
                                       max(sum(r["recall"][1] for r in retrieved), 1), 4)
        summary["tools_shown"] = round(sum(len(r["tools"]) for r in retrieved) / len(retrieved), 2)
    return summary


#: TaskBench's published Daily Life APIs scores, n/e/t/v-F1 over its whole evaluation set
#: (taskbench/README.md in microsoft/JARVIS, as the data README quotes it).
PUBLISHED = {"gpt-4": (96.91, 80.53, 97.02, 71.14), "claude-2": (93.52, 75.31, 92.71, 64.72),
             "codellama-13b": (87.73, 63.16, 84.26, 62.38), "gpt-3.5-turbo": (85.37, 60.67, 81.97, 55.66),
             "codellama-7b": (59.33, 27.23, 52.99, 34.81)}


def _tools_line(summary: dict[str, Any]) -> str:
    if "with_example" in summary:
        return (f"{_retrieval_line(summary)} Memory seeded with the train split's gold plans: "
                f"{summary['with_example']} of {summary['records']} plans had a similar one as their example.")
    return _retrieval_line(summary)


def _retrieval_line(summary: dict[str, Any]) -> str:
    tokens = (f" Planner prompt: {summary['prompt_tokens_per_plan']} tokens per plan."
              if "prompt_tokens_per_plan" in summary else "")
    if "tool_recall" not in summary:
        return f"The planner saw all 40 tools (--all-tools).{tokens}"
    return (f"Tool retrieval showed the planner {summary['tools_shown']} of 40 tools per task on average; it kept "
            f"{summary['tool_recall']:.1%} of the tools the gold graphs use.{tokens}")


def write_report(rows: list[dict[str, Any]], folder: Path, planner: str) -> Path:
    summary = summarize(rows)
    folder = Path(folder)
    (folder / "report.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    lines = [f"# TaskBench · Daily Life APIs · planner {planner}", "",
             f"{summary['records']} records of the committed test split ({summary['errors']} without a valid plan); "
             "scored as TaskBench's evaluate.py scores (micro-averaged F1, %).", "",
             _tools_line(summary), "",
             "| planner | n-F1 | e-F1 | t-F1 | v-F1 | s/plan |", "|---|---|---|---|---|---|",
             f"| {planner} (foreplan) | {summary['n_f1']} | {summary['e_f1']} | {summary['t_f1']} | "
             f"{summary['v_f1']} | {summary['seconds_per_plan']} |"]
    for name, (n, e, t, v) in PUBLISHED.items():
        lines.append(f"| {name} (published, whole set) | {n} | {e} | {t} | {v} | |")
    path = folder / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
