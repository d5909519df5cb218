"""Real tools for the worker's tests: they sleep, count how many run at once, echo, or
fail a set number of times.

Tools are built per test by a factory fixture (a ``@tool`` needs type hints and an
``Args:`` section, so each is a small documented function). Every tool that blocks
waits on a :class:`threading.Event` that the fixture sets at teardown, so no abandoned
thread outlives its test by more than a moment.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from foreplan.errors import RetryableToolError
from foreplan.tools.tool import Tool, tool


@dataclass
class Gauge:
    """How many tool calls are inside at once, and the most there ever were."""

    active: int = 0
    peak: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __enter__(self) -> Gauge:
        with self._lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.active -= 1


@pytest.fixture
def gauge() -> Gauge:
    return Gauge()


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at teardown: tools that block until it is set (or their own limit) end."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def sleeper(release: threading.Event) -> Callable[..., Tool]:
    """``sleeper(name, seconds, gauge=None)``: a one-input tool that waits ``seconds``
    (cut short at teardown) and returns ``"name(input)"``."""

    def make(name: str, seconds: float, gauge: Gauge | None = None, **options: float) -> Tool:
        def nap(text: str) -> str:
            """Wait a while, then echo the input.

            Args:
                text: what to echo.
            """
            with gauge or contextlib.nullcontext():
                # A deadline rather than one wait(seconds): a step must never take less
                # than its duration, or the timing assertions would mean nothing.
                deadline = time.perf_counter() + seconds
                while (left := deadline - time.perf_counter()) > 0 and not release.wait(left):
                    pass
            return f"{name}({text})"

        return tool(nap, name=name, **options)

    return make


@pytest.fixture
def flaky() -> Callable[..., tuple[Tool, list[str]]]:
    """``flaky(failures, exc=RetryableToolError, retries=2)``: a tool ``fetch`` that raises
    ``exc`` on its first ``failures`` calls, then returns ``"fetched"``; and its calls."""

    def make(failures: int, exc: type[Exception] = RetryableToolError, retries: int = 2) -> tuple[Tool, list[str]]:
        calls: list[str] = []

        def fetch(text: str) -> str:
            """Fetch something that fails the first few times.

            Args:
                text: what to fetch.
            """
            calls.append(text)
            if len(calls) <= failures:
                raise exc(f"blip {len(calls)}")
            return "fetched"

        return tool(fetch, retries=retries), calls

    return make


@pytest.fixture
def default_sigint() -> Iterator[None]:
    """Ctrl-C raises KeyboardInterrupt in the main thread for the test's duration."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
