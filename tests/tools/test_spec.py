"""Tools from a JSON spec (TaskBench nodes or OpenAI functions) as dry-run stubs."""

from __future__ import annotations

import json

import pytest

from foreplan.errors import ConfigError, ToolError
from foreplan.tools.config import build_toolkit, load_toolkit_config
from foreplan.tools.spec import load_spec_tools


def test_taskbench_nodes_become_stubs_with_required_text_arguments(tmp_path):
    path = tmp_path / "tools.json"
    path.write_text(json.dumps({"nodes": [{"id": "get_weather", "desc": "Get the weather", "parameters": [
        {"name": "location", "type": "string", "desc": "The city"},
        {"name": "date", "type": "date", "desc": "The day"}]}]}))
    [weather] = load_spec_tools(path)
    assert weather.name == "get_weather" and weather.parameters["required"] == ["location", "date"]
    assert weather.run({"location": "Paris", "date": "2025-01-02"}) == \
        'get_weather done: {"location": "Paris", "date": "2025-01-02"}'
    with pytest.raises(ToolError, match="date"):
        weather.run({"location": "Paris"})
    assert not weather.side_effects


def test_openai_functions_keep_their_types_and_optional_arguments(tmp_path):
    path = tmp_path / "tools.json"
    path.write_text(json.dumps([{"type": "function", "function": {
        "name": "search_hotels", "description": "Hotels in a city.",
        "parameters": {"type": "object", "required": ["city"], "properties": {
            "city": {"type": "string", "description": "The city."},
            "guests": {"type": "integer", "description": "How many."}}}}}]))
    [hotels] = load_spec_tools(path)
    assert hotels.parameters["required"] == ["city"]
    assert hotels.run({"city": "Rome", "guests": "2"}) == 'search_hotels done: {"city": "Rome", "guests": 2}'


@pytest.mark.parametrize("content, message", [
    ("not json", "not readable JSON"),
    ('{"tools": 1}', "expected a list"),
    ('[{"name": "x"}]', "needs a name"),
    ('[{"name": "x", "description": "d", "parameters": [{"name": "a", "type": "blob"}]}]', "type 'blob'"),
])
def test_a_bad_spec_file_is_a_config_error_that_says_where(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_spec_tools(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_spec_tools(tmp_path / "missing.json")


def test_a_toolkit_file_adds_spec_tools_and_sets_always_on_tools(tmp_path):
    (tmp_path / "api.json").write_text(json.dumps([{"name": "ping", "description": "Ping a host.",
                                                     "parameters": [{"name": "host", "desc": "The host."}]}]))
    (tmp_path / "toolkit.toml").write_text('tools = ["LLM"]\nspec_files = ["api.json"]\nalways_on = ["ping"]\n')
    toolkit = build_toolkit(load_toolkit_config(tmp_path / "toolkit.toml"))
    assert toolkit.names == ["LLM", "ping"] and toolkit.always_on == {"ping"}
