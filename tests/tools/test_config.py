"""Toolkit files: which tools, with which settings; every mistake a ConfigError."""

from __future__ import annotations

import pytest

from foreplan.errors import ConfigError
from foreplan.tools.config import build_toolkit, load_toolkit_config


def write(tmp_path, text: str):
    path = tmp_path / "toolkit.toml"
    path.write_text(text)
    return path


def test_no_file_means_the_default_toolkit():
    assert build_toolkit().names == ["LLM", "calculator", "get_current_time"]


def test_tools_are_chosen_and_user_files_added(tmp_path):
    (tmp_path / "mine.py").write_text(
        "from foreplan import tool\n\n@tool\ndef shout(text: str) -> str:\n"
        "    '''Shout.\n\n    Args:\n        text: What.\n    '''\n    return text.upper()\n"
    )
    config = load_toolkit_config(write(tmp_path, 'tools = ["calculator"]\ntools_files = ["mine.py"]\n'))
    assert build_toolkit(config).names == ["calculator", "shout"]
    assert config.workspace == tmp_path / "workspace"  # relative to the file


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tools = [", "not valid TOML"),
        ("colour = 'blue'\n", "colour: Extra inputs are not permitted"),
        ("[query_sql]\nmax_rows = 0\n", "query_sql.max_rows"),
        ("[search_wiki]\nprovider = 'google'\n", "search_wiki.provider"),
    ],
)
def test_bad_files_are_config_errors(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_toolkit_config(write(tmp_path, text))


def test_unknown_tool_names_the_known_ones(tmp_path):
    config = load_toolkit_config(write(tmp_path, 'tools = ["search_google"]\n'))
    with pytest.raises(ConfigError, match="unknown tool 'search_google'.*calculator"):
        build_toolkit(config)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_toolkit_config(tmp_path / "nope.toml")


def test_url_env_must_be_set(tmp_path, monkeypatch):
    monkeypatch.delenv("FOREPLAN_TEST_DB", raising=False)
    config = load_toolkit_config(write(tmp_path, 'tools = ["query_sql"]\n[query_sql]\nurl_env = "FOREPLAN_TEST_DB"\n'))
    with pytest.raises(ConfigError, match="FOREPLAN_TEST_DB"):
        build_toolkit(config)
