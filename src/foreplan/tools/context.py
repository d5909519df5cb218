"""What a tool may need from the run that calls it, handed over by the worker.

A tool asks for it by naming a parameter typed :class:`RunContext`; that parameter is
left out of the tool's schema (no model ever fills it), and the worker passes the run's
context in. Nothing is found through globals or context variables, so a tool called
outside a run simply gets an empty context and says what it is missing.

    @tool
    def ask(question: str, run: RunContext) -> str:
        ...run.llm.generate(...)
"""

from __future__ import annotations

from dataclasses import dataclass

from foreplan.llm.base import LLM


@dataclass(frozen=True)
class RunContext:
    llm: LLM | None = None
    """The model that tools such as ``LLM`` ask (the agent's solver model, metered as the
    run's ``tools`` usage); None outside an agent run."""
