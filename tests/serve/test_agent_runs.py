"""/v1/agent/runs: the agent over HTTP, as one result object or as SSE events."""

from __future__ import annotations

import threading

from foreplan import ScriptedLLM
from tests.serve.conftest import sse_data

PLAN = "Plan: Square seven.\n#E1 = calculator[7^2]\n"


def test_a_run_returns_the_result_object_and_can_be_fetched(serve):
    client = serve({"planner": ScriptedLLM([PLAN, "It is 49."])})
    r = client.post("/v1/agent/runs", json={"instruction": "What is 7 squared?", "max_steps": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "succeeded" and body["id"].startswith("run_") and body["answer"] == "It is 49."
    assert [s["tool"] for s in body["plan"]] == ["calculator"] and body["evidence"]["E1"]["status"] == "ok"
    assert set(body["usage"]) == {"planner", "caller", "solver", "tools"}
    fetched = client.get(f"/v1/agent/runs/{body['id']}").json()
    assert fetched["answer"] == "It is 49."
    assert [e["event"] for e in fetched["events"]] == [
        "run_started", "plan_ready", "step_started", "step_finished", "answer"]


def test_a_streamed_run_sends_events_a_result_and_done(serve):
    planner, solver = ScriptedLLM([PLAN]), ScriptedLLM(["Forty-nine."])
    client = serve({"planner": planner, "solver": solver})
    events = sse_data(client.post("/v1/agent/runs", json={"instruction": "7^2?", "stream": True}).text)
    assert [e if e == "[DONE]" else e["event"] for e in events] == [
        "run_started", "plan_ready", "step_started", "step_finished", "answer", "result", "[DONE]"]
    result = events[-2]
    assert result["answer"] == "Forty-nine." and result["status"] == "succeeded"
    assert len({e["id"] for e in events[:-1]}) == 1
    assert solver.remaining == 0  # the solver alias answered, not the planner


def test_an_invalid_plan_is_422_with_the_problems(serve):
    client = serve({"planner": ScriptedLLM(["I cannot plan this.", "Plan: x\n#E1 = calculator[#E7]\n"])})
    r = client.post("/v1/agent/runs", json={"instruction": "?"})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "plan_invalid" and any("#E7" in p for p in error["problems"])


def test_an_invalid_plan_in_a_stream_is_an_error_event_and_a_failed_run(serve):
    client = serve({"planner": ScriptedLLM(["nonsense", "more nonsense"])})
    events = sse_data(client.post("/v1/agent/runs", json={"instruction": "?", "stream": True}).text)
    assert events[-2]["error"]["code"] == "plan_invalid" and events[-1] == "[DONE]"
    run = client.get(f"/v1/agent/runs/{events[-2]['id']}").json()
    assert run["status"] == "failed" and run["error"]["code"] == "plan_invalid"


def test_a_running_run_can_be_fetched(serve):
    fetched = threading.Event()

    def slow_solver(messages, options):
        fetched.wait(10)  # the run stays running until the test has looked at it
        return "done"

    client = serve({"planner": ScriptedLLM([PLAN]), "solver": ScriptedLLM([slow_solver])})
    with client.stream("POST", "/v1/agent/runs", json={"instruction": "7^2?", "stream": True}) as r:
        lines = r.iter_lines()
        first = next(lines)
        run_id = sse_data(first)[0]["id"]
        assert client.get(f"/v1/agent/runs/{run_id}").json()["status"] == "running"
        fetched.set()
        rest = "\n".join(lines)
    assert sse_data(rest)[-1] == "[DONE]"
    assert client.get(f"/v1/agent/runs/{run_id}").json()["status"] == "succeeded"


def test_unknown_runs_and_a_missing_planner_are_404(serve):
    client = serve({"caller": ScriptedLLM([])})
    assert client.get("/v1/agent/runs/run_nope").json()["error"]["code"] == "run_not_found"
    r = client.post("/v1/agent/runs", json={"instruction": "x"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "model_not_found"


def test_old_finished_runs_are_dropped(serve):
    client = serve({"planner": ScriptedLLM([PLAN, "a", PLAN, "b"])}, max_runs=1)
    first = client.post("/v1/agent/runs", json={"instruction": "1"}).json()["id"]
    client.post("/v1/agent/runs", json={"instruction": "2"})
    assert client.get(f"/v1/agent/runs/{first}").status_code == 404
