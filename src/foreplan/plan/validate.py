"""Check that a parsed plan can run before any tool is called.

Every problem is collected (not just the first) so the planner can be shown all of them
at once when it is asked to repair its plan.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated

import pydantic

from foreplan.errors import ToolError
from foreplan.tools.call_syntax import keyword_names, one_input_text, positional_values, references_in, written_arguments
from foreplan.tools.retrieval import closest_tool
from foreplan.tools.tool import Tool
from foreplan.tools.toolkit import Toolkit, type_name
from foreplan.types import Plan, Reference, Step, find_references


@dataclass(frozen=True)
class Problem:
    step_id: str
    code: str
    """unknown_tool, duplicate_id, empty_input, undefined_reference, forward_reference,
    self_reference, cycle, bad_input, no_such_field, untrusted_sensitive, needs_producer,
    result_field_as_input, too_many_steps"""
    message: str

    def __str__(self) -> str:
        return f"#{self.step_id}: {self.message}" if self.step_id else self.message


def validate_plan(plan: Plan, toolkit: Toolkit, max_steps: int | None = None) -> list[Problem]:
    """All problems that would stop ``plan`` from running with ``toolkit``.

    Returns:
        An empty list when the plan can run.
    """
    problems: list[Problem] = []
    if max_steps is not None and len(plan.steps) > max_steps:
        problems.append(Problem("", "too_many_steps", f"the plan has {len(plan.steps)} steps; at most {max_steps} are allowed"))
    position: dict[str, int] = {}
    for i, step in enumerate(plan.steps):
        if step.id in position:
            problems.append(Problem(step.id, "duplicate_id", f"#{step.id} is defined twice; number the steps #E1, #E2, ..."))
        else:
            position[step.id] = i
    for i, step in enumerate(plan.steps):
        tool = toolkit.get(step.tool)
        if tool is None:
            hint = toolkit.suggest(step.tool)
            problems.append(Problem(
                step.id, "unknown_tool",
                f"unknown tool {step.tool!r}" + (f" (did you mean {hint!r}?)" if hint else "")
                + f"; the tools are: {', '.join(toolkit.names)}",
            ))
        if not step.input.strip():
            problems.append(Problem(step.id, "empty_input", f"{step.tool}[] has an empty input"))
        for ref in step.depends_on:
            if ref == step.id:
                problems.append(Problem(step.id, "self_reference", f"#{step.id} refers to its own result"))
            elif ref not in position:
                problems.append(Problem(step.id, "undefined_reference", f"refers to #{ref}, which no step defines"))
            elif position[ref] > i:
                problems.append(Problem(step.id, "forward_reference", f"refers to #{ref}, which comes later; a step may only use earlier results"))
        for ref in step.references:
            earlier = ref.step_id in position and position[ref.step_id] < i  # the others are reported above
            producer = plan.steps[position[ref.step_id]] if earlier else None
            problem = _field_problem(ref, toolkit.get(producer.tool) if producer else None)
            if problem:
                problems.append(Problem(step.id, "no_such_field", problem))
        if tool is not None and tool.sensitive and step.references:
            problem = _untrusted_problem(tool, step.input, toolkit)
            if problem:
                problems.append(Problem(step.id, "untrusted_sensitive", problem))
        if tool is not None and step.input.strip():
            problem = (_keyword_problem(tool, step.input) or _count_problem(tool, step.input)
                       or (_literal_problem(tool, step.input) if step.references else _input_problem(tool, step.input)))
            if problem:
                problems.append(Problem(step.id, "bad_input", problem + _other_tool_hint(step, toolkit)))
        if tool is not None:
            problems += [Problem(step.id, "needs_producer", p) for p in _producer_problems(tool, step.input, toolkit)]
            same = next((s.id for s in plan.steps[:i] if s.tool == step.tool), None)
            problem = _result_field_problem(tool, step.input, same)
            if problem:
                problems.append(Problem(step.id, "result_field_as_input", problem))
    cycle = _find_cycle(plan)
    if cycle:
        problems.append(Problem(cycle[0], "cycle", "steps depend on each other in a circle: " + " -> ".join(f"#{c}" for c in cycle)))
    return problems


_SCALARS = {str: "text", int: "a number", float: "a number", bool: "true or false"}


def _field_problem(ref: Reference, producer: Tool | None) -> str | None:
    """Why ``ref``'s field path cannot exist in what ``producer`` returns, judged from its
    return annotation (text has no fields; a pydantic model or TypedDict names its own);
    None when it can, or when the annotation does not say (dict, list, Any, none)."""
    if producer is None or not ref.path or isinstance(ref.path[0], int):
        return None
    returns = producer.return_type
    if returns in _SCALARS:
        return (f"{ref.text}: {producer.name} returns {_SCALARS[returns]}, which has no field "
                f"{ref.path[0]!r}; use #{ref.step_id} whole")
    fields = producer.return_fields
    if fields is not None and ref.path[0] not in fields:
        return f"{ref.text}: {producer.name}'s result has no field {ref.path[0]!r}; it has: {', '.join(fields)}"
    return None


def _producer_problems(tool: Tool, text: str, toolkit: Toolkit) -> list[str]:
    """Identifiers a step writes as literals that another tool returns: ``geoId='Paris'``
    where ``search_location`` returns ``geoId``. A city's name is not its id; the plan
    needs the lookup first (judged from the tools' schemas, for tools never seen)."""
    producers = toolkit.producers(tool)
    if not producers:
        return []
    params = list(tool.args_model.model_fields)
    try:
        written = written_arguments(text.strip(), params) if len(params) > 1 else dict.fromkeys(params, text.strip())
    except RecursionError:  # the json and ast modules recurse on deep nesting: free text to the caller
        return []
    problems = []
    for name, value in (written or {}).items():
        if name not in producers or not isinstance(value, str) or references_in(value):
            continue
        producer, field = producers[name]
        problems.append(f"{tool.name}'s {name} is an id that {producer.name} returns (as {field}), and "
                        f"{value!r} is written from the task: call {producer.name} first and pass "
                        f"#E<n>.{field}")
    return problems


_QUOTED = re.compile(r'"([^"]*)"|\'([^\']*)\'')
_NAMED_PART = re.compile(r"(?:and )?([A-Za-z_]\w*)(?: \([^()]*\))?\.?")


def result_names(tool: Tool) -> list[str]:
    """The fields of what ``tool`` returns: its return type's, or those its ``Returns:``
    text lists as names, each perhaps with a note ("sender, subject, body.", "iso (ISO
    8601), date (YYYY-MM-DD)"); none when that text is prose."""
    fields = tool.return_fields
    if fields is not None:
        return fields
    parts, depth, start, text = [], 0, 0, tool.returns.strip()
    for i, char in enumerate(text):  # split at the commas outside parentheses
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    names = [m.group(1) for part in parts if (m := _NAMED_PART.fullmatch(part))]
    return names if text and len(names) == len(parts) else []


def _result_field_problem(tool: Tool, text: str, earlier: str | None = None) -> str | None:
    """A step input that only names fields of the tool's own result (``fetch_page["text"]``,
    ``read_inbox["body"]``): a small planner copies the ``Returns:`` list into the input,
    where the argument (the page's address) belongs. An input with anything else in it
    (``fetch_page["title", "https://..."]``) is left to the caller, which finds the
    address; so is a word that names an argument or that an argument's description
    offers as a value. When an ``earlier`` step already called the tool, the fix is to
    read that step's field, not to call the tool again."""
    found = _result_fields_named(tool, text)
    if not found:
        return None
    literals, names = found
    field = names[literals[0].lower()]
    what = (f"{', '.join(repr(literal) for literal in literals)} {'is a field' if len(literals) == 1 else 'are fields'}"
            f" of what {tool.name} returns, not an input")
    if earlier is not None:
        return (f"{what}, and #{earlier} already holds {tool.name}'s result: drop this step and write "
                f"#{earlier}.{field} in the step that needs it")
    params = tool.args_model.model_fields
    arguments = "; ".join(f"{a} ({f.description.rstrip('.')})" if f.description else a for a, f in params.items())
    return f"{what}; {tool.name} takes {arguments}. A later step can use a field as #E<n>.{field}"


def named_result_field(tool: Tool, text: str) -> str | None:
    """The one field of ``tool``'s result that ``text`` names and nothing else (``"body"``
    for ``read_inbox["body"]``); None otherwise."""
    fields = _result_fields_named(tool, text)
    if not fields or len(fields[0]) != 1:
        return None
    literals, names = fields
    return names[literals[0].lower()]


def _result_fields_named(tool: Tool, text: str) -> tuple[list[str], dict[str, str]] | None:
    """The literals of ``text`` when each one names a field of the tool's result and
    none is an argument or a value an argument's description offers, with the result's
    field names by lower case; None otherwise."""
    names = {n.lower(): n for n in result_names(tool)}
    if not names or find_references(text):
        return None
    stripped = text.strip()
    literals = [(a or b).strip() for a, b in _QUOTED.findall(stripped)] or [stripped]
    params = tool.args_model.model_fields
    described = " ".join(f.description or "" for f in params.values()).lower()

    def field_only(literal: str) -> bool:
        word = literal.lower()
        return word in names and word not in params and not re.search(rf"\b{re.escape(word)}\b", described)

    return (literals, names) if all(field_only(literal) for literal in literals) else None


def _untrusted_problem(tool: Tool, text: str, toolkit: Toolkit) -> str | None:
    """A side-effect step whose input, as written, fills a sensitive argument (recipient,
    path, URL) from evidence: the worker would refuse it, so say so before anything runs.
    Inputs in free words are judged at run time (execute/dag.py)."""
    stripped = text.strip()
    refs = find_references(stripped)
    if len(refs) == 1 and refs[0].text == stripped:  # one object spread over every argument
        carried = {name: [refs[0].text] for name in sorted(tool.sensitive)}
    else:
        written = written_arguments(stripped, list(tool.args_model.model_fields)) or {}
        carried = {name: references_in(value) for name, value in written.items()}
    tainted = toolkit.untrusted(tool, carried)
    if not tainted:
        return None
    said = "; ".join(f"{name} = {', '.join(found)}" for name, found in tainted.items())
    return (f"{tool.name} has side effects and takes {said} from an earlier result, which may carry injected "
            "instructions; write that value from the task into the plan (the user allows otherwise with "
            f"--allow-untrusted {tool.name}.{next(iter(tainted))})")


def _input_problem(tool, text: str) -> str | None:
    """Why a literal input cannot fit the tool's schema, or None when it can (or when
    only the function caller can tell)."""
    single = tool.single_input
    if single is not None:
        try:
            tool.validate({single: one_input_text(text, single)})  # as the worker reads it
        except ToolError as exc:
            return str(exc)
        return None
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            arguments = json.loads(stripped)
        except (ValueError, RecursionError):  # the json module recurses on nesting
            return None  # free text that happens to start with "{": the caller decides
        if isinstance(arguments, dict):
            try:
                tool.validate(arguments)
            except ToolError as exc:
                return str(exc)
    return None


def _keyword_problem(tool: Tool, text: str) -> str | None:
    """A step written as a call that names arguments the tool does not have beside ones it
    has (``query_sql[sql="INSERT ...", rows=[#E1.body]]``): the call cannot be made as
    written, so say which arguments the tool takes."""
    fields = tool.args_model.model_fields
    names = keyword_names(text)
    unknown = [n for n in names if n not in fields]
    if not unknown or len(unknown) == len(names):
        return None
    takes = ", ".join(f"{n} ({type_name(f.annotation)}{'' if f.is_required() else ', optional'})"
                      for n, f in fields.items())
    return f"{tool.name} has no argument {', '.join(unknown)}; it takes {takes}"


def _count_problem(tool: Tool, text: str) -> str | None:
    """More values than the tool has parameters (``http_post['notes', 'INSERT ...', #E1]``
    for ``url, data``): the step cannot be a call of this tool."""
    if tool.single_input is not None:
        return None
    fields = tool.args_model.model_fields
    count = positional_values(text)
    if count is None or count <= len(fields):
        return None
    return (f"{tool.name} takes {len(fields)} argument{'s' if len(fields) != 1 else ''} ({', '.join(fields)}), "
            f"the step gives {count}")


def _literal_problem(tool: Tool, text: str) -> str | None:
    """Why an argument the plan writes as a literal, beside others that evidence fills,
    cannot fit its type (``http_post["notes", #E1.body]``: ``notes`` is no address), or
    None. The evidence-filled arguments are checked when evidence is in."""
    if tool.single_input is not None:
        return None
    fields = tool.args_model.model_fields
    written = written_arguments(text, list(fields))
    if not written or not set(written) <= set(fields):
        return None
    wrong = []
    for name, value in written.items():
        if references_in(value):
            continue
        field = fields[name]
        kind = Annotated[field.annotation, *field.metadata] if field.metadata else field.annotation
        try:
            pydantic.TypeAdapter(kind).validate_python(value)
        except pydantic.ValidationError as exc:
            wrong.append(f"{name}={value!r}: {exc.errors()[0]['msg']}")
    return f"arguments for {tool.name} do not fit its schema: {'; '.join(wrong)}" if wrong else None


def _other_tool_hint(step: Step, toolkit: Toolkit) -> str:
    """When an input does not fit its tool, the tool may be the mistake: name the tool whose
    description best matches what the step's plan line says it does (``Insert the body
    into the notes table``: query_sql, not http_post), if that is another one."""
    if not step.plan.strip():
        return ""
    other = closest_tool(toolkit, step.plan)
    if other is None or other == step.tool:
        return ""
    return f". The step says {step.plan.strip()[:120]!r}: {other} does that ({toolkit.get(other).description[:120]})"


def _find_cycle(plan: Plan) -> list[str] | None:
    """The first dependency cycle, as ``[a, b, ..., a]``, or None. Iterative: a plan
    validated without ``max_steps`` may be long enough to exhaust Python's recursion."""
    graph = {s.id: [d for d in s.depends_on if d != s.id] for s in plan.steps}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in graph:
        if root in state:
            continue
        state[root] = 1
        path, pending = [root], [iter(graph[root])]
        while pending:
            dep = next(pending[-1], None)
            if dep is None:
                state[path.pop()] = 2
                pending.pop()
            elif dep in graph and state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            elif dep in graph and dep not in state:
                state[dep] = 1
                path.append(dep)
                pending.append(iter(graph[dep]))
    return None
