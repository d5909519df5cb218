"""A toolkit: the tools one agent may call, and how the planner is told about them.

The same object feeds the planner prompt (one ``name[input]: description`` line per
tool), the plan grammar (only these names), the validator (unknown tool, input that
cannot fit) and the worker (which function to call). Users add their own tools from a
Python file with ``--tools PATH``: every ``@tool``-decorated function in it.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import json
import re
import sys
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path

from foreplan.errors import ConfigError, ToolsFileError
from foreplan.tools.tool import Tool

#: What the plan parser reads as a tool name (``#E1 = name[...]``).
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXAMPLE_TOOL_RE = re.compile(r"#E\d+\s*=\s*([A-Za-z_][A-Za-z0-9_]*)\s*\[")


class Toolkit:
    """An ordered set of tools, by name."""

    def __init__(self, tools: Iterable[Tool] = (), planner_example: str | None = None) -> None:
        self._tools: dict[str, Tool] = {}
        self.planner_example = planner_example
        """A worked example for the planner prompt ("Task: ..." then its plan), shown
        instead of a built-in one: small planners copy the example's form and habits, so
        one written with these tools (on another task) helps them most."""
        self.allow_untrusted: frozenset[str] = frozenset()
        """Sensitive arguments that evidence may fill after all, as ``tool.argument`` or a
        bare ``argument`` for every tool (``--allow-untrusted``, or the toolkit file)."""
        self.confirm: frozenset[str] = frozenset()
        """Side-effect tools that run only on a yes, even when the run did not ask for
        confirmations (``"*"``: all of them); where no one can answer they are declined."""
        self.auto_approve: frozenset[str] = frozenset()
        """Side-effect tools that run without a question, even under ``--confirm``."""
        self.always_on: frozenset[str] = frozenset({"LLM"})
        """Tools that tool retrieval always keeps (retrieval.py): general ones a task
        rarely names, such as ``LLM``."""
        for t in tools:
            self.add(t)

    def add(self, t: Tool, replace: bool = False) -> None:
        """Add a tool.

        Raises:
            ConfigError: another tool already has this name (and ``replace`` is false).
        """
        if not _NAME_RE.fullmatch(t.name):
            raise ConfigError(
                f"tool name {t.name!r} cannot appear in a plan: use letters, digits and _ "
                "(starting with a letter or _), e.g. tool(name='web_search')"
            )
        if t.name in self._tools and not replace:
            raise ConfigError(f"two tools are named {t.name!r}; rename one (tool(name=...))")
        self._tools[t.name] = t

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def suggest(self, name: str) -> str | None:
        """The known tool name closest to ``name`` (case-insensitive first)."""
        for known in self._tools:
            if known.lower() == name.lower():
                return known
        close = difflib.get_close_matches(name, list(self._tools), n=1, cutoff=0.6)
        return close[0] if close else None

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def allows_untrusted(self, tool: str, argument: str) -> bool:
        """Whether evidence may fill ``tool``'s sensitive ``argument``."""
        return argument in self.allow_untrusted or f"{tool}.{argument}" in self.allow_untrusted

    def untrusted(self, tool: Tool, carried: dict[str, list[str]]) -> dict[str, list[str]]:
        """Of ``carried`` (argument -> the evidence it carries), the sensitive arguments of
        a side-effect ``tool`` that evidence may not fill: what the worker refuses, and
        what the validator names before anything runs."""
        if not tool.side_effects:
            return {}
        return {name: found for name, found in carried.items()
                if found and name in tool.sensitive and not self.allows_untrusted(tool.name, name)}

    def subset(self, names: Iterable[str]) -> Toolkit:
        """The toolkit of only ``names`` (in this toolkit's order), with the same policies;
        the worked example stays when it uses only these tools."""
        keep = set(names)
        part = Toolkit(t for t in self if t.name in keep)
        example = self.planner_example
        if example is not None and not set(_EXAMPLE_TOOL_RE.findall(example)) <= keep:
            example = None
        part.planner_example = example
        part.allow_untrusted, part.confirm = self.allow_untrusted, self.confirm
        part.auto_approve, part.always_on = self.auto_approve, self.always_on
        return part

    def fingerprint(self) -> str:
        """A short hash of every tool's name, description and argument schema: runs on the
        same fingerprint ran on the same tools (memory.py reuses their plans)."""
        described = [[t.name, t.description, t.parameters, t.side_effects] for t in self]
        return hashlib.sha256(json.dumps(described, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def producers(self, consumer: Tool) -> dict[str, tuple[Tool, str]]:
        """For each identifier argument of ``consumer`` (``geoId``, ``sky_id``), another tool
        that returns that identifier and the field it returns it as: a city's name is not
        its id, so a plan needs that lookup first. Judged from the schemas alone."""
        found: dict[str, tuple[Tool, str]] = {}
        for name in consumer.args_model.model_fields:
            wanted = identifier(name)
            if wanted is None:
                continue
            for producer in self:
                field = next((f for f in producer.return_fields or [] if producer is not consumer and
                              (have := identifier(f)) is not None and wanted.endswith(have)), None)
                if field is not None:
                    found[name] = (producer, field)
                    break
        return found

    def close(self) -> None:
        """Release what the tools hold open (database pools, MCP servers), each once."""
        seen: set[int] = set()
        for t in self._tools.values():
            if t.resource is not None and id(t.resource) not in seen:
                seen.add(id(t.resource))
                t.close()

    def describe(self) -> list[str]:
        """One line per tool for the planner prompt: ``name[input]: description``, then,
        for tools the caller fills, the required arguments with their descriptions and
        the optional ones by name only: a planner needs to know what a step must say,
        and an API's dozen optional knobs would crowd the prompt."""
        lines = []
        for t in self:
            line = f"{t.name}[input]: {t.description}"
            if t.single_input is not None:
                line += _input_clause(t, line)
            else:
                line += "" if line.endswith((".", "!", "?")) else "."
                fields = t.args_model.model_fields
                required = [f"{n} ({type_name(f.annotation)}): {(f.description or '').rstrip('.')}"
                            for n, f in fields.items() if f.is_required()]
                optional = [f"{n} ({type_name(f.annotation)})" for n, f in fields.items() if not f.is_required()]
                if required:
                    line += f" Input describes the arguments: {'; '.join(required)}."
                if optional:
                    line += f" Optional: {', '.join(optional)}."
            if (t.returns or t.return_fields) and not line.endswith((".", "!", "?")):
                line += "."
            if t.returns:
                line += f" Returns: {t.returns}"
            elif t.return_fields:
                line += f" Returns: an object with {', '.join(t.return_fields)}."
            lines.append(line)
        return lines


def _input_clause(tool: Tool, line: str) -> str:
    """`` Input: url (str): the page's address.`` for a one-input tool whose description does not
    say what its input is: a planner shown only ``fetch_page[input]: Fetch a web page.
    Returns: title, text.`` writes ``fetch_page["text"]``, a field of the result."""
    name = tool.single_input
    described = (tool.args_model.model_fields[name].description or "").strip().rstrip(".")
    if not described or re.search(r"\binput\b", tool.description, re.IGNORECASE):
        return ""
    stop = "" if line.endswith((".", "!", "?")) else "."
    optional = "" if tool.args_model.model_fields[name].is_required() else " (optional)"
    annotation = type_name(tool.args_model.model_fields[name].annotation)
    return f"{stop} Input{optional}: {name} ({annotation}): {described}."


def identifier(name: str) -> str | None:
    """``geoId``, ``sky_id``, ``originSkyId`` → ``geoid``, ``skyid``, ``originskyid``: an
    identifier's name, normalized; None for names that are not identifiers."""
    normal = name.replace("_", "").lower()
    return normal if normal.endswith("id") and len(normal) > 2 else None


def type_name(annotation: object) -> str:
    """``str``, ``list[typing.Any] | None`` → ``list[Any] | None``: a parameter's type as a prompt shows it."""
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def load_tools_file(path: str | Path) -> list[Tool]:
    """Import a user's Python file and return every :class:`Tool` defined in it.

    Raises:
        ToolsFileError: the file is missing, is not Python, fails to import (the
            message shows the error and the line), or defines no tool.
    """
    path = Path(path)
    if not path.is_file():
        raise ToolsFileError(f"tools file {path} does not exist")
    if path.suffix != ".py":
        raise ToolsFileError(f"tools file {path} is not a Python file (.py)")
    module_name = f"foreplan_user_tools_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ToolsFileError(f"cannot import {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except ConfigError as exc:  # e.g. a ToolDefinitionError from @tool
        sys.modules.pop(module_name, None)
        raise ToolsFileError(f"{path}: {exc}") from exc
    except BaseException as exc:  # the user's code may raise anything, even SystemExit
        sys.modules.pop(module_name, None)
        where = _user_frame(exc, path)
        raise ToolsFileError(
            f"importing {path} failed{where}: {type(exc).__name__}: {exc}. Fix the file and try again."
        ) from exc
    tools = [v for v in vars(module).values() if isinstance(v, Tool)]
    if not tools:
        raise ToolsFileError(
            f"{path} defines no tools. Decorate functions with @foreplan.tool "
            "(type hints and an Args: docstring section are required)."
        )
    return tools


def _user_frame(exc: BaseException, path: Path) -> str:
    if isinstance(exc, SyntaxError) and exc.lineno:
        return f" (line {exc.lineno})"
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
    return f" (line {frames[-1].lineno})" if frames else ""
