"""The one seam between foreplan and a language model.

Every backend (llama.cpp, an OpenAI-compatible server, the scripted test LLM) does one
thing: turn chat messages into a completion, optionally constrained by a GBNF grammar or
a JSON schema, and say how many tokens that cost. Prompts are rendered by the backend
with the model's own chat template, so the string a model sees is the one it was
trained on (see DESIGN.md for what goes wrong when a server's chat handler does it).

Streaming is optional and lives in the options, not in a second method: a caller that
wants text as it is decoded sets ``GenerationOptions.on_text``; ``generate`` still
returns the whole :class:`Completion` (with its usage) at the end. Stop strings never
reach ``on_text``, not even partly (streaming.py holds back what could start one).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from foreplan.types import Completion

Message = dict[str, str]
"""``{"role": "system" | "user" | "assistant", "content": str}``"""


@dataclass(frozen=True)
class Choice:
    """Where a completion must go on with one of ``options`` (a plan step's tool name):
    right after text that ``after``, a regular expression, matches at its end."""

    after: str
    options: tuple[str, ...]
    then: str = ""
    """Text that must follow each option (``[`` after a tool name): scored with it, so an
    option the model would not go on with that way loses, but left for the model to
    write, in whichever token it writes it (``[``, ``["``, ``['``)."""

    def __post_init__(self) -> None:
        if not self.options:
            raise ValueError("a choice needs at least one option")
        re.compile(self.after)


@dataclass(frozen=True)
class Constraint:
    """How a completion is constrained: at most one of ``grammar`` and ``json_schema``."""

    grammar: str | None = None
    """GBNF source (llama.cpp's grammar format)."""
    json_schema: dict[str, Any] | None = None
    choices: tuple[Choice, ...] = ()
    """Points where greedy decoding under ``grammar`` takes the most likely whole option
    (a tool name) instead of the one its best first token starts (llm/choice.py).
    Backends that cannot score options ignore them; the grammar still holds."""


@dataclass(frozen=True)
class GenerationOptions:
    max_tokens: int = 256
    temperature: float = 0.0
    """0 is greedy: the sampling fields below are then ignored."""
    top_p: float = 1.0
    """Nucleus sampling: sample from the smallest set of tokens whose probability mass
    reaches ``top_p`` (1.0 keeps every token)."""
    top_k: int | None = None
    """Sample from the ``top_k`` most likely tokens only (None: no limit)."""
    stop: tuple[str, ...] = ()
    seed: int | None = None
    constraint: Constraint = field(default_factory=Constraint)
    tools: tuple[dict[str, Any], ...] | None = None
    """OpenAI-style tool definitions shown to the model through its chat template."""
    prompt_lookup: bool = False
    """Greedy decoding may draft tokens by copying them from the prompt (llm/lookup.py):
    faster for answers that quote their prompt, as the solver's do. Only at temperature
    0 without a constraint; backends that cannot do it ignore it."""
    on_text: Callable[[str], None] | None = field(default=None, compare=False)
    """Called from the generating thread with each new piece of text as it is decoded;
    the pieces join up to the completion's text. To stop generation early, raise from
    it: backends stop at the next piece and let the exception out of ``generate``
    (they never wrap it in an :class:`~foreplan.errors.LLMError`)."""


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


def warm_up(llm: LLM) -> None:
    """Make one one-token call, so that loading the weights (or connecting to a server)
    is done before anything is timed."""
    llm.generate([{"role": "user", "content": "Hi"}], GenerationOptions(max_tokens=1))
