"""A toolkit file (TOML): which tools, with which providers, keys, folders and databases.

    # toolkit.toml
    tools = ["LLM", "calculator", "get_current_time", "search_wiki", "query_sql", "save_file"]
    workspace = "workspace"                 # save_file writes only here
    tools_files = ["my_tools.py"]           # @tool functions to add
    spec_files = ["api.json"]               # tools from a JSON spec, as dry-run stubs (spec.py)
    always_on = ["LLM"]                     # tools retrieval always keeps (retrieval.py)
    confirm = ["send_email"]                # side effects that run only on a yes ("*": all), even
    auto_approve = ["save_file"]            #   without --confirm; these never ask, even with it
    planner_example = '''                   # optional: a worked example with these tools
    Task: ...
    Plan: ...
    #E1 = query_sql[SELECT ...]'''

    [search_wiki]
    provider = "offline"                    # or "online" (MediaWiki API)
    index = "wiki.sqlite"                   # built by: foreplan corpus build

    [query_sql]
    url_env = "DATABASE_URL"                # or url = "sqlite:///movies.db"
    max_rows = 100

    [search_web]                            # also answers to the seed's name, search_bing
    provider = "brave"                      # or "searxng" (with base_url) or "offline" (index)
    api_key_env = "BRAVE_API_KEY"

    [search_bilibili]
    base_url = "http://127.0.0.1:8765"      # a local replica (standins.py); default: Bilibili

    [[mcp]]                                 # Model Context Protocol servers (mcp.py), repeatable
    name = "fs"                             # tools become fs_<tool>; prefix = "" keeps their names
    command = "python"                      # stdio; or url = "http://127.0.0.1:8000/mcp"
    args = ["-m", "my_mcp_server"]
    env_pass = ["GITHUB_TOKEN"]             # copied from the environment (env = {...} for plain values)

Relative paths are relative to the file. Secrets are never written in the file: a key
is named by the environment variable that holds it (``*_env``). Every mistake is a
:class:`ConfigError` naming the file, the key and what is allowed.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from foreplan.errors import ConfigError
from foreplan.tools.spec import load_spec_tools
from foreplan.tools.toolkit import Toolkit, load_tools_file

DEFAULT_TOOLS = ("LLM", "calculator", "get_current_time")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchWikiConfig(_Section):
    provider: Literal["offline", "online"] = "offline"
    """offline: the local FTS index; online: the MediaWiki API of ``language``.wikipedia.org"""
    index: Path | None = Field(None, description="FTS index file; default: the user cache dir's corpus/wiki.sqlite")
    language: str = "en"


class SearchWebConfig(_Section):
    provider: Literal["searxng", "brave", "offline"] = "offline"
    """searxng: a SearXNG instance's JSON API; brave: the Brave Search API; offline: the local FTS index"""
    base_url: str | None = Field(None, description="SearXNG instance (required for it) or Brave API root")
    api_key_env: str = Field("BRAVE_API_KEY", description="Environment variable holding the Brave API key")
    index: Path | None = Field(None, description="FTS index file for offline; default: the search_wiki one")
    timeout_s: float = Field(10.0, gt=0)


class SearchBilibiliConfig(_Section):
    base_url: str | None = Field(None, description="API root; default https://api.bilibili.com")
    home_url: str | None = Field(None, description="Page that sets the buvid3 cookie; default: base_url or bilibili")
    timeout_s: float = Field(10.0, gt=0)


class QuerySqlConfig(_Section):
    url: str | None = Field(None, description="SQLAlchemy URL; default: the movies database of bokeh-sampledata")
    url_env: str | None = Field(None, description="Environment variable holding the URL (keeps passwords out of files)")
    max_rows: int = Field(100, ge=1, le=100_000)
    timeout_s: float = Field(10.0, gt=0)
    read_only: bool = True


class SaveFileConfig(_Section):
    overwrite: bool = False
    max_bytes: int = Field(1_000_000, ge=1)


class MCPConfig(_Section):
    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Names the server; default tool prefix")
    command: str | None = Field(None, description="Executable that serves MCP over stdio")
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict, description="Extra environment (no secrets: use env_pass)")
    env_pass: list[str] = Field(default_factory=list, description="Environment variables passed through")
    cwd: Path | None = None
    url: str | None = Field(None, description="Streamable HTTP endpoint, e.g. http://127.0.0.1:8000/mcp")
    prefix: str | None = Field(None, description="Tool name prefix; default: name; empty: none")
    tools: list[str] | None = Field(None, description="Only these of the server's tools (default: all)")
    timeout_s: float = Field(30.0, gt=0)
    startup_timeout_s: float = Field(30.0, gt=0)

    @pydantic.model_validator(mode="after")
    def _one_transport(self) -> MCPConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError(f"MCP server {self.name!r}: give either command (stdio) or url (streamable HTTP)")
        return self


class ToolkitConfig(_Section):
    tools: list[str] = Field(default_factory=lambda: list(DEFAULT_TOOLS))
    workspace: Path = Path("workspace")
    tools_files: list[Path] = Field(default_factory=list)
    spec_files: list[Path] = Field(default_factory=list, description=(
        "JSON tool specifications (TaskBench nodes or OpenAI functions) whose tools join as dry-run stubs"))
    always_on: list[str] = Field(default_factory=lambda: ["LLM"], description=(
        "Tools that tool retrieval always shows the planner, whatever the task"))
    search_wiki: SearchWikiConfig = Field(default_factory=SearchWikiConfig)
    search_web: SearchWebConfig = Field(default_factory=SearchWebConfig)
    search_bilibili: SearchBilibiliConfig = Field(default_factory=SearchBilibiliConfig)
    query_sql: QuerySqlConfig = Field(default_factory=QuerySqlConfig)
    save_file: SaveFileConfig = Field(default_factory=SaveFileConfig)
    mcp: list[MCPConfig] = Field(default_factory=list)
    sensitive: dict[str, list[str]] = Field(default_factory=dict, description=(
        "More sensitive arguments per tool, e.g. {send_message = [\"channel\"]}: a side-effect call refuses "
        "evidence in them"))
    allow_untrusted: list[str] = Field(default_factory=list, description=(
        "Sensitive arguments evidence may fill after all: tool.argument, or argument for every tool"))
    confirm: list[str] = Field(default_factory=list, description=(
        'Side-effect tools that run only on a yes, even without --confirm ("*": all); declined where no one '
        "can answer"))
    auto_approve: list[str] = Field(default_factory=list, description=(
        "Side-effect tools that run without a question, even under --confirm"))
    planner_example: str | None = Field(None, description='A worked example for the planner: "Task: ..." then '
                                                          "its plan, using this toolkit's tools")


def load_toolkit_config(path: str | Path) -> ToolkitConfig:
    """Read and check a toolkit file; relative paths become relative to its folder.

    Raises:
        ConfigError: missing file, TOML syntax error, unknown key, wrong type.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"toolkit file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read toolkit file {path}: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"toolkit file {path} is not valid TOML: {exc}") from exc
    try:
        config = ToolkitConfig.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"toolkit file {path}: {problems}") from exc
    base = path.parent
    config.workspace = base / config.workspace
    config.tools_files = [base / p for p in config.tools_files]
    config.spec_files = [base / p for p in config.spec_files]
    if config.search_wiki.index is not None:
        config.search_wiki.index = base / config.search_wiki.index.expanduser()
    if config.search_web.index is not None:
        config.search_web.index = base / config.search_web.index.expanduser()
    for server in config.mcp:
        server.cwd = base / server.cwd.expanduser() if server.cwd is not None else None
    return config


def build_toolkit(config: ToolkitConfig | None = None) -> Toolkit:
    """The toolkit a config describes (the default toolkit for ``None``).

    Raises:
        ConfigError: an unknown tool name, or a tool whose settings are missing.
    """
    from foreplan.tools import BUILTIN_TOOLS

    config = config or ToolkitConfig()
    builtin = {t.name: t for t in BUILTIN_TOOLS}
    factories = {"search_wiki": _search_wiki, "query_sql": _query_sql, "query_mysql": _query_sql,
                 "save_file": _save_file, "search_web": _search_web, "search_bing": _search_web,
                 "search_bilibili": _search_bilibili}
    toolkit = Toolkit()
    for name in config.tools:
        if name in builtin:
            toolkit.add(builtin[name])
        elif name in factories:
            made = factories[name](config)
            if name in ("query_mysql", "search_bing"):  # the seed's names, kept as aliases
                from dataclasses import replace

                made = replace(made, name=name)
            toolkit.add(made)
        else:
            known = ", ".join(sorted(set(builtin) | set(factories)))
            raise ConfigError(f"unknown tool {name!r} in the toolkit file; known tools: {known} "
                              "(your own tools go in tools_files)")
    toolkit.planner_example = config.planner_example
    for server in config.mcp:
        _add_mcp_tools(toolkit, server)
    for path in config.spec_files:
        for t in load_spec_tools(path):
            toolkit.add(t)
    for path in config.tools_files:
        for t in load_tools_file(path):
            toolkit.add(t, replace=True)
    _apply_policy(toolkit, config)
    return toolkit


def _apply_policy(toolkit: Toolkit, config: ToolkitConfig) -> None:
    """Mark the file's sensitive arguments on its tools, and take its allow list."""
    from dataclasses import replace

    for name, arguments in config.sensitive.items():
        t = toolkit.get(name)
        if t is None:
            raise ConfigError(f"sensitive names the tool {name!r}, which the toolkit does not have; "
                              f"its tools: {', '.join(toolkit.names)}")
        unknown = sorted(set(arguments) - set(t.args_model.model_fields))
        if unknown:
            raise ConfigError(f"sensitive.{name} names {', '.join(unknown)}, which {name} does not take; "
                              f"it takes: {', '.join(t.args_model.model_fields)}")
        toolkit.add(replace(t, sensitive=t.sensitive | set(arguments)), replace=True)
    toolkit.allow_untrusted = frozenset(config.allow_untrusted)
    toolkit.always_on = frozenset(config.always_on)
    for key in ("confirm", "auto_approve"):
        names = getattr(config, key)
        wrong = [n for n in names if n != "*" or key == "auto_approve"
                 if (t := toolkit.get(n)) is None or not t.side_effects]
        if wrong:
            effects = ", ".join(t.name for t in toolkit if t.side_effects) or "none"
            raise ConfigError(f"{key} names {', '.join(wrong)}, which {'is' if len(wrong) == 1 else 'are'} not a "
                              f"side-effect tool of the toolkit; its side-effect tools: {effects}")
        setattr(toolkit, key, frozenset(names))


def _add_mcp_tools(toolkit: Toolkit, server: MCPConfig) -> None:
    from foreplan.tools.mcp import MCPServerSpec, load_mcp_tools

    missing = [name for name in server.env_pass if name not in os.environ]
    if missing:
        raise ConfigError(f"mcp server {server.name!r}: env_pass names {', '.join(missing)}, not set in the environment")
    env = {**server.env, **{name: os.environ[name] for name in server.env_pass}}
    spec = MCPServerSpec(server.name, server.command, tuple(server.args), env, str(server.cwd) if server.cwd else None,
                         server.url, server.timeout_s, server.startup_timeout_s)
    tools = load_mcp_tools(spec, server.prefix)
    if server.tools is not None:
        offered = {t.fn.remote_name: t for t in tools}
        unknown = sorted(set(server.tools) - set(offered))
        if unknown:
            raise ConfigError(f"mcp server {server.name!r} has no tool {', '.join(unknown)}; it offers: "
                              f"{', '.join(sorted(offered))}")
        tools = [offered[name] for name in server.tools]
    for t in tools:
        if t.name in toolkit:
            raise ConfigError(f"tool name clash: {t.name!r} from mcp server {server.name!r} is also a toolkit tool "
                              f"({toolkit.get(t.name).description[:60]!r}); set prefix in its [[mcp]] entry")
        toolkit.add(t)


def _search_wiki(config: ToolkitConfig):
    from foreplan.tools.wiki import default_index_path, make_search_wiki

    section = config.search_wiki
    return make_search_wiki(section.index or default_index_path(), provider=section.provider,
                            language=section.language)


def _query_sql(config: ToolkitConfig):
    section = config.query_sql
    url = section.url
    if section.url_env:
        url = os.environ.get(section.url_env)
        if not url:
            raise ConfigError(f"query_sql.url_env names {section.url_env!r}, which is not set in the environment")
    from foreplan.tools.sql import make_query_sql, movies_db_path

    if url is None:
        url = f"sqlite:///{movies_db_path()}"
    return make_query_sql(url, max_rows=section.max_rows, timeout_s=section.timeout_s, read_only=section.read_only)


def _save_file(config: ToolkitConfig):
    from foreplan.tools.files import make_save_file

    return make_save_file(config.workspace, overwrite=config.save_file.overwrite, max_bytes=config.save_file.max_bytes)


def _search_web(config: ToolkitConfig):
    from foreplan.tools.web import make_search_web

    section = config.search_web
    index = section.index
    if section.provider == "offline" and index is None:
        index = config.search_wiki.index  # one index serves both offline searches
    return make_search_web(section.provider, base_url=section.base_url, api_key_env=section.api_key_env,
                           index_path=index, timeout=section.timeout_s)


def _search_bilibili(config: ToolkitConfig):
    from foreplan.tools.bilibili import make_search_bilibili

    section = config.search_bilibili
    return make_search_bilibili(api_base=section.base_url, home_url=section.home_url, timeout=section.timeout_s)
