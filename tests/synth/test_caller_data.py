"""``foreplan data caller``: three sources in one sharegpt-with-tools set the trainer loads whole."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from foreplan.cli.data import data_app
from foreplan.synth import caller_data
from foreplan.synth.caller_data import (
    Dropped,
    caller_turns,
    convert_trelis,
    normalize_glaive,
)
from foreplan.synth.toolbox import Toolbox
from foreplan.synth.tools import HELDOUT_TOOLS
from foreplan.train.datasets import load_datasets

SOURCE = Path(__file__).parents[2] / ".." / "shared" / "data" / "function_calling"
FILES = ("train.jsonl", "heldout.jsonl", "dataset_info.json")
pytestmark = pytest.mark.skipif(not SOURCE.is_dir(), reason="the shared function_calling data is not here")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("caller")
    args = ["caller", "--out", str(out), "--seed", "3", "--synth-n", "60", "--heldout-n", "12", "--chat-n", "50",
            "--source-dir", str(SOURCE), "--taskbench"]
    result = CliRunner().invoke(data_app, args)
    assert result.exit_code == 0, result.output
    return out


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_row_loads_through_the_trainer(built: Path) -> None:
    for name, file in (("caller", "train.jsonl"), ("caller_heldout", "heldout.jsonl")):
        loaded = load_datasets([name], built)
        assert loaded.skipped == []
        assert len(loaded.conversations) == len(_rows(built / file))
    sources = {r["source"] for r in _rows(built / "train.jsonl")}
    assert sources == {"trelis", "glaive", "synth", "chat-one", "chat-several", "chat-none", "taskbench-one",
                       "taskbench-several", "taskbench-none", "glaive-none"}
    assert sum(r["source"] == "synth" for r in _rows(built / "train.jsonl")) == 60


def test_held_out_tools_never_appear_in_train(built: Path) -> None:
    text = (built / "train.jsonl").read_text()
    assert not [t for t in HELDOUT_TOOLS if t in text]
    heldout = (built / "heldout.jsonl").read_text()
    assert all(t in heldout for t in HELDOUT_TOOLS)


def test_the_same_seed_gives_the_same_bytes(built: Path, tmp_path: Path) -> None:
    args = ["caller", "--out", str(tmp_path), "--seed", "3", "--synth-n", "60", "--heldout-n", "12", "--chat-n", "50",
            "--source-dir", str(SOURCE), "--taskbench"]
    assert CliRunner().invoke(data_app, args).exit_code == 0
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (built / name).read_bytes(), name


def test_synthesized_arguments_fit_the_tool_schemas(tmp_path: Path) -> None:
    toolbox, r = Toolbox(tmp_path), random.Random(0)
    for name in caller_data.SYNTH_CALL_TOOLS:
        tool = toolbox.get(name)
        for _ in range(15):
            plan, text, arguments = caller_data.synth_call(r, name)
            assert tool.validate(arguments)  # raises ToolError when they do not fit
            if text.isidentifier():  # one bare word is read as the value, no model asked: not caller data
                with pytest.raises(Dropped, match="already fits"):
                    caller_turns(tool, plan, text, arguments)
                continue
            turns = caller_turns(tool, plan, text, arguments)
            assert [role for role, _ in turns] == ["human", "gpt"]
            assert f"Function: {name}\n" in turns[0][1] and f"Input: {text}\n" in turns[0][1]
            assert json.loads(turns[1][1]) == arguments


def test_input_that_already_fits_is_dropped(tmp_path: Path) -> None:
    tool = Toolbox(tmp_path).get("convert_currency")
    arguments = {"amount": 5, "source": "EUR", "target": "JPY"}
    with pytest.raises(Dropped, match="already fits the schema"):
        caller_turns(tool, "Convert 5 EUR to JPY.", json.dumps(arguments), arguments)
    with pytest.raises(Dropped, match="do not fit the tool's schema"):
        caller_turns(tool, "Convert 5 EUR to JPY.", "5 EUR to JPY", {"amount": "five", "source": "EUR"})


def test_a_trelis_row_becomes_a_function_call() -> None:
    functions = {f["function"]: f for f in json.loads((SOURCE / "trelis_sample_functions.json").read_text())}
    listed = "\n\n".join(json.dumps(functions[n], indent=4) for n in ("search_arxiv", "search_bing"))
    row = {"systemPrompt": "You are a helpful research assistant. The following functions are available for you "
                           f"to fetch further data to answer user questions, if relevant:\n\n{listed}\n\nTo call a "
                           'function, respond with:\n{\n    "function": "function_name",\n    "arguments": {\n'
                           '        "argument1": value1\n    }\n}\n',
           "userPrompt": "Search bing for instructions to fly a kite.",
           "assistantResponse": '{\n    "function": "search_bing",\n    "arguments": {\n        "query": '
                                '"instructions to fly a kite"\n    }\n}'}
    query = {"type": "object", "properties": {"query": {"type": "string", "description": "The search query string"}},
             "required": ["query"]}
    expected_tools = [
        {"name": "search_arxiv", "description": "Search for research papers on ArXiv. Make use of AND, OR and NOT "
         "operators as appropriate to join terms within the query.", "parameters": query},
        {"name": "search_bing", "description": "Search the web for content on Bing. This allows users to search "
         "online/the internet/the web for content.", "parameters": query},
    ]
    assert convert_trelis(row, functions) == {
        "conversations": [
            {"from": "human", "value": "Search bing for instructions to fly a kite."},
            {"from": "function_call",
             "value": '{"name": "search_bing", "arguments": {"query": "instructions to fly a kite"}}'},
        ],
        "system": "You are a helpful research assistant. The following functions are available for you to fetch "
                  "further data to answer user questions, if relevant.",
        "tools": json.dumps(expected_tools),
        "source": "trelis",
    }
    with pytest.raises(Dropped, match="does not offer"):
        convert_trelis({**row, "assistantResponse": '{"function": "search_google", "arguments": {}}'}, functions)


def test_glaive_calls_that_do_not_fit_are_dropped() -> None:
    tools = json.dumps([{"name": "f", "parameters": {"type": "object", "properties": {"x": {"type": "string"}},
                                                     "required": ["x"]}}])
    good = {"conversations": [{"from": "human", "value": "hi"},
                              {"from": "function_call", "value": '{"name": "f", "arguments": "{\\"x\\": \\"1\\"}"}'}],
            "tools": tools}
    assert normalize_glaive(good)["conversations"][1]["value"] == '{"name": "f", "arguments": {"x": "1"}}'
    bad = {**good, "conversations": [good["conversations"][0], {"from": "function_call", "value": '{"name": "g"}'}]}
    with pytest.raises(Dropped, match="not \\{name, arguments\\} JSON"):
        normalize_glaive(bad)


def test_chat_rows_ask_for_one_call_several_or_none_and_offer_what_they_need(built: Path) -> None:
    rows = [r for r in _rows(built / "train.jsonl") if r["source"].startswith("chat-")]
    assert {k: sum(r["source"] == f"chat-{k}" for r in rows) for k in ("one", "several", "none")} == \
        {"one": 22, "several": 21, "none": 7}
    for row in rows:
        offered = {f["name"] for f in json.loads(row["tools"])}
        (_, request), (role, reply) = [(t["from"], t["value"]) for t in row["conversations"]]
        if row["source"] == "chat-none":
            assert role == "gpt" and "no call" in reply
            continue
        calls = json.loads(reply)
        calls = calls if isinstance(calls, list) else [calls]
        assert role == "function_call" and {c["name"] for c in calls} <= offered
        assert (len(calls) > 1) == (row["source"] == "chat-several") or len(calls) == 1
        for call in calls:  # every value the call passes is said in the request (a ticker: its company)
            for value in call["arguments"].values():
                assert str(value) in request or call["name"] == "lookup_stock_price", (value, request)
