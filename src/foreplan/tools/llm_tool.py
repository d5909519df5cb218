"""``LLM[input]``: ask the agent's own model a question, as a tool.

ReWOO's worker LLM. The model it calls is the run's: the worker hands it over in the
:class:`~foreplan.tools.context.RunContext` (the agent puts its solver model there,
metered as the run's ``tools`` usage), so the tool needs no wiring of its own.
"""

from __future__ import annotations

from foreplan.errors import LLMError, ToolError
from foreplan.llm.base import GenerationOptions
from foreplan.tools.context import RunContext
from foreplan.tools.tool import tool


@tool(name="LLM", timeout=120)
def llm_tool(input: str, run: RunContext) -> str:
    """A pretrained language model, like yourself. Useful for general world knowledge, common sense, reasoning over earlier evidence, and rewording. Input can be any instruction.

    Args:
        input: The question or instruction, with any earlier evidence it needs.
    """
    if run.llm is None:
        raise ToolError("the LLM tool only works inside an agent run")
    try:
        completion = run.llm.generate([{"role": "user", "content": input}], GenerationOptions(max_tokens=256))
    except LLMError as exc:
        raise ToolError(str(exc)) from exc
    return completion.text.strip()
