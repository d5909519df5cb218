"""Tool names to tools: the built-ins, the workspace-bound ones and the synthetic ones.

Task files (synthesized or written by hand) name their tools; this module turns a list
of names into a :class:`Toolkit` whose tools all run offline:

    LLM, calculator, get_current_time    the built-ins
    search_wiki                          the real tool over a small index of FILMS,
                                         built once into the workspace
    query_sql                            the real tool over bokeh-sampledata's movies.db
    save_file                            the real tool, fenced into the workspace
    get_weather, convert_currency, ...   foreplan.synth.tools

``LLM`` steps need a model; :class:`StubLLM` answers every call with a fixed sentence
so a plan can be executed without one (what is measured is whether steps run).
"""

from __future__ import annotations

from pathlib import Path

from foreplan.errors import ConfigError
from foreplan.llm.base import GenerationOptions, Message
from foreplan.synth.entities import FILMS
from foreplan.synth.tools import SYNTH_TOOLS
from foreplan.tools import BUILTIN_TOOLS
from foreplan.tools.tool import Tool
from foreplan.tools.toolkit import Toolkit
from foreplan.types import Completion, Usage

#: Tools built from a workspace folder, not importable as module attributes.
WORKSPACE_TOOLS = ("search_wiki", "query_sql", "save_file")
ALL_TOOL_NAMES: tuple[str, ...] = (*(t.name for t in BUILTIN_TOOLS), *WORKSPACE_TOOLS, *(t.name for t in SYNTH_TOOLS))


class StubLLM:
    """Answers every call with one fixed sentence; stands in for the ``LLM`` tool's model."""

    name = "stub"
    supports_grammar = False

    def __init__(self, reply: str = "A short answer written from the evidence above.") -> None:
        self.reply = reply

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        return Completion(self.reply, Usage(0, 0, 1))


class Toolbox:
    """Every known tool, built lazily into one workspace folder."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = Path(workspace)
        self._tools: dict[str, Tool] = {t.name: t for t in (*BUILTIN_TOOLS, *SYNTH_TOOLS)}

    def get(self, name: str) -> Tool:
        """The tool called ``name``.

        Raises:
            ConfigError: no tool has that name (the message lists the known ones).
        """
        if name not in self._tools:
            if name == "search_wiki":
                self._tools[name] = _film_wiki(self.workspace)
            elif name == "query_sql":
                from foreplan.tools.sql import make_query_sql, movies_db_path

                self._tools[name] = make_query_sql(f"sqlite:///{movies_db_path()}", max_rows=20)
            elif name == "save_file":
                from foreplan.tools.files import make_save_file

                self._tools[name] = make_save_file(self.workspace / "files", overwrite=True)
            else:
                raise ConfigError(f"unknown tool {name!r}; known tools: {', '.join(ALL_TOOL_NAMES)}")
        return self._tools[name]

    def toolkit(self, names: list[str]) -> Toolkit:
        """A toolkit of exactly ``names``, in that order (the order the prompt lists them)."""
        return Toolkit(self.get(n) for n in names)


def _film_wiki(workspace: Path) -> Tool:
    from foreplan.tools.corpus import Document, build_index
    from foreplan.tools.wiki import make_search_wiki

    index = workspace / "films.sqlite"
    if not index.is_file():
        build_index([Document(f"{title} ({year} film)", f"{title} is a {year} film directed by {director}.",
                              "foreplan.synth.entities") for title, year, director in FILMS], index)
    return make_search_wiki(index)
