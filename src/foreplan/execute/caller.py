"""The function caller (the seed's "distributor"): a step's input → a tool's arguments.

    tool takes one text input ──► {param: input}                  (no model call)
    input is already JSON args ─► validated as they are            (no model call)
    otherwise ─────────────────► caller LLM, constrained by the tool's JSON schema,
                                 then validated with pydantic before the call

Arguments that do not fit the schema become a ``ToolError`` (evidence for the solver),
never an exception out of the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from foreplan.errors import LLMError, ToolError
from foreplan.llm.base import LLM, Constraint, GenerationOptions
from foreplan.prompts import render
from foreplan.tools.tool import Tool
from foreplan.types import Step, Usage


@dataclass
class FunctionCaller:
    llm: LLM | None
    max_tokens: int = 256

    def arguments(self, step: Step, tool: Tool, text: str, value: Any = None, whole: bool = False) -> tuple[dict[str, Any], Usage]:
        """Arguments for calling ``tool`` on this step.

        Args:
            step: the planned step (its ``plan`` text guides the caller model).
            tool: the tool to call.
            text: the step's input with references substituted.
            value: when the whole input was one reference, its typed value.
            whole: whether ``value`` is set.

        Raises:
            ToolError: the arguments do not fit the tool's schema, or there is no caller model.
        """
        single = tool.single_input
        if single is not None:
            # The typed value only where the parameter wants a number: a numeric result
            # given to a ``str`` parameter (``search[#E1]`` after a calculator step) used
            # to fail pydantic's string check; text fits ``str`` and coerces to numbers.
            annotation = tool.args_model.model_fields[single].annotation
            numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
            argument = value if whole and numeric and annotation is not str else text
            return tool.validate({single: argument}), Usage()
        direct = value if whole and isinstance(value, dict) else _json_object(text)
        if direct is not None:
            try:
                return tool.validate(direct), Usage()
            except ToolError:
                pass  # not the arguments after all: let the caller model map them
        if self.llm is None:
            raise ToolError(f"{tool.name} takes several arguments and no function-caller model is configured")
        prompt = render(
            "caller", name=tool.name, description=tool.description,
            schema=json.dumps(tool.parameters, ensure_ascii=False), plan=step.plan, input=text,
        )
        options = GenerationOptions(
            max_tokens=self.max_tokens,
            constraint=Constraint(json_schema=tool.parameters) if self.llm.supports_grammar else Constraint(),
        )
        try:
            completion = self.llm.generate([{"role": "user", "content": prompt}], options)
        except LLMError as exc:
            raise ToolError(f"the function caller failed: {exc}") from exc
        arguments = _json_object(completion.text)
        if arguments is None:
            raise ToolError(f"the function caller did not reply with a JSON object: {completion.text[:200]!r}")
        return tool.validate(arguments), completion.usage


def _json_object(text: str) -> dict[str, Any] | None:
    text = text.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
