"""Count the tokens and seconds one role spends, across threads, without the role knowing."""

from __future__ import annotations

import threading
import time

from foreplan.llm.base import LLM, GenerationOptions, Message
from foreplan.types import Completion, Usage


class MeteredLLM:
    """Wraps an LLM and adds every call's usage (and its wall time) to ``usage``."""

    def __init__(self, llm: LLM) -> None:
        self.llm = llm
        self.name = llm.name
        self.supports_grammar = llm.supports_grammar
        self.usage = Usage()
        self._lock = threading.Lock()

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        start = time.perf_counter()
        try:
            completion = self.llm.generate(messages, options)
        finally:
            elapsed = time.perf_counter() - start
            with self._lock:
                self.usage.seconds += elapsed
        with self._lock:
            self.usage.add(completion.usage)
        return completion
