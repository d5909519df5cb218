"""A typed Python function becomes a tool with one decorator.

    @tool(timeout=5)
    def get_current_time(tz: str = "UTC") -> dict:
        '''Current date and time in a time zone.

        Args:
            tz: IANA time zone name, e.g. Europe/Paris.
        '''

The arguments' JSON schema comes from the type hints (through a pydantic model) and
the descriptions from the Google-style ``Args:`` section. A parameter without a hint
or without a description is refused when the module is imported, not when the model
first calls the tool (as smolagents' ``DocstringParsingException`` does).
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol, get_args, get_origin, get_type_hints, is_typeddict

import pydantic

from foreplan.errors import ToolDefinitionError, ToolError
from foreplan.tools.context import RunContext

_SECTION_RE = re.compile(r"^\s*(Args|Arguments|Parameters|Returns|Raises|Yields|Examples?|Notes?):\s*$")
_ARG_RE = re.compile(r"^\s*(\*{0,2}\w+)\s*(?:\(([^)]*)\))?\s*:\s*(.*)$")


def parse_docstring(doc: str) -> tuple[str, dict[str, str], str]:
    """Split a Google-style docstring into (description, {arg: text}, returns text)."""
    lines = inspect.cleandoc(doc or "").splitlines()
    summary: list[str] = []
    args: dict[str, str] = {}
    returns: list[str] = []
    section = None
    arg_indent = None
    current = None
    for line in lines:
        m = _SECTION_RE.match(line)
        if m:
            section = m.group(1)
            arg_indent = None
            continue
        if section is None:
            summary.append(line)
        elif section in ("Args", "Arguments", "Parameters"):
            if not line.strip():
                continue
            indent = len(line) - len(line.lstrip())
            am = _ARG_RE.match(line)
            if am and (arg_indent is None or indent <= arg_indent):
                arg_indent = indent
                current = am.group(1).lstrip("*")
                args[current] = am.group(3).strip()
            elif current is not None:  # continuation line of the previous argument
                args[current] = f"{args[current]} {line.strip()}".strip()
        elif section == "Returns":
            returns.append(line.strip())
    description = " ".join(" ".join(summary).split())
    return description, args, " ".join(" ".join(returns).split())


class Resource(Protocol):
    """Something a tool holds open: a connection pool, a server process."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class Tool:
    """A callable the planner can name. Build one with :func:`tool`."""

    name: str
    description: str
    fn: Callable[..., Any]
    args_model: type[pydantic.BaseModel]
    returns: str = ""
    """What the result holds (fields a later step can reference)."""
    timeout: float = 30.0
    """Seconds one attempt may take before the step is recorded as a timeout."""
    retries: int = 0
    """Extra attempts after a :class:`RetryableToolError`."""
    side_effects: bool = False
    sensitive: frozenset[str] = frozenset()
    """Arguments that decide where a side effect lands (a recipient, a path, a URL). Evidence
    is data that may carry injected instructions, so a side-effect call whose sensitive
    argument came from evidence is refused unless the toolkit allows it
    (:attr:`Toolkit.allow_untrusted`)."""
    return_type: Any = None
    """The function's return annotation (None when it has none): the validator checks a
    field reference such as ``#E1.body`` against it before anything runs."""
    context_parameter: str | None = None
    """The parameter typed :class:`RunContext`, which the worker fills (never a model)."""
    examples: tuple[str, ...] = field(default=())
    render_reference: Callable[[Any, bool], str] | None = None
    """How an earlier result referenced in this tool's input (``#E1.rows[0].Title``) is
    written into it: ``render_reference(value, inside_quotes)``, where ``inside_quotes``
    says the reference sits inside a single-quoted string. None: the value's plain text.
    ``query_sql`` writes SQL literals, so evidence can neither break nor inject SQL."""
    evidence_chars: int | None = None
    """Evidence referenced in this tool's input is cut to its sentences that best match the
    step, to about this many characters (llm/focus.py); None: written in whole. The
    ``LLM`` tool reads what it is given, every token of it, so it sets one."""
    resource: Resource | None = None
    """What the tool holds open between calls (``query_sql``'s connection pool, an MCP
    tool's server connection), released by :meth:`close`; several tools may share one."""

    def close(self) -> None:
        """Release what the tool holds open (nothing for most tools); safe to call twice."""
        if self.resource is not None:
            self.resource.close()

    @property
    def parameters(self) -> dict[str, Any]:
        """JSON schema of the arguments."""
        return self.args_model.model_json_schema()

    @property
    def return_fields(self) -> list[str] | None:
        """The fields of a pydantic model or TypedDict return type; None when the return
        annotation does not name them (dict, list, Any, none)."""
        returns = self.return_type
        if isinstance(returns, type) and issubclass(returns, pydantic.BaseModel):
            return list(returns.model_fields)
        if is_typeddict(returns):
            return list(get_type_hints(returns))
        return None

    @property
    def single_input(self) -> str | None:
        """Name of the one required parameter when the tool takes a single text-like
        input (the ReWOO ``tool[input]`` case); ``None`` when it needs the caller."""
        fields = self.args_model.model_fields
        required = [n for n, f in fields.items() if f.is_required()]
        candidates = required or list(fields)
        if len(candidates) != 1:
            return None
        ann = fields[candidates[0]].annotation
        return candidates[0] if ann in (str, int, float) else None

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Check and coerce arguments against the schema.

        Raises:
            ToolError: the arguments do not fit, with pydantic's explanation.
        """
        try:
            model = self.args_model.model_validate(arguments)
        except pydantic.ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            raise ToolError(f"arguments for {self.name} do not fit its schema: {problems}") from exc
        return {name: getattr(model, name) for name in self.args_model.model_fields}

    def __call__(self, **arguments: Any) -> Any:
        """Validate the arguments and run the tool outside a run (an empty context)."""
        return self.run(arguments)

    def run(self, arguments: dict[str, Any], context: RunContext | None = None) -> Any:
        """Validate the arguments and run the tool with the run's ``context`` (async tools
        in their own loop)."""
        kwargs = self.validate(arguments)
        if self.context_parameter is not None:
            kwargs[self.context_parameter] = context or RunContext()
        if inspect.iscoroutinefunction(self.fn):
            return asyncio.run(self.fn(**kwargs))
        return self.fn(**kwargs)


def tool(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    timeout: float = 30.0,
    retries: int = 0,
    side_effects: bool = False,
    sensitive: Iterable[str] = (),
    render_reference: Callable[[Any, bool], str] | None = None,
    evidence_chars: int | None = None,
) -> Any:
    """Turn a type-hinted, documented function into a :class:`Tool`.

    Usable bare (``@tool``) or with options (``@tool(timeout=5)``).

    Raises:
        ToolDefinitionError: a parameter has no type hint or no ``Args:`` entry, or the
            function has no description.
    """

    def build(f: Callable[..., Any]) -> Tool:
        tool_name = name or f.__name__
        description, arg_docs, returns = parse_docstring(f.__doc__ or "")
        if not description:
            raise ToolDefinitionError(f"tool {tool_name!r}: add a docstring saying what it does")
        try:
            hints = get_type_hints(f, include_extras=True)  # Annotated constraints (Field(pattern=...)) stay
        except Exception as exc:  # a hint that names something undefined
            raise ToolDefinitionError(f"tool {tool_name!r}: cannot resolve type hints: {exc}") from exc
        fields: dict[str, Any] = {}
        context_parameter = None
        for pname, param in inspect.signature(f).parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise ToolDefinitionError(f"tool {tool_name!r}: *args/**kwargs cannot be described to a model")
            if _plain(hints.get(pname)) is RunContext:
                context_parameter = pname  # filled by the worker, not part of the schema
                continue
            if pname not in hints:
                raise ToolDefinitionError(f"tool {tool_name!r}: parameter {pname!r} needs a type hint")
            if pname not in arg_docs:
                raise ToolDefinitionError(
                    f"tool {tool_name!r}: parameter {pname!r} is not described in the docstring's Args: section"
                )
            default = ... if param.default is param.empty else param.default
            fields[pname] = (hints[pname], pydantic.Field(default, description=arg_docs[pname]))
        model = pydantic.create_model(f"{tool_name}_arguments", **fields)
        unknown = sorted(set(sensitive) - set(fields))
        if unknown:
            raise ToolDefinitionError(f"tool {tool_name!r}: sensitive names {', '.join(unknown)}, which it does not "
                                      f"take (its arguments: {', '.join(fields) or 'none'})")
        return Tool(tool_name, description, f, model, returns, timeout, retries, side_effects,
                    sensitive=frozenset(sensitive), render_reference=render_reference, evidence_chars=evidence_chars,
                    return_type=_plain(hints.get("return")), context_parameter=context_parameter)

    return build(fn) if fn is not None else build


def _plain(hint: Any) -> Any:
    """A type hint without its ``Annotated`` extras: only argument fields keep those (as
    pydantic constraints); the return type and the context parameter are read bare."""
    return get_args(hint)[0] if get_origin(hint) is Annotated else hint
