"""``LLM[input]``: ask the agent's own model a question, as a tool.

ReWOO's worker LLM. The model it calls is the run's: the worker hands it over in the
:class:`~foreplan.tools.context.RunContext` (the agent puts its solver model there,
metered as the run's ``tools`` usage), so the tool needs no wiring of its own.

On a CPU every token the tool writes costs a full pass of the model, and a plan step
needs the answer, not an essay: asked "In what year was #E2 born? ... Context: #E3", a
1.5B model wrote 256 tokens on 9 of 20 SOTU questions. So the question's form sets the
budget (:func:`answer_budget`): a name, a number, a date or a yes/no question gets a
few dozen tokens and stops at the first blank line; anything else gets a paragraph.
``make_llm_tool(brief=False)`` is the tool as it was, for benchmarks.
"""

from __future__ import annotations

import re

from foreplan.errors import LLMError, ToolError
from foreplan.llm.base import GenerationOptions, Message
from foreplan.tools.context import RunContext
from foreplan.tools.tool import Tool, tool

SHORT_TOKENS = 48
"""Budget for a question whose answer is a name, number, date, or yes or no."""
LONG_TOKENS = 160
"""Budget for anything else: a paragraph (it was 256)."""
FREE_TOKENS = 256
"""The budget without brief answers."""

BRIEF = ("Answer only what is asked. Where the question asks for a name, a number, a date or yes or no, "
         "reply with just that; otherwise reply in at most three sentences. Do not explain or repeat the question.")

# The question's own words, not its context: "who", "how many", "... only", "yes or no".
_SHORT_FORM = re.compile(
    r"\b(only|just the|yes or no|true or false)\b|\"yes\"|\b(in|on|at|by|from) (what|which) (year|date|day|month|"
    r"city|country|place)\b|^\W*(who|whom|whose|when|where|which|how (many|much|old|long|"
    r"far|tall)|what (year|date|day|time|number|age|percentage|name|city|country|is the name)|is|are|was|were|do|"
    r"does|did|can|could|has|have|had|will|would|should)\b", re.IGNORECASE)
_CONTEXT = re.compile(r"\b(context|evidence|text|passage|information)\s*:", re.IGNORECASE)


def answer_budget(question: str) -> int:
    """Tokens the answer to ``question`` may take: :data:`SHORT_TOKENS` when its form asks
    for a name, number, date or yes/no, else :data:`LONG_TOKENS`. Only the question is
    read: the text before a ``Context:`` (or ``Evidence:``) label, at most 400 characters."""
    asked = _CONTEXT.split(question, maxsplit=1)[0][:400]
    return SHORT_TOKENS if _SHORT_FORM.search(asked) else LONG_TOKENS


def make_llm_tool(brief: bool = True, evidence_chars: int | None = None) -> Tool:
    """The ``LLM`` tool; ``brief`` sets the answer's budget from the question's form, and
    ``evidence_chars`` cuts each referenced result to its sentences that best match the
    step (None: whole)."""

    def ask(input: str, run: RunContext) -> str:
        if run.llm is None:
            raise ToolError("the LLM tool only works inside an agent run")
        messages: list[Message] = [{"role": "user", "content": input}]
        options = GenerationOptions(max_tokens=FREE_TOKENS)
        if brief:
            messages.insert(0, {"role": "system", "content": BRIEF})
            budget = answer_budget(input)
            options = GenerationOptions(max_tokens=budget, stop=("\n\n",) if budget == SHORT_TOKENS else ())
        try:
            completion = run.llm.generate(messages, options)
        except LLMError as exc:
            raise ToolError(str(exc)) from exc
        return completion.text.strip()

    ask.__doc__ = """A pretrained language model, like yourself. Useful for general world knowledge, common sense, reasoning over earlier evidence, and rewording. Input can be any instruction.

    Args:
        input: The question or instruction, with any earlier evidence it needs.
    """
    return tool(ask, name="LLM", timeout=120, evidence_chars=evidence_chars)


llm_tool = make_llm_tool()
