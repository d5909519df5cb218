"""The served models: alias lookup and a bounded queue in front of each model.

A llama.cpp model generates for one request at a time, so requests for it wait. The
wait is bounded: each model admits ``concurrency + queue_size`` requests, and one more
is answered 429 with ``Retry-After`` at once, instead of piling up threads and
timeouts. Admission is counted under a ``threading.Lock`` rather than with asyncio
primitives, because the same queue also gates the agent's calls, which come from
worker threads.

    request ─► admit() ──full──► 429 Retry-After
                 │
                 └─► run(): semaphore(concurrency) ─► llm.generate (in a worker thread)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from fastapi import Request

from foreplan.llm.base import LLM, GenerationOptions, Message
from foreplan.llm.registry import MODELS
from foreplan.serve.errors import NotFoundError, QueueFullError
from foreplan.serve.settings import ServeSettings
from foreplan.types import Completion

T = TypeVar("T")


class ModelQueue:
    """At most ``concurrency`` requests run and ``queue_size`` wait; more are refused."""

    def __init__(self, alias: str, concurrency: int, queue_size: int, retry_after_s: int) -> None:
        self.alias = alias
        self.capacity = concurrency + queue_size
        self.retry_after_s = retry_after_s
        self._admitted = 0
        self._lock = threading.Lock()
        self._running = threading.BoundedSemaphore(concurrency)

    @property
    def admitted(self) -> int:
        return self._admitted

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Hold a place in the queue for the block: taken on entry, given back on exit.

        A streamed request enters it in the route and exits it in its worker thread
        (:meth:`foreplan.bridge.ThreadBridge.start`), so the place lasts as long as the
        generation and a full queue is refused before the stream starts.

        Raises:
            QueueFullError: every place is taken (on entry; nothing is held then).
        """
        with self._lock:
            if self._admitted >= self.capacity:
                raise QueueFullError(
                    f"Model {self.alias!r} is busy: {self.capacity} requests are running or waiting. "
                    f"Retry after {self.retry_after_s} s.",
                    headers={"Retry-After": str(self.retry_after_s)},
                )
            self._admitted += 1
        try:
            yield
        finally:
            with self._lock:
                self._admitted -= 1

    def run(self, fn: Callable[[], T]) -> T:
        """Call ``fn`` (blocking) once a running slot is free."""
        with self._running:
            return fn()


@dataclass
class ServedModel:
    alias: str
    spec: str
    llm: LLM
    queue: ModelQueue
    created: int = field(default_factory=lambda: int(time.time()))

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        """Blocking; call it from a worker thread inside :meth:`ModelQueue.admit`."""
        return self.queue.run(lambda: self.llm.generate(messages, options))


class GatedLLM:
    """An LLM whose calls wait for the model's running slot (for the agent's calls), so
    agent runs and chat requests never generate on one llama.cpp model at once."""

    def __init__(self, served: ServedModel) -> None:
        self.served = served
        self.name = served.llm.name
        self.supports_grammar = served.llm.supports_grammar

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        return self.served.generate(messages, options)


class ModelPool:
    """Every served model by alias; an embedded model's own name finds it too."""

    def __init__(self, models: dict[str, ServedModel]) -> None:
        self.models = models
        self._names: dict[str, str] = {alias: alias for alias in models}
        for alias, served in models.items():
            if served.spec in MODELS:  # FOREPLAN_SERVER clients ask for embedded names
                self._names.setdefault(served.spec, alias)

    @classmethod
    def build(cls, settings: ServeSettings, llms: dict[str, LLM]) -> ModelPool:
        """Wrap each alias's backend in its queue; ``llms`` has one backend per alias."""
        models = {}
        for alias, llm in llms.items():
            spec = settings.models.get(alias, llm.name)
            queue = ModelQueue(alias, settings.concurrency, settings.queue_size, settings.retry_after_s)
            models[alias] = ServedModel(alias, spec, llm, queue)
        return cls(models)

    def names(self) -> list[tuple[str, ServedModel]]:
        """Every name a request may use, with its model (aliases first)."""
        return [(name, self.models[alias]) for name, alias in self._names.items()]

    def get(self, name: str) -> ServedModel:
        """The model served as ``name``.

        Raises:
            NotFoundError: no alias or embedded name ``name`` is served (404).
        """
        alias = self._names.get(name)
        if alias is None:
            known = ", ".join(self._names) or "none"
            raise NotFoundError(f"The model {name!r} does not exist on this server. Served: {known}.",
                                param="model", code="model_not_found")
        return self.models[alias]

    def find(self, alias: str) -> ServedModel | None:
        return self.models.get(alias)


def get_pool(request: Request) -> ModelPool:
    """The app's models (a FastAPI dependency); set by the lifespan."""
    return request.app.state.models
