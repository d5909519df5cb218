"""API keys, the body size limit and the bounded queue per model."""

from __future__ import annotations

import threading
import time

from foreplan import ScriptedLLM

HI = {"model": "planner", "messages": [{"role": "user", "content": "hi"}]}


def test_api_keys_guard_v1_but_not_health(serve):
    client = serve({"planner": ScriptedLLM(["ok"])}, api_keys=["s3cret"])
    assert client.get("/health").status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
        r = client.get("/v1/models", headers=headers)
        assert r.status_code == 401, headers
        assert r.json()["error"]["type"] == "authentication_error" and r.json()["error"]["code"] == "invalid_api_key"
    r = client.post("/v1/chat/completions", json=HI, headers={"Authorization": "Bearer s3cret"})
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == "ok"


def test_a_body_over_the_limit_is_413(serve):
    client = serve({"planner": ScriptedLLM([])}, max_body_bytes=200)
    big = HI | {"messages": [{"role": "user", "content": "x" * 500}]}
    r = client.post("/v1/chat/completions", json=big)
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"


def test_a_chunked_body_over_the_limit_is_413(serve):
    client = serve({"planner": ScriptedLLM([])}, max_body_bytes=200)
    chunks = iter([b'{"model": "planner", "messages": [{"role": "user", "content": "', b"x" * 300, b'"}]}'])
    r = client.post("/v1/chat/completions", content=chunks, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["type"] == "invalid_request_error"


def test_a_full_queue_is_429_with_retry_after(serve):
    started, release = threading.Event(), threading.Event()

    def slow(messages, options):
        started.set()
        release.wait(10)
        return "slow reply"

    client = serve({"planner": ScriptedLLM([slow, "second"])}, concurrency=1, queue_size=0, retry_after_s=3)
    first: dict = {}
    worker = threading.Thread(target=lambda: first.update(r=client.post("/v1/chat/completions", json=HI)))
    worker.start()
    assert started.wait(10)
    r = client.post("/v1/chat/completions", json=HI)
    assert r.status_code == 429 and r.headers["Retry-After"] == "3"
    assert r.json()["error"]["type"] == "rate_limit_error"
    release.set()
    worker.join(10)
    assert first["r"].json()["choices"][0]["message"]["content"] == "slow reply"
    assert client.post("/v1/chat/completions", json=HI).json()["choices"][0]["message"]["content"] == "second"
    assert client.get("/health").json()["models"]["planner"]["queued"] == 0


def test_many_concurrent_clients_get_answers_or_429_never_5xx(serve):
    def slow(messages, options):
        time.sleep(0.05)
        return "ok"

    llm = ScriptedLLM([slow] * 30)
    client = serve({"planner": llm}, concurrency=1, queue_size=4)
    statuses: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        r = client.post("/v1/chat/completions", json=HI)
        with lock:
            statuses.append(r.status_code)

    threads = [threading.Thread(target=call) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(statuses) == 30 and set(statuses) <= {200, 429}
    assert 429 in statuses and statuses.count(200) == len(llm.calls) >= 5
