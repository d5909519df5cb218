"""A deterministic LLM for tests: it answers from a script and fails loudly past its end.

Like httpx's ``MockTransport``, it is a real backend, not a mock: the agent cannot tell
it from llama.cpp except that its replies were written by a person. It records every
conversation it was given so tests can assert on the exact prompts.

With ``GenerationOptions.on_text`` set it streams its reply in word-sized pieces
(``piece_delay_s`` apart, for tests of clients that leave mid-stream). It does not
honour stop strings or grammars: the reply is returned exactly as written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from foreplan.errors import ScriptExhaustedError
from foreplan.llm.base import GenerationOptions, Message
from foreplan.llm.streaming import split_pieces
from foreplan.types import Completion, Usage

Reply = str | Callable[[list[Message], GenerationOptions], str]


class ScriptedLLM:
    """Replies in order; a reply may be a function of the messages (for parallel calls
    whose order is not fixed)."""

    supports_grammar = True

    def __init__(self, replies: Iterable[Reply], name: str = "scripted", piece_delay_s: float = 0.0) -> None:
        self.name = name
        self.piece_delay_s = piece_delay_s
        """Seconds to wait before each streamed piece."""
        self._replies = list(replies)
        self._lock = threading.Lock()
        self.calls: list[tuple[list[Message], GenerationOptions]] = []

    @property
    def remaining(self) -> int:
        return len(self._replies)

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        with self._lock:
            self.calls.append((messages, options))
            if not self._replies:
                last = messages[-1]["content"] if messages else ""
                raise ScriptExhaustedError(
                    f"ScriptedLLM {self.name!r} has no reply left for call {len(self.calls)} "
                    f"(last message: {last[:200]!r})"
                )
            reply = self._replies.pop(0)
        text = reply(messages, options) if callable(reply) else reply
        if options.on_text is not None:
            for piece in split_pieces(text):
                time.sleep(self.piece_delay_s)
                options.on_text(piece)  # may raise to stop the stream; that passes through
        prompt_tokens = sum(len(m["content"].split()) for m in messages)
        return Completion(text, Usage(prompt_tokens, len(text.split()), 1))
