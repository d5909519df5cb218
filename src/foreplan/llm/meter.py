"""Count the tokens one role spends, across threads, without the role knowing."""

from __future__ import annotations

import threading

from foreplan.llm.base import LLM, GenerationOptions, Message
from foreplan.types import Completion, Usage


class MeteredLLM:
    """Wraps an LLM and adds every call's usage to ``usage``."""

    def __init__(self, llm: LLM) -> None:
        self.llm = llm
        self.name = llm.name
        self.supports_grammar = llm.supports_grammar
        self.usage = Usage()
        self._lock = threading.Lock()

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        completion = self.llm.generate(messages, options)
        with self._lock:
            self.usage.add(completion.usage)
        return completion
