"""Settings, the CLI's --model parsing, and errors nobody planned for."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from foreplan.serve import ServeSettings, create_app
from foreplan.serve.settings import parse_model_options


def test_model_options_map_aliases_to_specs():
    assert parse_model_options(["planner=qwen2.5-coder-1.5b", " caller = x.gguf ", "qwen2.5-coder-0.5b"]) == {
        "planner": "qwen2.5-coder-1.5b", "caller": "x.gguf", "qwen2.5-coder-0.5b": "qwen2.5-coder-0.5b"}
    with pytest.raises(ValueError, match="given twice"):
        parse_model_options(["a=x", "a=y"])
    with pytest.raises(ValueError, match="ALIAS=SPEC"):
        parse_model_options(["=x"])


def test_settings_read_the_environment(monkeypatch):
    monkeypatch.setenv("FOREPLAN_SERVE_MODELS", '{"planner": "qwen2.5-coder-0.5b"}')
    monkeypatch.setenv("FOREPLAN_SERVE_API_KEYS", '["k1"]')
    settings = ServeSettings()
    assert settings.models == {"planner": "qwen2.5-coder-0.5b"} and settings.api_keys == ["k1"]


class _BrokenLLM:
    name = "broken"
    supports_grammar = True

    def generate(self, messages, options):
        raise RuntimeError("a bug of ours")


def test_an_unexpected_error_is_a_500_without_internals():
    app = create_app(ServeSettings(), llms={"planner": _BrokenLLM()})
    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.post("/v1/chat/completions", json={"model": "planner", "messages": [{"role": "user", "content": "x"}]})
    assert r.status_code == 500
    assert r.json()["error"] == {"message": "Internal error: RuntimeError. See the server log.",
                                 "type": "server_error", "param": None, "code": "internal_error"}


def test_the_serve_command_refuses_bad_model_options_before_starting():
    from typer.testing import CliRunner

    from foreplan.cli import app

    result = CliRunner().invoke(app, ["serve", "--model", "planner=no-such-model"])
    assert result.exit_code == 1 and "No embedded model named 'no-such-model'" in result.output
    result = CliRunner().invoke(app, ["serve", "--model", "=x"])
    assert result.exit_code == 1 and "ALIAS=SPEC" in result.output
