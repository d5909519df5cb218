"""``LLM[input]``: ask the agent's own model a question, as a tool.

ReWOO's worker LLM. The model it calls is the run's (the agent sets it in a context
variable for the run; worker threads inherit it), so the tool needs no wiring and its
tokens are counted under the run's ``tools`` usage.
"""

from __future__ import annotations

import contextvars

from foreplan.errors import LLMError, ToolError
from foreplan.llm.base import LLM, GenerationOptions
from foreplan.tools.tool import tool

#: The LLM the ``LLM`` tool calls during a run.
tool_llm: contextvars.ContextVar[LLM] = contextvars.ContextVar("foreplan_tool_llm")


@tool(name="LLM", timeout=120)
def llm_tool(input: str) -> str:
    """A pretrained language model, like yourself. Useful for general world knowledge, common sense, reasoning over earlier evidence, and rewording. Input can be any instruction.

    Args:
        input: The question or instruction, with any earlier evidence it needs.
    """
    try:
        llm = tool_llm.get()
    except LookupError as exc:
        raise ToolError("the LLM tool only works inside an agent run") from exc
    try:
        completion = llm.generate([{"role": "user", "content": input}], GenerationOptions(max_tokens=256))
    except LLMError as exc:
        raise ToolError(str(exc)) from exc
    return completion.text.strip()
