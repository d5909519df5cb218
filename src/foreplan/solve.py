"""The solver: the plan and its evidence in, the answer out.

It sees every step's plan text next to that step's evidence, with failed, timed-out and
skipped steps marked as such, so it can say what could not be found instead of making
it up. A side-effect step (a mail sent, a file written) shows the arguments it was
actually called with, so the answer reports what was done, not what the plan meant to
do. Long evidence is shortened to keep the prompt inside the model's context.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from foreplan.llm.base import LLM, GenerationOptions, Message
from foreplan.prompts import render
from foreplan.types import Completion, Evidence, Plan

MAX_EVIDENCE_CHARS = 2000
ARGUMENT_CHARS = 120


def _short_arguments(arguments: dict) -> str:
    """``to='bob@example.com', body='Team offsite … (412 characters)'``."""
    parts = []
    for name, value in arguments.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if len(text) > ARGUMENT_CHARS:
            text = f"{text[:ARGUMENT_CHARS]}… ({len(text)} characters)"
        parts.append(f"{name}={text!r}")
    return ", ".join(parts)


@dataclass
class Solver:
    llm: LLM
    max_tokens: int = 256

    def prompt(self, instruction: str, plan: Plan, evidence: dict[str, Evidence]) -> list[Message]:
        steps = []
        for step in plan.steps:
            ev = evidence.get(step.id)
            text = ev.text() if ev is not None else "[skipped] not run"
            if ev is not None and ev.side_effect and ev.arguments is not None:
                text = f"{step.tool} was called with {_short_arguments(ev.arguments)} and returned: {text}"
            if len(text) > MAX_EVIDENCE_CHARS:
                text = text[:MAX_EVIDENCE_CHARS] + f" ... [{len(text) - MAX_EVIDENCE_CHARS} more characters cut]"
            steps.append({"id": f"#{step.id}", "tool": step.tool, "plan": step.plan, "evidence": text})
        return [{"role": "user", "content": render("solver", steps=steps, task=instruction.strip())}]

    def solve(self, instruction: str, plan: Plan, evidence: dict[str, Evidence]) -> Completion:
        """The answer to ``instruction`` from the evidence.

        Raises:
            LLMError: the backend failed.
        """
        # Answers quote the evidence: prompt lookup drafts those tokens (1.2x on the CPU, llm/lookup.py).
        options = GenerationOptions(max_tokens=self.max_tokens, prompt_lookup=True)
        return self.llm.generate(self.prompt(instruction, plan, evidence), options)
