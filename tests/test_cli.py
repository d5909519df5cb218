"""The foreplan command: errors end in one paragraph and an exit code; one real run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from foreplan.cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_empty_instruction():
    result = invoke("run", "  ")
    assert result.exit_code == 1
    assert "instruction is empty" in result.output
    assert "Traceback" not in result.output


def test_unknown_model_as_json():
    result = invoke("run", "hello", "--model", "gpt-9", "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "UnknownModelError"
    assert "Known: qwen2.5-coder-1.5b" in error["message"]


def test_broken_tools_file(tmp_path):
    bad = tmp_path / "tools.py"
    bad.write_text("def broken(:\n")
    result = invoke("plan", "hello", "--tools", str(bad))
    assert result.exit_code == 1
    assert "SyntaxError" in result.output and "Traceback" not in result.output


def test_not_a_gguf_file(tmp_path):
    fake = tmp_path / "m.gguf"
    fake.write_text("hello")
    result = invoke("run", "hello", "--model", str(fake))
    assert result.exit_code == 1
    assert "is not a GGUF file" in result.output


def test_unreachable_openai_server():
    result = invoke("run", "hello", "--model", "openai:http://127.0.0.1:9/v1")
    assert result.exit_code == 1
    assert "127.0.0.1:9" in result.output and "Traceback" not in result.output


def test_models_list():
    result = invoke("models", "list")
    assert result.exit_code == 0
    assert "qwen2.5-coder-0.5b" in result.output


def test_models_pull_unknown():
    result = invoke("models", "pull", "nope")
    assert result.exit_code == 1
    assert "No embedded model named 'nope'" in result.output


def _foreplan(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "foreplan.cli", *args],
        capture_output=True, text=True, timeout=timeout, env=os.environ | {"COLUMNS": "120"},
    )


@pytest.mark.gguf
def test_plan_json_on_the_small_model():
    proc = _foreplan("plan", "What is 12 squared, plus the current year?", "--model", "qwen2.5-coder-0.5b",
                     "--json", "--max-steps", "3")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert 1 <= len(out["plan"]) <= 3
    assert {s["tool"] for s in out["plan"]} <= {"LLM", "calculator", "get_current_time"}
    assert out["usage"]["completion_tokens"] > 0


@pytest.mark.gguf
def test_run_end_to_end_through_the_cli(tmp_path):
    trace = tmp_path / "trace.jsonl"
    proc = _foreplan("run", "What is 17 times 23?", "--model", "qwen2.5-coder-0.5b", "--json",
                     "--max-steps", "2", "--trace", str(trace))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["answer"]
    assert out["plan"] and set(out["evidence"]) == {s["id"] for s in out["plan"]}
    assert out["usage"]["planner"]["completion_tokens"] > 0
    assert out["usage"]["solver"]["completion_tokens"] > 0
    events = [json.loads(line)["event"] for line in trace.read_text().splitlines()]
    assert events[0] == "run_started" and events[-1] == "answer"

    # Memory: the run was stored; when it went well, the same task reuses its plan.
    assert out["run_id"] == 1 and out["reused_from"] is None
    listed = json.loads(_foreplan("runs", "list", "--json").stdout)
    assert [r["instruction"] for r in listed] == ["What is 17 times 23?"]
    again = _foreplan("run", "what is 17 times 23?", "--model", "qwen2.5-coder-0.5b", "--json", "--max-steps", "2")
    second = json.loads(again.stdout)
    assert second["run_id"] == 2
    if listed[0]["outcome"] == "ok":
        assert second["reused_from"] == 1 and second["usage"]["planner"]["calls"] == 0
        assert [s["input"] for s in second["plan"]] == [s["input"] for s in out["plan"]]


@pytest.mark.gguf
def test_a_big_toolkit_is_cut_to_the_tools_the_task_needs_before_planning():
    toolkit = Path(__file__).resolve().parents[1] / "configs" / "toolkits" / "taskbench.toml"
    proc = _foreplan("plan", "Play the movie Inception, then send an sms to 555-0101 saying it started",
                     "--toolkit", str(toolkit), "--model", "qwen2.5-coder-0.5b", "--json", "--max-steps", "3")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["tools"]["total"] == 40 and {"play_movie_by_title", "send_sms"} <= set(out["tools"]["tools"])
    assert len(out["tools"]["tools"]) <= 12 and {s["tool"] for s in out["plan"]} <= set(out["tools"]["tools"])


def test_version_prints_the_installed_version():
    from importlib import metadata

    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"foreplan {metadata.version('foreplan')}"


def test_doctor_reports_the_versions_and_model_hashes_a_bug_report_needs():
    from foreplan.llm.registry import MODELS

    result = CliRunner().invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.output)
    for dist in ("llama-cpp-python", "transformers", "peft", "torch"):
        assert facts["packages"][dist], dist  # the test extra installs every one of them
    assert {m["name"]: m["sha256"] for m in facts["models"]} == {m.name: m.sha256 for m in MODELS.values()}
    assert all(a["state"] == "verified" for a in facts["adapters"])
    text = CliRunner().invoke(app, ["doctor"], terminal_width=60).output
    assert all(m.sha256 in text for m in MODELS.values())  # whole hashes, never cut by a table


def test_debug_shows_the_cause_and_plain_errors_stay_one_paragraph():
    plain = CliRunner().invoke(app, ["tools", "call", "calculator", "--args", "{not json"])
    assert plain.exit_code == 1 and json.loads(plain.output)["error"]["type"] == "ConfigError"
    debug = CliRunner().invoke(app, ["tools", "call", "calculator", "--args", "{not json", "--debug"])
    assert type(debug.exception).__name__ == "ConfigError"
    assert isinstance(debug.exception.__cause__, ValueError)  # the JSON parser's own error, for a developer
