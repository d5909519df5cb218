"""The function caller (the seed's "distributor"): a step's input -> a tool's arguments,
fixed before any evidence exists (see arguments.py for why).

    tool takes one text input ──► {param: input}, or its optional     (no model call)
                                  arguments too when written as a call
    input is one reference ─────► that result's fields, spread        (no model call)
    JSON object, or call        ─► parsed as written: a=1, b='x', or   (no model call)
    arguments                      'x', 2 in the tool's parameter order
    otherwise ──────────────────► caller LLM, constrained by the tool's JSON schema; it
                                  reads the plan's words with #E references as
                                  placeholders, never the evidence behind them; a
                                  number it writes that the step does not say (nor the
                                  argument's default) is refused, not sent

What comes back is a template: argument values may still hold ``#E`` references, which
the worker fills with evidence as data and then validates against the schema. Arguments
that cannot be made become a ``ToolError`` (evidence for the solver), never an exception
out of the run.
"""

from __future__ import annotations

import copy
import json
import typing
from dataclasses import dataclass
from typing import Any

import pydantic

from foreplan.errors import LLMError, ToolError
from foreplan.execute.arguments import Filled, Render, check_numbers, check_template, fill, restore_marks, spread
from foreplan.llm.base import LLM, Constraint, GenerationOptions
from foreplan.llm.focus import focus_value
from foreplan.prompts import render
from foreplan.tools.call_syntax import call_arguments, json_arguments, one_input_text, references_in
from foreplan.tools.tool import Tool
from foreplan.types import REFERENCE_RE, Evidence, Step, Usage, find_references, value_text

Template = dict[str, Any] | str
"""Arguments with ``#E`` references still in their values; or one reference (a ``str``)
whose object result gives every argument."""


@dataclass
class FunctionCaller:
    llm: LLM | None
    max_tokens: int = 256

    def template(self, step: Step, tool: Tool) -> tuple[Template, Usage]:
        """The arguments the plan fixes for ``step``, with its references still in place.

        Raises:
            ToolError: there is no caller model where one is needed, or its reply is not
                a JSON object, or it names a reference the step does not have.
        """
        text = step.input.strip()
        single = tool.single_input
        if single is not None:
            return _one_input(text, tool) or {single: one_input_text(step.input, single)}, Usage()
        refs = find_references(text)
        if len(refs) == 1 and refs[0].text == text:
            return text, Usage()
        fields = tool.args_model.model_fields
        required = {n for n, f in fields.items() if f.is_required()}
        readings = (lambda: json_arguments(text), lambda: call_arguments(text, list(fields)),
                    lambda: call_arguments(text, list(fields), bare_words=True))
        for read in readings:  # the strict readings first; each only if the one before did not fit
            direct = read()
            if direct is not None and required <= set(direct) <= set(fields) and _fits(tool, direct):
                return direct, Usage()
        schema = _with_references(tool.parameters) if refs else tool.parameters
        arguments, usage = self.ask_model(step, tool, step.input, schema, [r.text for r in refs])
        arguments = restore_marks(arguments, step.input)
        check_template(arguments, step.input, tool.name)
        defaults = {n: f.default for n, f in fields.items() if not f.is_required()}
        check_numbers(arguments, defaults, f"{step.plan}\n{step.input}", tool.name)
        return arguments, usage

    def ask_model(self, step: Step, tool: Tool, text: str, schema: dict[str, Any],
                  references: list[str]) -> tuple[dict[str, Any], Usage]:
        """The caller model's JSON object for ``text`` under ``schema`` (one call).

        Raises:
            ToolError: there is no caller model, it failed, or it replied with no JSON object.
        """
        if self.llm is None:
            raise ToolError(f"{tool.name} takes several arguments and no function-caller model is configured")
        prompt = render("caller", name=tool.name, description=tool.description,
                        schema=json.dumps(schema, ensure_ascii=False), plan=step.plan, input=text,
                        references=references)
        options = GenerationOptions(
            max_tokens=self.max_tokens,
            constraint=Constraint(json_schema=schema) if self.llm.supports_grammar else Constraint(),
        )
        try:
            completion = self.llm.generate([{"role": "user", "content": prompt}], options)
        except LLMError as exc:
            raise ToolError(f"the function caller failed: {exc}") from exc
        arguments = _json_object(completion.text)
        if arguments is None:
            raise ToolError(f"the function caller did not reply with a JSON object: {completion.text[:200]!r}")
        return arguments, completion.usage

    def arguments(self, step: Step, tool: Tool, evidence: dict[str, Evidence]) -> tuple[Filled, Usage]:
        """The validated arguments for ``step``: its template, filled with ``evidence`` as data.

        Raises:
            ToolError: no template could be made, a reference cannot be filled, or the
                filled arguments do not fit the tool's schema.
        """
        template, usage = self.template(step, tool)
        if isinstance(template, str):
            filled = spread(template, evidence)
        else:
            fields = tool.args_model.model_fields
            filled = fill(template, evidence, lambda name: name in fields and _takes_text(fields[name].annotation),
                          _renderer(step, tool))
        return Filled(tool.validate(filled.arguments), filled.sources), usage


def _renderer(step: Step, tool: Tool) -> Render | None:
    """How evidence is written into ``step``'s input: the tool's own way (SQL literals), or,
    for a tool that reads only so much (:attr:`Tool.evidence_chars`), its sentences that
    best match what the step asks."""
    budget = tool.evidence_chars
    if tool.render_reference is not None or budget is None:
        return tool.render_reference
    asked = f"{step.plan} {REFERENCE_RE.sub(' ', step.input)}"
    return lambda value, _quoted: value_text(focus_value(value, asked, budget))


def _one_input(text: str, tool: Tool) -> dict[str, Any] | None:
    """A one-input tool's step that also gives optional arguments, written as a call
    (``query_sql["INSERT INTO notes (text) VALUES (?)", [#E1.body]]``): those arguments.
    None when the step is the one input alone, as ReWOO writes it."""
    fields = tool.args_model.model_fields
    if len(fields) < 2:
        return None
    written = call_arguments(text, list(fields))
    if (written is None or len(written) < 2 or tool.single_input not in written or not set(written) <= set(fields)
            or not _fits(tool, written)):
        return None
    return written


def _takes_text(annotation: Any) -> bool:
    """``str`` or ``str | None``: an argument whose evidence goes in as text."""
    return annotation is str or (set(typing.get_args(annotation)) == {str, type(None)})


def _fits(tool: Tool, template: dict[str, Any]) -> bool:
    """Whether the template's values that hold no reference fit their arguments' types
    (those that do are checked once evidence has filled them)."""
    fields = tool.args_model.model_fields
    for name, value in template.items():
        if references_in(value):
            continue
        try:
            pydantic.TypeAdapter(fields[name].annotation).validate_python(value)
        except pydantic.ValidationError:
            return False
    return True


def _with_references(schema: dict[str, Any]) -> dict[str, Any]:
    """The tool's schema, where every argument that does not take text also takes a string
    (an ``#E`` reference that evidence fills later); the worker validates the result."""
    loose = copy.deepcopy(schema)
    for name, prop in loose.get("properties", {}).items():
        if isinstance(prop, dict) and prop.get("type") != "string":
            loose["properties"][name] = {"anyOf": [prop, {"type": "string"}],
                                         **{k: prop[k] for k in ("description", "title") if k in prop}}
    return loose


def _json_object(text: str) -> dict[str, Any] | None:
    text = text.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
