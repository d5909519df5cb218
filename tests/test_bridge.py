"""ThreadBridge: items in order (sync and async), the work's error raised in the consumer,
``holding`` exited exactly once on every path, contextvars copied, a consumer that leaves."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from contextlib import nullcontext

import pytest

import foreplan.bridge
from foreplan.bridge import ThreadBridge

REQUEST = contextvars.ContextVar("REQUEST", default="none")


class Held:
    """A context manager that counts its entries and exits, and says when it was exited."""

    def __init__(self) -> None:
        self.entered = self.exited = 0
        self.exited_event = threading.Event()

    def __enter__(self) -> Held:
        self.entered += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self.exited += 1
        self.exited_event.set()


def _count_to(n: int):
    def work(emit):
        for i in range(n):
            emit(i)

    return work


def _started(work, holding=nullcontext()) -> ThreadBridge:
    bridge: ThreadBridge = ThreadBridge("test-bridge")
    bridge.start(work, holding)
    return bridge


async def _collect(bridge: ThreadBridge) -> list:
    return [item async for item in bridge]


def test_items_arrive_in_order_and_holding_is_exited_before_the_end():
    held = Held()
    seen = []
    for item in _started(_count_to(500), held):
        seen.append(item)
    assert seen == list(range(500))
    assert (held.entered, held.exited) == (1, 1)  # exited before the loop ended


def test_an_async_for_reads_the_same_items_without_blocking_the_loop():
    held = Held()

    async def main():
        ticks = 0

        async def tick():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        ticker = asyncio.create_task(tick())
        release = threading.Event()

        def work(emit):
            emit("first")
            release.wait(10)  # the loop must stay free meanwhile
            emit("second")

        items = []
        async for item in _started(work, held):
            items.append(item)
            if item == "first":
                before = ticks
                await asyncio.sleep(0.05)
                assert ticks > before  # the loop ran while the worker was blocked
                release.set()
        ticker.cancel()
        return items

    assert asyncio.run(main()) == ["first", "second"]
    assert (held.entered, held.exited) == (1, 1)
    assert asyncio.run(_collect(_started(_count_to(300)))) == list(range(300))


@pytest.mark.parametrize("read", ["sync", "async"])
def test_the_works_error_is_raised_in_the_consumer_after_its_items(read):
    held = Held()

    def work(emit):
        emit(1)
        emit(2)
        raise ValueError("the model broke")

    bridge = _started(work, held)
    items: list = []

    async def read_async():
        async for item in bridge:
            items.append(item)

    with pytest.raises(ValueError, match="the model broke"):
        if read == "sync":
            for item in bridge:
                items.append(item)
        else:
            asyncio.run(read_async())
    assert items == [1, 2]
    assert (held.entered, held.exited) == (1, 1)


def test_the_work_sees_the_callers_contextvars_and_cannot_change_them():
    seen = []

    def work(emit):
        seen.append(REQUEST.get())
        REQUEST.set("changed in the worker")
        emit(REQUEST.get())

    token = REQUEST.set("request 7")
    try:
        assert list(_started(work)) == ["changed in the worker"]
        assert seen == ["request 7"] and REQUEST.get() == "request 7"
    finally:
        REQUEST.reset(token)


@pytest.mark.parametrize("read", ["sync", "async"])
def test_a_consumer_that_leaves_early_closes_the_bridge_and_holding_is_exited_once(read):
    held, release = Held(), threading.Event()
    dropped_after_close = []

    def work(emit):
        emit("one")
        release.wait(10)
        dropped_after_close.append(bridge.closed)
        emit("two")  # nobody reads any more: dropped

    bridge = _started(work, held)

    async def first_async():
        async for item in bridge:
            return item

    if read == "sync":
        items = iter(bridge)
        assert next(items) == "one"
        items.close()  # the consumer stops early
    else:
        assert asyncio.run(first_async()) == "one"  # asyncio.run closes the async generator
    assert bridge.closed and held.exited == 0  # the work is still running and holds on
    release.set()
    assert held.exited_event.wait(10)
    assert dropped_after_close == [True]
    assert (held.entered, held.exited) == (1, 1)


def test_a_holding_that_refuses_raises_from_start_and_the_work_never_runs():
    class Full:
        def __enter__(self):
            raise OverflowError("queue full")

        def __exit__(self, *exc):
            raise AssertionError("never entered, so never exited")

    ran = []
    bridge: ThreadBridge = ThreadBridge("test-bridge")
    with pytest.raises(OverflowError, match="queue full"):
        bridge.start(ran.append, holding=Full())
    assert ran == []
    with pytest.raises(RuntimeError, match="never started"):
        list(bridge)


def test_a_thread_that_cannot_start_exits_holding_in_the_caller(monkeypatch):
    class NoThread:
        def __init__(self, **kwargs):
            pass

        def start(self):
            raise RuntimeError("can't start new thread")

    monkeypatch.setattr(foreplan.bridge, "Thread", NoThread)
    held = Held()
    with pytest.raises(RuntimeError, match="can't start new thread"):
        ThreadBridge("test-bridge").start(_count_to(3), holding=held)
    assert (held.entered, held.exited) == (1, 1)


def test_a_bridge_starts_once():
    bridge = _started(_count_to(1))
    with pytest.raises(RuntimeError, match="already started"):
        bridge.start(_count_to(1))
    assert list(bridge) == [0]
