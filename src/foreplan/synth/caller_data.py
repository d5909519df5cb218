"""Function-caller training data: three sources, one LLaMA-Factory sharegpt-with-tools format.

    Trelis sample CSVs ─► listed functions → ``tools``; ``{"function", "arguments"}`` → ``function_call``
    glaive demo ────────► already sharegpt: calls checked against tools, JSON re-serialized
    tool schemas ───────► a step as a ReWOO planner writes it (``250 EUR to JPY``) → the message
                          the function caller renders at inference → the JSON arguments it should reply
    tool schemas ───────► a person's request + offered functions → one call, several, or none
                          (caller_chat.py: the server's and BFCL's tool_choice=auto form)

The third source exists because the caller at inference sees a prompt shape (step, input,
schema) neither public set has. Rows naming a held-out tool (the planner split's
``HELDOUT_TOOLS``) go to ``heldout.jsonl`` only, with the Trelis test split.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foreplan.errors import DatasetError, ToolError
from foreplan.execute.caller import FunctionCaller
from foreplan.llm.scripted import ScriptedLLM
from foreplan.synth.caller_chat import chat_rows
from foreplan.synth.caller_real import glaive_negatives, taskbench_rows
from foreplan.synth.caller_steps import SYNTH_CALL_TOOLS, Args, synth_call
from foreplan.synth.toolbox import Toolbox
from foreplan.synth.tools import HELDOUT_TOOLS
from foreplan.tools.tool import Tool
from foreplan.train.formats import SHAREGPT_COLUMNS, SHAREGPT_TAGS
from foreplan.types import Step


class Dropped(DatasetError, ValueError):
    """A source row or a synthesized call left out; the message is the reason counted."""


@dataclass
class CallerReport:
    kept: Counter[tuple[str, str]] = field(default_factory=Counter)  # (source, split) -> rows written
    dropped: Counter[tuple[str, str]] = field(default_factory=Counter)  # (source, reason) -> rows left out


def _row(source: str, turns: list[tuple[str, str]], tools: list[dict[str, Any]] | None, system: str = "") -> dict:
    return {"conversations": [{"from": r, "value": v} for r, v in turns], "system": system,
            "tools": json.dumps(tools, ensure_ascii=False) if tools else "", "source": source}


def _call_text(name: str, arguments: Args) -> str:
    return json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)


def _trelis_tool(function: dict[str, Any]) -> dict[str, Any]:
    """A Trelis ``{"function", "description", "arguments": [...]}`` entry → an OpenAI function.
    Trelis has no ``required``: every listed argument is, as every call in the sample passes all."""
    properties = {a["name"]: {"type": a["type"], "description": a["description"]} for a in function["arguments"]}
    return {"name": function["function"], "description": function["description"],
            "parameters": {"type": "object", "properties": properties, "required": list(properties)}}


def convert_trelis(row: dict[str, str], functions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One Trelis CSV row as sharegpt; ``functions`` (the sample's file) beats the prompt's copy.

    Raises:
        Dropped: the prompt lists no function, or the reply is not a call to a listed one.
    """
    system, decoder, listed, start = row["systemPrompt"], json.JSONDecoder(), [], None
    for match in re.finditer(r"^\{", system, re.MULTILINE):  # the format example is not JSON, so it is skipped
        try:
            value, _ = decoder.raw_decode(system, match.start())
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict) and isinstance(value.get("function"), str) and "arguments" in value:
            listed.append(functions.get(value["function"], value))
            start = match.start() if start is None else start
    if not listed:
        raise Dropped("the system prompt lists no function")
    tools = [_trelis_tool(f) for f in listed]
    try:
        reply = json.loads(row["assistantResponse"])
        name, arguments = reply["function"], reply["arguments"]
    except (ValueError, KeyError, TypeError) as exc:
        raise Dropped("the reply is not a {function, arguments} call") from exc
    offered = {t["name"]: t for t in tools}
    if name not in offered or not set(arguments) <= set(offered[name]["parameters"]["properties"]):
        raise Dropped("the reply calls a function or an argument the prompt does not offer")
    preamble = system[:start].strip()  # the functions go to ``tools``, the call format to the template
    preamble = preamble[:-1] + "." if preamble.endswith(":") else preamble
    return _row("trelis", [("human", row["userPrompt"]), ("function_call", _call_text(name, arguments))], tools,
                preamble)


def normalize_glaive(row: dict[str, Any]) -> dict[str, Any]:
    """A glaive-demo row re-serialized with canonical JSON, its calls checked against its tools.

    Raises:
        Dropped: bad tools, a role out of place, an empty turn, or a call that does not fit.
    """
    try:
        tools = json.loads(row["tools"]) if row.get("tools") else []
    except json.JSONDecodeError as exc:
        raise Dropped("tools is not JSON") from exc
    schemas = {t.get("name"): t.get("parameters", {}) for t in tools}
    turns = []
    for turn in row.get("conversations") or []:
        role, value = turn.get("from"), turn.get("value")
        if role not in ("human", "gpt", "function_call", "observation") or not isinstance(value, str) or not value.strip():
            raise Dropped("a turn has an unknown role or no text")
        if role == "function_call":
            try:
                call = json.loads(value)
                name, arguments = call["name"], call["arguments"]
                arguments = json.loads(arguments) if isinstance(arguments, str) else arguments
            except (ValueError, KeyError, TypeError) as exc:
                raise Dropped("a function call is not {name, arguments} JSON") from exc
            schema = schemas.get(name)
            if schema is None or not isinstance(arguments, dict):
                raise Dropped("a call names a function the row does not offer")
            if not set(schema.get("required", [])) <= set(arguments) <= set(schema.get("properties", {})):
                raise Dropped("a call's arguments do not fit the function's parameters")
            value = _call_text(name, arguments)
        turns.append((role, value))
    if not turns or turns[0][0] != "human" or turns[-1][0] not in ("gpt", "function_call"):
        raise Dropped("the conversation does not go from human to an assistant turn")
    return _row("glaive", turns, tools)


class _AlwaysAsk(Tool):
    """The same tool, but the caller asks its model even for one text input (which skips it at
    inference), so single-input tools get the same prompt shape."""

    @property
    def single_input(self) -> str | None:
        return None


def caller_turns(tool: Tool, plan: str, text: str, arguments: Args) -> list[tuple[str, str]]:
    """The caller's conversation at inference for this step, replied to with ``arguments``:
    rendered and validated by :class:`FunctionCaller` itself.

    Raises:
        Dropped: the input already fits the schema (no model is asked), or the arguments do not.
    """
    reply = json.dumps(arguments, ensure_ascii=False)
    llm = ScriptedLLM([reply], name="caller-data")
    asked = tool if tool.single_input is None else _AlwaysAsk(**{f.name: getattr(tool, f.name)
                                                                for f in dataclasses.fields(tool)})
    try:
        template, _ = FunctionCaller(llm).template(Step("E1", plan, tool.name, text), asked)
        if not isinstance(template, dict):
            raise ToolError("the input is one reference")
        asked.validate(template)
    except ToolError as exc:
        raise Dropped("the arguments do not fit the tool's schema") from exc
    if not llm.calls:
        raise Dropped("the input already fits the schema, so the caller model is not asked")
    roles = {"user": "human", "assistant": "gpt"}
    return [(roles[m["role"]], m["content"]) for m in llm.calls[0][0]] + [("gpt", reply)]


def synthesize_calls(toolbox: Toolbox, names: list[str], n: int, seed: int, report: CallerReport) -> list[dict]:
    """``n`` caller conversations spread evenly over ``names``; duplicates and inputs the
    caller would not ask its model about are dropped and counted."""
    r, rows, seen = random.Random(seed), [], set()
    for i, name in enumerate(names):
        quota, tool = n // len(names) + (i < n % len(names)), toolbox.get(name)
        for _ in range(quota * 30):
            if quota == 0:
                break
            plan, text, arguments = synth_call(r, name)
            if (name, plan, text) in seen:
                report.dropped["synth", "duplicate step"] += 1
                continue
            seen.add((name, plan, text))
            try:
                rows.append(_row("synth", caller_turns(tool, plan, text, arguments), None))
                quota -= 1
            except Dropped as exc:
                report.dropped["synth", str(exc)] += 1
        if quota:
            report.dropped["synth", f"{name}: too few distinct steps ({quota} short)"] += quota
    return rows


def build_caller_data(source_dir: Path, toolbox: Toolbox, synth_n: int, heldout_n: int,
                      seed: int, chat_n: int = 0, real_dir: Path | None = None,
                      ) -> tuple[list[dict], list[dict], CallerReport]:
    """Train rows, held-out rows and what was kept and dropped, all sources together
    (``chat_n`` chat-with-tools rows: one call, several, none; see caller_chat.py; with
    ``real_dir``, the shared data folder, chat rows over TaskBench's train split and hard
    no-call rows: caller_real.py)."""
    report, train, heldout = CallerReport(), [], []
    functions = {f["function"]: f for f in json.loads((source_dir / "trelis_sample_functions.json").read_text())}
    sources = [("trelis", split, list(csv.DictReader((source_dir / f"trelis_sample_{split}.csv").read_text(
        encoding="utf-8").splitlines(keepends=True)))) for split in ("train", "test")]
    glaive = json.loads((source_dir / "glaive_toolcall_en_demo.json").read_text())
    sources.append(("glaive", "train", glaive))
    for source, split, raw in sources:
        for row in raw:
            try:
                converted = convert_trelis(row, functions) if source == "trelis" else normalize_glaive(row)
            except Dropped as exc:
                report.dropped[source, str(exc)] += 1
                continue
            named = any(re.search(rf"\b{t}\b", json.dumps(converted)) for t in HELDOUT_TOOLS)
            (heldout if split == "test" or named else train).append(converted)
    train_tools = [t for t in SYNTH_CALL_TOOLS if t not in HELDOUT_TOOLS]
    train += synthesize_calls(toolbox, train_tools, synth_n, seed, report)
    heldout += synthesize_calls(toolbox, sorted(HELDOUT_TOOLS), heldout_n, seed + 1, report)
    if chat_n:
        train += chat_rows(toolbox, train_tools, chat_n, seed, _row)
        heldout += chat_rows(toolbox, sorted(HELDOUT_TOOLS), max(chat_n // 10, 5), seed + 1, _row)
    if real_dir is not None:
        train += taskbench_rows(real_dir, seed, _row) + glaive_negatives(glaive, seed, _row)
    for split, rows in (("train", train), ("heldout", heldout)):
        report.kept.update((row["source"], split) for row in rows)
        random.Random(seed).shuffle(rows)
    return train, heldout, report


def dataset_info(train: str = "train.jsonl", heldout: str = "heldout.jsonl") -> dict[str, Any]:
    """LLaMA-Factory's ``dataset_info.json`` entries: sharegpt with tools, default tags spelled out."""
    entry = {"formatting": "sharegpt", "columns": dict(SHAREGPT_COLUMNS), "tags": dict(SHAREGPT_TAGS)}
    return {"caller": {"file_name": train, **entry}, "caller_heldout": {"file_name": heldout, **entry}}


def write_caller_data(out: Path, train: list[dict], heldout: list[dict]) -> list[Path]:
    """Write ``train.jsonl``, ``heldout.jsonl`` and ``dataset_info.json`` under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"train.jsonl": train, "heldout.jsonl": heldout}
    for name, text in {**{n: "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows) for n, rows in
                          files.items()}, "dataset_info.json": json.dumps(dataset_info(), indent=2) + "\n"}.items():
        (out / f"{name}.tmp").write_text(text, encoding="utf-8")  # whole files only: a killed run keeps the old
        (out / f"{name}.tmp").replace(out / name)
    return [out / name for name in (*files, "dataset_info.json")]
