"""The one seam between foreplan and a language model.

Every backend (llama.cpp, an OpenAI-compatible server, the scripted test LLM) does one
thing: turn chat messages into a completion, optionally constrained by a GBNF grammar or
a JSON schema, and say how many tokens that cost. Prompts are rendered by the backend
with the model's own chat template, so the string a model sees is the one it was
trained on (see DESIGN.md for what goes wrong when a server's chat handler does it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from foreplan.types import Completion

Message = dict[str, str]
"""``{"role": "system" | "user" | "assistant", "content": str}``"""


@dataclass(frozen=True)
class Constraint:
    """How a completion is constrained: at most one of ``grammar`` and ``json_schema``."""

    grammar: str | None = None
    """GBNF source (llama.cpp's grammar format)."""
    json_schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class GenerationOptions:
    max_tokens: int = 256
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    constraint: Constraint = field(default_factory=Constraint)
    tools: tuple[dict[str, Any], ...] | None = None
    """OpenAI-style tool definitions shown to the model through its chat template."""


@runtime_checkable
class LLM(Protocol):
    """A chat model. ``name`` is shown in traces; ``supports_grammar`` says whether
    GBNF constraints are honoured (the planner switches its grammar off otherwise)."""

    name: str
    supports_grammar: bool

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        """Complete the conversation with one assistant reply.

        Raises:
            LLMError: the backend failed (load failure, HTTP error, exhausted script).
        """
        ...
