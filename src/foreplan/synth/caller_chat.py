"""Chat-with-tools rows: the function caller's second job, where the model decides how many
calls a request needs.

The agent's caller fills one step's arguments (caller_data.py). The server's
``/v1/chat/completions`` with ``tools`` and ``tool_choice: auto``, and BFCL, give the model
a person's request and a list of functions instead, and the reply may be:

    one call          "Look up the population of Vienna."        -> get_population(place)
    several calls     "Convert 20 EUR to JPY, and the weather    -> [convert_currency(...),
    (parallel)         in Oslo?"                                     get_weather(...)]
    no call           a request no listed function serves        -> a sentence that says so
    (irrelevance)

The bare 0.5B and 1.5B callers make one call where several are asked for (BFCL parallel
0.00 / 0.02) and call something when nothing fits (irrelevance 0.40 / 0.16), so the data
has all three, in the shares 3 : 3 : 1 (2 : 2 : 1 made the first adapter refuse answerable
requests; caller_real.py adds hard no-call rows). Requests come from
:func:`~foreplan.synth.caller_steps.synth_call` (values and the arguments they make), said
the way a person asks; the functions offered are the needed ones plus shuffled
distractors. Nothing here is from BFCL, which stays the test.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from typing import Any

from foreplan.synth.caller_steps import Args, synth_call
from foreplan.synth.toolbox import Toolbox
from foreplan.tools.tool import Tool

#: How a person asks for a call of a tool with several arguments, from those arguments.
#: Tools with one argument are asked for with their plan sentence, which names its value.
REQUESTS: dict[str, tuple[str, ...]] = {
    "convert_currency": ("Convert {amount} {source} to {target}.", "How much is {amount} {source} in {target}?"),
    "create_calendar_event": ("Put '{title}' in my calendar on {date}.", "Add an event called {title} on {date}."),
    "save_file": ("Save the text '{content}' to the file {path}.", "Write '{content}' into {path}."),
    "search_arxiv": ("Find {max_results} arXiv papers about {query}.", "Search arXiv for {query}, {max_results} results."),
    "search_wiki": ("Search the encyclopedia for {query}.", "Find encyclopedia articles on {query}."),
    "send_email": ("Email {to} with the subject '{subject}' and the message: {body}",
                   "Send an e-mail to {to}, subject '{subject}', saying: {body}"),
    "translate": ("Translate '{text}' into {target_language}.", "How do you say '{text}' in {target_language}?"),
    "get_distance": ("How far is it by road from {origin} to {destination}?",
                     "Get the driving distance between {origin} and {destination}."),
}
#: Joins the requests of a parallel row.
JOINS = (" Also, {b}", " And {b}", " {B}", " Then, separately: {b}")
"""``{b}``: the next request with a small first letter; ``{B}``: as it is."""
NO_CALL = ("None of the functions I can call does this, so I made no call. "
           "I can help with what the listed functions do.")
KINDS = ("one", "one", "one", "several", "several", "several", "none")


def function(tool: Tool) -> dict[str, Any]:
    """The OpenAI function a chat request lists for ``tool`` (pydantic's titles left out)."""
    return {"name": tool.name, "description": tool.description, "parameters": _untitled(tool.parameters)}


def _untitled(schema: Any, names: bool = False) -> Any:
    """``schema`` without pydantic's ``title`` annotations; ``names``: ``schema`` maps
    argument names to schemas (``properties``), so an argument called ``title`` stays."""
    if isinstance(schema, dict):
        return {k: _untitled(v, k in ("properties", "$defs") and not names) for k, v in schema.items()
                if names or k != "title" or not isinstance(v, str)}
    if isinstance(schema, list):
        return [_untitled(v) for v in schema]
    return schema


def request(r: random.Random, name: str) -> tuple[str, Args]:
    """A person's request for one call of ``name``, and the arguments it makes."""
    plan, _, arguments = synth_call(r, name)
    templates = REQUESTS.get(name)
    if templates is None:
        return plan, arguments
    template = r.choice(templates)
    said = {field for _, field, _, _ in string.Formatter().parse(template) if field}
    if not said <= set(arguments):  # the template needs an optional argument this call left out
        return plan, arguments
    # An optional argument the request does not state is left out of the call too: a caller
    # must not learn to pass values nobody asked for.
    return template.format(**arguments), {k: v for k, v in arguments.items() if k in said}


def _family(name: str) -> str:
    """Tools that could stand in for each other (every ``search_*``) share a family."""
    return "search" if name.startswith("search_") else name


def chat_row(r: random.Random, kind: str, names: list[str], tools: Callable[[str], Tool],
             row: Callable[[str, list[tuple[str, str]], list[dict[str, Any]]], dict]) -> dict:
    """One chat-with-tools row of ``kind`` (one, several or none) over ``names``."""
    if kind == "none":
        wanted = r.choice(names)
        text, _ = request(r, wanted)
        others = [n for n in names if _family(n) != _family(wanted)]
        offered = r.sample(others, r.randint(1, min(3, len(others))))
        return row("chat-none", [("human", text), ("gpt", NO_CALL)], [function(tools(n)) for n in offered])
    count = 1 if kind == "one" else r.randint(2, 4)
    chosen = [r.choice(names)] * count if kind == "several" and r.random() < 0.5 else \
        [r.choice(names) for _ in range(count)]
    asked: list[tuple[str, str, Args]] = []
    for name in chosen:
        for _ in range(10):  # distinct requests only: a parallel row never asks twice for the same
            text, arguments = request(r, name)
            if all(text != t for t, _, _ in asked):
                asked.append((text, name, arguments))
                break
    message = asked[0][0]
    for text, _, _ in asked[1:]:
        message += r.choice(JOINS).format(b=text[0].lower() + text[1:], B=text)
    needed = list(dict.fromkeys(name for _, name, _ in asked))
    spare = [n for n in names if n not in needed]
    offered = needed + r.sample(spare, r.randint(0, min(3, len(spare))))
    r.shuffle(offered)
    calls = [{"name": name, "arguments": arguments} for _, name, arguments in asked]
    reply = json.dumps(calls[0] if len(calls) == 1 else calls, ensure_ascii=False)
    return row(f"chat-{kind}", [("human", message), ("function_call", reply)], [function(tools(n)) for n in offered])


def chat_rows(toolbox: Toolbox, names: list[str], n: int, seed: int,
              row: Callable[[str, list[tuple[str, str]], list[dict[str, Any]]], dict]) -> list[dict]:
    """``n`` rows over ``names``, kinds in the shares of :data:`KINDS`, drawn from ``seed``."""
    r = random.Random(seed)
    return [chat_row(r, KINDS[i % len(KINDS)], names, toolbox.get, row) for i in range(n)]
