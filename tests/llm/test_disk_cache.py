"""KV prefix states on disk: survive the process, bounded, never break a run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from foreplan.llm.disk_cache import DiskStates, disk_states_for, model_key


def test_states_round_trip_through_a_fresh_store(tmp_path):
    DiskStates(tmp_path, 10**6).save((1, 2, 3), b"kv-bytes")
    fresh = DiskStates(tmp_path, 10**6)  # a new process: finds the state by scanning headers
    assert fresh.prefixes() == [(1, 2, 3)] and fresh.load((1, 2, 3)) == b"kv-bytes"
    assert fresh.load((9,)) is None


def test_least_recently_used_states_go_when_the_folder_outgrows_its_bound(tmp_path):
    store = DiskStates(tmp_path, capacity_bytes=2 * (9 + 4 * 2 + 100))
    store.save((1, 1), b"a" * 100)
    time.sleep(0.01)
    store.save((2, 2), b"b" * 100)
    time.sleep(0.01)
    assert store.load((1, 1)) == b"a" * 100  # used: now the newest
    time.sleep(0.01)
    store.save((3, 3), b"c" * 100)
    assert sorted(DiskStates(tmp_path, 10**6).prefixes()) == [(1, 1), (3, 3)]


def test_damaged_and_foreign_files_are_misses_with_a_warning(tmp_path, caplog):
    store = DiskStates(tmp_path, 10**6)
    store.save((5, 6), b"state")
    for file in tmp_path.glob("*.kv"):
        file.write_bytes(b"garbage")
    (tmp_path / "other.kv").write_bytes(b"FPKV1")
    assert DiskStates(tmp_path, 10**6).prefixes() == []
    assert caplog.text.count("prefix cache: ignoring unreadable state") == 2


def test_a_state_cut_short_after_its_header_is_a_miss_with_a_warning(tmp_path, caplog):
    store = DiskStates(tmp_path, 10**6)
    store.save((5, 6), b"state")
    file = next(tmp_path.glob("*.kv"))
    file.write_bytes(file.read_bytes()[:-5])  # header and tokens intact, no state bytes
    assert DiskStates(tmp_path, 10**6).load((5, 6)) is None
    assert "is damaged" in caplog.text


def test_a_failed_write_costs_the_cache_not_the_run(tmp_path, caplog, monkeypatch):
    store = DiskStates(tmp_path, 10**6)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("pathlib.Path.replace", full_disk)
    store.save((7, 8), b"state")  # no exception
    assert "No space left on device" in caplog.text and list(tmp_path.iterdir()) == []


def test_the_key_follows_the_model_file_adapter_and_context(tmp_path, monkeypatch):
    model, adapter = tmp_path / "m.gguf", tmp_path / "a.gguf"
    model.write_bytes(b"GGUF1")
    adapter.write_bytes(b"GGUF2")
    keys = {model_key(model, 4096), model_key(model, 2048), model_key(model, 4096, adapter)}
    monkeypatch.setattr("importlib.metadata.version", lambda name: "0.0.1-other")
    keys.add(model_key(model, 4096))  # another llama-cpp-python: another state layout
    assert len(keys) == 4
    monkeypatch.undo()
    monkeypatch.delenv("FOREPLAN_PREFIX_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert disk_states_for(model, 4096).folder.parent == tmp_path / "xdg" / "foreplan" / "prefix"  # on by default
    monkeypatch.setenv("FOREPLAN_PREFIX_CACHE_DIR", str(tmp_path / "cache"))
    assert disk_states_for(model, 4096).folder.parent == tmp_path / "cache"
    for off in ("off", "0", "False"):
        monkeypatch.setenv("FOREPLAN_PREFIX_CACHE", off)
        assert disk_states_for(model, 4096) is None


PROBE = """
import json, sys
from foreplan.llm.base import GenerationOptions
from foreplan.llm.decode import evaluate_prompt, prompt_tokens
from foreplan.llm.resolve import resolve_model
m = resolve_model("qwen2.5-coder-0.5b")
messages = [{"role": "user", "content": sys.argv[1]}]
loaded = m.loaded
reused = evaluate_prompt(loaded.llama, prompt_tokens(loaded.llama, m.render(messages)), loaded.cache)
loaded.llama.reset()
text = m.generate(messages, GenerationOptions(max_tokens=8)).text
print(json.dumps({"reused": reused, "text": text}))
"""


@pytest.mark.gguf
def test_a_restarted_process_reuses_the_prefix_and_answers_the_same(tmp_path):
    static = "You are a careful assistant. " * 40
    env = {**os.environ, "FOREPLAN_THREADS": "1", "FOREPLAN_PREFIX_CACHE_DIR": str(tmp_path)}

    def run(task: str, environ: dict) -> dict:
        out = subprocess.run([sys.executable, "-c", PROBE, static + task], env=environ, capture_output=True,
                             text=True, timeout=300, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    first = run("Name a colour.", env)
    second = run("Name a fruit.", env)  # a new process: the static prefix comes from disk
    plain = run("Name a fruit.", env | {"FOREPLAN_PREFIX_CACHE": "off"})
    assert first["reused"] == 0 and second["reused"] >= 256 and plain["reused"] == 0
    assert second["text"] == plain["text"]
    assert list(tmp_path.rglob("*.kv"))
