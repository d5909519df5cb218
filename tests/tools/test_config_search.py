"""Toolkit files choose search_web's provider and search_bilibili's address; the seed's
name search_bing still works; each built tool answers from the local replicas."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from foreplan.errors import ConfigError, ToolError
from foreplan.tools.config import build_toolkit, load_toolkit_config
from foreplan.tools.corpus import Document, build_index
from foreplan.tools.standins import STANDIN_BRAVE_KEY, StandinHTTPServer


@pytest.fixture
def standin() -> Iterator[StandinHTTPServer]:
    with StandinHTTPServer() as server:
        yield server


def toolkit_from(tmp_path: Path, text: str):
    path = tmp_path / "toolkit.toml"
    path.write_text(text)
    return build_toolkit(load_toolkit_config(path))


@pytest.mark.server
def test_searxng_is_chosen_and_search_bing_is_an_alias(tmp_path: Path, standin: StandinHTTPServer) -> None:
    toolkit = toolkit_from(tmp_path, f'tools = ["search_web", "search_bing", "search_bilibili"]\n'
                                     f'[search_web]\nprovider = "searxng"\nbase_url = "{standin.url}"\n'
                                     f'[search_bilibili]\nbase_url = "{standin.url}"\n')
    assert toolkit.names == ["search_web", "search_bing", "search_bilibili"]
    bing = toolkit.get("search_bing")
    assert bing.parameters == toolkit.get("search_web").parameters
    assert bing(query="Interstellar", k=1)["results"][0]["url"] == "https://en.wikipedia.org/wiki/Interstellar_(film)"
    assert toolkit.get("search_bilibili")(keyword="Oppenheimer")[0]["url"].endswith("/BV1LocalRep5")


@pytest.mark.server
def test_brave_key_comes_from_the_named_variable(tmp_path: Path, standin: StandinHTTPServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MY_BRAVE", raising=False)
    search_web = toolkit_from(tmp_path, f'tools = ["search_web"]\n[search_web]\nprovider = "brave"\n'
                                        f'base_url = "{standin.url}/res/v1"\napi_key_env = "MY_BRAVE"\n').get("search_web")
    with pytest.raises(ToolError, match="set the environment variable MY_BRAVE"):
        search_web(query="Nolan")
    monkeypatch.setenv("MY_BRAVE", STANDIN_BRAVE_KEY)
    assert search_web(query="Nolan", k=2)["provider"] == "brave"


def test_offline_index_is_relative_to_the_file(tmp_path: Path) -> None:
    build_index([Document("Tenet", "Tenet is a 2020 film by Christopher Nolan.", "local:Tenet")],
                tmp_path / "web.sqlite")
    search_web = toolkit_from(tmp_path, 'tools = ["search_web"]\n[search_web]\nprovider = "offline"\n'
                                        'index = "web.sqlite"\n').get("search_web")
    assert search_web(query="Tenet")["results"][0]["url"] == "local:Tenet"


def test_offline_by_default_shares_the_search_wiki_index(tmp_path: Path) -> None:
    build_index([Document("Dunkirk", "Dunkirk is a 2017 war film.", "local:Dunkirk")], tmp_path / "wiki.sqlite")
    search_web = toolkit_from(tmp_path, 'tools = ["search_web"]\n[search_wiki]\nindex = "wiki.sqlite"\n').get(
        "search_web")
    assert search_web(query="Dunkirk")["results"][0]["title"] == "Dunkirk"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[search_web]\nprovider = 'bing'\n", "search_web.provider: Input should be 'searxng', 'brave' or 'offline'"),
        ("[search_web]\napi_key = 'sk-123'\n", "search_web.api_key: Extra inputs are not permitted"),
        ("[search_bilibili]\ntimeout_s = 0\n", "search_bilibili.timeout_s"),
    ],
)
def test_bad_sections_are_config_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        toolkit_from(tmp_path, text)


def test_searxng_without_base_url_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'searxng' needs base_url"):
        toolkit_from(tmp_path, 'tools = ["search_web"]\n[search_web]\nprovider = "searxng"\n')
