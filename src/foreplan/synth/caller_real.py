"""Chat-with-tools rows over real schemas, with hard negatives: the caller learns when a
listed function does the job, not which functions it has seen before.

The first caller adapter was trained on chat rows over foreplan's own dozen synthetic
tools, and its no-call rows offered tools unrelated to the request. On BFCL it then
refused 35 of 200 answerable questions whose functions looked unlike its training tools
(``math.factorial`` for "the factorial of 5"). Two changes follow from that:

- **positives over many domains**: TaskBench's 40 daily-life tools, from its *train*
  split only (the test split is never read), with human-written requests and
  human-verified arguments: one call for a one-tool record, several calls in one reply
  for a record whose arguments are all literal values (no call needs another's result);
- **hard negatives**: the functions offered in a no-call row are the ones closest to the
  request by words (BM25 over names, descriptions and arguments), so "related but cannot
  do it" is what means no call, not "unfamiliar". A function whose name shares a noun
  with the one the request needs (``get_news`` for ``get_news_headlines``) could do the job
  and is never offered as a negative. The glaive demo's 64 functions give the same rows
  from its requests that led straight to a call.

BFCL stays the test: nothing here reads it.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from foreplan.errors import ToolError
from foreplan.eval.taskbench import load_records, load_toolkit, split_ids
from foreplan.synth.caller_chat import NO_CALL, function
from foreplan.tools.retrieval import rank_tools
from foreplan.tools.spec import spec_tools
from foreplan.tools.tool import Tool
from foreplan.tools.toolkit import Toolkit

Row = Callable[[str, list[tuple[str, str]], list[dict[str, Any]]], dict]

#: A tool name's first word when it says what kind of action, not on what.
_VERBS = frozenset({"get", "search", "find", "calculate", "create", "generate", "make", "check", "convert",
                    "send", "play", "book", "set", "add", "list", "fetch", "compute", "track", "do", "buy"})
#: Words in a name that say nothing about what the tool acts on.
_FILLER = frozenset({"by", "for", "to", "from", "of", "the", "a", "and", "random", "details", "info"})


def _nouns(name: str) -> set[str]:
    """The words of a tool's name that say what it acts on (the leading verb and fillers
    left out), without a plural ``s``: ``search_books`` and ``search_book`` share ``book``."""
    words = re.findall(r"[a-z]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower())
    if len(words) > 1 and words[0] in _VERBS:
        words = words[1:]
    return {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words if w not in _FILLER}


def hard_negatives(r: random.Random, toolkit: Toolkit, request: str, wanted: str, most: int = 3) -> list[Tool]:
    """Up to ``most`` tools closest to ``request`` by words that cannot stand in for
    ``wanted`` (no shared noun in the name); none when no other tool shares a word with it."""
    needed = _nouns(wanted)
    close = [name for name, _ in rank_tools(toolkit, request) if name != wanted and not _nouns(name) & needed]
    return [toolkit.get(name) for name in close[: r.randint(1, most)]]


def _call(tool: Tool, arguments: list[dict[str, Any]]) -> dict[str, Any] | None:
    """``{"name", "arguments"}`` for a TaskBench node's arguments, typed by the tool's
    schema; None when they do not fit it or a value is another node's output."""
    given = {a["name"]: a["value"] for a in arguments if isinstance(a, dict) and "value" in a}
    if (len(given) != len(arguments) or not set(given) <= set(tool.args_model.model_fields)
            or any("<node-" in str(v) for v in given.values())):
        return None
    try:
        checked = tool.validate(given)
    except ToolError:
        return None
    return {"name": tool.name, "arguments": {k: checked[k] for k in given}}


def taskbench_rows(data_dir: Path, seed: int, row: Row, several: int = 150, negatives: int = 60) -> list[dict]:
    """Chat rows from TaskBench's train split: every one-call record, up to ``several``
    several-call ones, and up to ``negatives`` hard no-call rows drawn from its one-tool
    requests."""
    r, toolkit, train = random.Random(seed), load_toolkit(data_dir), split_ids("train")
    rows, singles, parallel = [], [], []
    for record in load_records(data_dir):
        if str(record["id"]) not in train:
            continue
        calls = [_call(t, n.get("arguments", [])) if (t := toolkit.get(n["task"])) else None
                 for n in record["task_nodes"]]
        if not calls or None in calls:
            continue
        request = r.choice([record["instruction"], record["user_request"]]).strip()
        names = list(dict.fromkeys(c["name"] for c in calls))
        offered = [toolkit.get(n) for n in names]
        for name in names:  # a similar tool beside each needed one: choose, do not just call
            offered += [t for t in hard_negatives(r, toolkit, request, name, 1) if t not in offered]
        r.shuffle(offered)
        reply = json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)
        kind = "one" if len(calls) == 1 else "several"
        (rows if kind == "one" else parallel).append(row(f"taskbench-{kind}", [("human", request), ("function_call", reply)],
                                                         [function(t) for t in offered]))
        if len(calls) == 1:
            singles.append((record["user_request"].strip(), names[0]))
    rows += r.sample(parallel, min(several, len(parallel)))
    for request, wanted in r.sample(singles, min(negatives, len(singles))):
        offered = hard_negatives(r, toolkit, request, wanted)
        if offered:
            rows.append(row("taskbench-none", [("human", request), ("gpt", NO_CALL)], [function(t) for t in offered]))
    return rows


def glaive_negatives(glaive: list[dict[str, Any]], seed: int, row: Row, n: int = 50) -> list[dict]:
    """``n`` hard no-call rows from glaive requests that led straight to a call, offered
    the glaive functions closest to them instead of the one they called."""
    r, pool, asked = random.Random(seed), {}, []
    for item in glaive:
        tools = json.loads(item["tools"]) if item.get("tools") else []
        for entry in tools:
            pool.setdefault(entry.get("name"), entry)
        turns = item.get("conversations") or []
        if len(turns) > 1 and turns[0]["from"] == "human" and turns[1]["from"] == "function_call":
            try:
                asked.append((turns[0]["value"].strip(), json.loads(turns[1]["value"])["name"]))
            except (ValueError, KeyError, TypeError):
                continue
    toolkit = Toolkit(spec_tools([e for name, e in pool.items() if name], "glaive"))
    rows = []
    for request, wanted in r.sample(asked, min(n, len(asked))):
        offered = hard_negatives(r, toolkit, request, wanted)
        if offered:
            rows.append(row("glaive-none", [("human", request), ("gpt", NO_CALL)],
                            [pool[t.name] for t in offered]))
    return rows
