"""Datasets: every format to conversations, dataset_info.json, bad rows by index."""

from __future__ import annotations

import json

import pytest

from foreplan.errors import DatasetError
from foreplan.train.datasets import load_datasets, read_rows
from foreplan.train.formats import flatten_tool_calls

from pathlib import Path

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"

FC = SHARED / "function_calling"


def test_alpaca_with_input_and_system(tmp_path):
    rows = [{"instruction": "Translate", "input": "chat", "output": "cat", "system": "Be brief."}]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    (tmp_path / "dataset_info.json").write_text(json.dumps({"tr": {"file_name": "a.jsonl"}}))
    conversation = load_datasets(["tr"], tmp_path).conversations[0]
    assert conversation.messages == [{"role": "system", "content": "Be brief."},
                                     {"role": "user", "content": "Translate\nchat"},
                                     {"role": "assistant", "content": "cat"}]


@pytest.mark.skipif(not FC.exists(), reason="shared data missing")
def test_glaive_sharegpt_demo_with_tools_and_observations():
    info = {"glaive": {"file_name": str(FC / "glaive_toolcall_en_demo.json"), "formatting": "sharegpt",
                       "columns": {"messages": "conversations", "tools": "tools"}}}
    folder = FC.parent.parent  # any folder; file_name above is absolute
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "dataset_info.json").write_text(json.dumps(info))
        loaded = load_datasets(["glaive"], Path(tmp))
    assert folder.exists() and len(loaded.conversations) + len(loaded.skipped) == 300
    assert len(loaded.conversations) >= 290
    with_call = next(c for c in loaded.conversations if any(m.get("tool_calls") for m in c.messages))
    call = next(m for m in with_call.messages if m.get("tool_calls"))["tool_calls"][0]
    assert call["type"] == "function" and isinstance(call["function"]["arguments"], dict)
    assert with_call.tools and with_call.tools[0]["type"] == "function"
    assert any(m["role"] == "tool" for m in with_call.messages)


@pytest.mark.skipif(not FC.exists(), reason="shared data missing")
def test_trelis_csv_calls_become_tool_calls():
    loaded = load_datasets([str(FC / "trelis_sample_train.csv")], FC)
    assert len(loaded.conversations) == 7 and not loaded.skipped
    first = loaded.conversations[0]
    assert first.messages[0]["role"] == "system" and "search_arxiv" in first.messages[0]["content"]
    assert first.messages[-1]["tool_calls"][0]["function"] == {"name": "search_bing",
                                                              "arguments": {"query": "instructions to fly a kite"}}


def test_trelis_v3_openai_form_and_plain_answers(tmp_path):
    rows = [{"systemPrompt": "s", "userPrompt": "u", "assistantResponse": json.dumps(
                [{"type": "function", "function": {"name": "f", "arguments": "{\"x\": 1}"}}])},
            {"systemPrompt": "s", "userPrompt": "u", "assistantResponse": "No function fits."}]
    (tmp_path / "t.json").write_text(json.dumps(rows))
    conversations = load_datasets([str(tmp_path / "t.json")], tmp_path).conversations
    assert conversations[0].messages[-1]["tool_calls"][0]["function"] == {"name": "f", "arguments": {"x": 1}}
    assert conversations[1].messages[-1] == {"role": "assistant", "content": "No function fits."}


def test_bad_rows_are_reported_by_index_and_skipped_or_fatal(tmp_path):
    rows = [{"instruction": "a", "output": "b"}, {"instruction": "a"}, {"instruction": "a", "output": " "}, [1]]
    (tmp_path / "d.json").write_text(json.dumps(rows))
    loaded = load_datasets([str(tmp_path / "d.json")], tmp_path)
    assert len(loaded.conversations) == 1
    assert [s.split(":")[0] for s in loaded.skipped] == [f"{tmp_path / 'd.json'} row {i}" for i in (1, 2, 3)]
    assert "missing column 'output'" in loaded.skipped[0]
    with pytest.raises(DatasetError, match="3 bad rows"):
        load_datasets([str(tmp_path / "d.json")], tmp_path, strict=True)


def test_csv_and_parquet_load(tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"instruction": ["q1", "q2"], "input": ["", ""], "output": ["a1", "a2"]})
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.to_parquet(tmp_path / "d.parquet")
    assert read_rows(tmp_path / "d.csv")[1]["output"] == "a2"
    assert len(load_datasets([str(tmp_path / "d.parquet")], tmp_path).conversations) == 2


def test_missing_empty_and_unknown_datasets_are_clear(tmp_path):
    (tmp_path / "dataset_info.json").write_text(json.dumps({"e": {"file_name": "e.json"}, "h": {"hf_hub_url": "x"}}))
    (tmp_path / "e.json").write_text("[]")
    with pytest.raises(DatasetError, match="is empty"):
        load_datasets(["e"], tmp_path)
    with pytest.raises(DatasetError, match="no file_name"):
        load_datasets(["h"], tmp_path)
    with pytest.raises(DatasetError, match="neither in .* Known in .*: e, h"):
        load_datasets(["nope"], tmp_path)
    with pytest.raises(DatasetError, match="No dataset"):
        load_datasets([], tmp_path)


def test_flatten_tool_calls_for_templates_without_tools():
    from foreplan.train.formats import Conversation

    c = Conversation([{"role": "user", "content": "u"},
                      {"role": "assistant", "content": "", "tool_calls": [
                          {"type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]},
                      {"role": "tool", "content": "42"}, {"role": "assistant", "content": "It is 42."}],
                     tools=[{"type": "function", "function": {"name": "f"}}])
    flat = flatten_tool_calls(c).messages
    assert flat[0]["role"] == "system" and '{"name": "f"}' in flat[0]["content"]
    assert flat[2] == {"role": "assistant", "content": '{"name": "f", "arguments": {"x": 1}}'}
    assert flat[3] == {"role": "user", "content": "Observation: 42"}
