"""Run blocking work in a thread and read what it reports, in order, as an iterator.

``Agent.stream``, the server's streamed generations and its streamed agent runs all do
the same thing: a blocking call (a model generating, a whole agent run) reports items
from its own thread while it runs, and someone else reads them: a plain ``for`` loop, or
an SSE generator on the event loop. :class:`ThreadBridge` owns both ends::

    caller    bridge.start(work, holding=queue.admit())    holding entered here: a full queue raises here
                 │ thread with a copy of the caller's contextvars
    worker    with holding: work(emit) ── emit(item) ──►  for item in bridge  /  async for item in bridge
                 │ work raised ───────────────────────►  the same exception, raised from the loop
                 └ holding exited, then the end ──────►  the loop ends
    consumer  leaves the loop early, or close() ──────►  bridge.closed: later items are dropped,
                                                         and the work may check it and stop

Whatever ``holding`` guards (a place in a model's queue) is given back exactly once: by
the worker when the work ends (finished, failed or stopped), or by ``start`` itself when
no thread could be started. The end is signalled after that, so a consumer that has seen
the end knows it is given back.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass
from threading import Thread
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class _End:
    error: BaseException | None


class ThreadBridge(Generic[T]):
    """Items ``emit``-ted by work in a background thread, read once, sync or async.

    Args:
        name: the worker thread's name.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._items: deque[T | _End] = deque()
        self._ready = threading.Condition()
        self._wake: Callable[[], None] | None = None
        """Set while an ``async for`` reads: wakes its event loop."""
        self._closed = threading.Event()
        self._started = False

    @property
    def closed(self) -> bool:
        """The consumer has stopped reading (it left the loop, or its event loop is closed)."""
        return self._closed.is_set()

    def close(self) -> None:
        """Stop reading: items emitted from now on are dropped. The work keeps running
        unless it checks :attr:`closed`."""
        self._closed.set()

    def start(self, work: Callable[[Callable[[T], None]], Any],
              holding: AbstractContextManager[Any] = nullcontext()) -> None:
        """Run ``work(emit)`` in a new thread, inside ``holding``.

        Args:
            work: blocking; hands each item to ``emit``. What it returns is ignored; what
                it raises is raised again in the consumer.
            holding: entered here, in the caller's thread, and exited in the worker when
                the work has ended (or here, if the thread cannot start).

        Raises:
            RuntimeError: started twice, or no thread could be started.
            Exception: whatever entering ``holding`` raises (``QueueFullError`` for a full
                queue); the work does not run then.
        """
        if self._started:
            raise RuntimeError(f"{self.name} has already started")
        held = ExitStack()
        held.enter_context(holding)
        context = contextvars.copy_context()
        try:
            Thread(target=context.run, args=(self._run, work, held), name=self.name, daemon=True).start()
        except BaseException:
            held.close()
            raise
        self._started = True

    def _run(self, work: Callable[[Callable[[T], None]], Any], held: ExitStack) -> None:
        error = None
        try:
            with held:
                work(self._emit)
        except BaseException as exc:  # raised again in the consumer's thread
            error = exc
        self._put(_End(error))

    def _emit(self, item: T) -> None:
        if not self._closed.is_set():
            self._put(item)

    def _put(self, item: T | _End) -> None:
        with self._ready:
            self._items.append(item)
            self._ready.notify()
            wake = self._wake
        if wake is not None:
            wake()

    def _take(self, wait: bool) -> list[T | _End]:
        """Every item emitted so far; with ``wait``, at least one."""
        with self._ready:
            if wait:
                self._ready.wait_for(lambda: self._items)
            items = list(self._items)
            self._items.clear()
            return items

    def __iter__(self) -> Iterator[T]:
        """Each item, in order, blocking until the next one; raises what the work raised."""
        if not self._started:
            raise RuntimeError(f"{self.name} was never started")
        try:
            while True:
                for item in self._take(wait=True):
                    if isinstance(item, _End):
                        if item.error is not None:
                            raise item.error
                        return
                    yield item
        finally:
            self.close()

    def __aiter__(self) -> AsyncIterator[T]:
        """The same on an event loop, which is never blocked: the worker wakes it."""
        if not self._started:
            raise RuntimeError(f"{self.name} was never started")
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[T]:
        loop, ready = asyncio.get_running_loop(), asyncio.Event()

        def wake() -> None:
            try:
                loop.call_soon_threadsafe(ready.set)
            except RuntimeError:  # the event loop is closed (the server is shutting down)
                self.close()

        with self._ready:
            self._wake = wake
        try:
            while True:
                # Cleared before looking: an item emitted after the look sets it again.
                ready.clear()
                items = self._take(wait=False)
                for item in items:
                    if isinstance(item, _End):
                        if item.error is not None:
                            raise item.error
                        return
                    yield item
                if not items:
                    await ready.wait()
        finally:
            with self._ready:
                self._wake = None
            self.close()
