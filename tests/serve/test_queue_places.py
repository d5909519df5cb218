"""A queue place is given back exactly once on every path: the work ends, the consumer
stops early, or the route fails before the worker starts."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from foreplan import ScriptedLLM
from foreplan.bridge import ThreadBridge
from foreplan.errors import ConfigError
from foreplan.serve.agent_runs import RunStore
from foreplan.serve.errors import QueueFullError
from foreplan.serve.models import ModelQueue
from tests.serve.conftest import sse_data

PLAN = "Plan: Square seven.\n#E1 = calculator[7^2]\n"


def test_a_consumer_that_stops_early_leaves_the_place_to_the_work_which_gives_it_back_once():
    queue = ModelQueue("planner", concurrency=1, queue_size=0, retry_after_s=1)
    release, ended = threading.Event(), threading.Event()

    def work(emit):
        emit("first piece")
        release.wait(10)
        emit("second piece")
        ended.set()

    bridge: ThreadBridge[str] = ThreadBridge("test-generation")
    bridge.start(work, holding=queue.admit())
    items = iter(bridge)
    assert next(items) == "first piece"
    items.close()  # the consumer stops early; the work still runs and holds the place
    assert queue.admitted == 1
    with pytest.raises(QueueFullError, match="is busy"), queue.admit():
        pass
    release.set()
    assert ended.wait(10)
    deadline = time.monotonic() + 5
    while queue.admitted and time.monotonic() < deadline:
        time.sleep(0.01)
    assert queue.admitted == 0  # given back, and only once (twice would read -1)
    with queue.admit():
        assert queue.admitted == 1


def test_a_streamed_run_whose_client_leaves_keeps_its_place_until_it_ends(live):
    solve = threading.Event()

    def slow_solver(messages, options):
        solve.wait(10)
        return "Forty-nine."

    base = live({"planner": ScriptedLLM([PLAN]), "solver": ScriptedLLM([slow_solver])},
                concurrency=1, queue_size=0)
    health = f"{base}/health"
    with httpx.stream("POST", f"{base}/v1/agent/runs", json={"instruction": "7^2?", "stream": True},
                      timeout=10) as r:
        first = next(r.iter_lines())  # run_started; leaving the block closes the connection
    run_id = sse_data(first)[0]["id"]
    # The client has gone; the run goes on and holds the planner's one place.
    assert httpx.get(health).json()["models"]["planner"]["queued"] == 1
    assert httpx.post(f"{base}/v1/agent/runs", json={"instruction": "again"}).status_code == 429
    solve.set()
    deadline = time.monotonic() + 5
    while httpx.get(f"{base}/v1/agent/runs/{run_id}").json()["status"] == "running":
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.02)
    while httpx.get(health).json()["models"]["planner"]["queued"]:
        assert time.monotonic() < deadline, "the place was not given back"
        time.sleep(0.02)
    assert httpx.get(f"{base}/v1/agent/runs/{run_id}").json()["answer"] == "Forty-nine."
    assert httpx.get(health).json()["models"]["planner"]["queued"] == 0  # not -1: given back once


class _BrokenStore(RunStore):
    def start(self, instruction: str, toolkit: str = "default"):
        raise ConfigError("the run store is broken")


@pytest.mark.parametrize("stream", [False, True])
def test_a_route_that_fails_before_the_worker_starts_gives_the_place_back(serve, stream):
    client = serve({"planner": ScriptedLLM([PLAN, "It is 49."])}, concurrency=1, queue_size=0)
    client.app.state.runs = _BrokenStore(max_runs=10)
    r = client.post("/v1/agent/runs", json={"instruction": "7^2?", "stream": stream})
    assert r.status_code == 400 and "broken" in r.json()["error"]["message"]
    assert client.get("/health").json()["models"]["planner"]["queued"] == 0
    client.app.state.runs = RunStore(max_runs=10)
    assert client.post("/v1/agent/runs", json={"instruction": "7^2?"}).json()["answer"] == "It is 49."
