"""Agent runs started with "confirm": each side-effect step pauses with a
confirmation_required event, and a POST approves or declines it (a real server on
127.0.0.1, a client reading the SSE stream while another request answers)."""

from __future__ import annotations

import json

import httpx
from mail_tools import mail_toolkit

from foreplan import ScriptedLLM

PLAN = ("Plan: Look Bob up.\n#E1 = lookup[bob]\n"
        "Plan: Mail him.\n#E2 = send_email[to='bob@example.com', subject='Hi', body=#E1]\n")


def _run_and_answer(base: str, answer: dict) -> list[dict]:
    events = []
    body = {"instruction": "Mail Bob his notes.", "toolkit": "mail", "stream": True, "confirm": True}
    with httpx.stream("POST", f"{base}/v1/agent/runs", json=body, timeout=30) as r:
        for line in r.iter_lines():
            if not line.startswith("data: {"):
                continue
            event = json.loads(line[6:])
            events.append(event)
            if event.get("event") == "confirmation_required":
                waiting = httpx.get(f"{base}/v1/agent/runs/{event['id']}").json()["confirmations"]
                assert waiting == [{"step": "E2", "tool": "send_email", "state": "pending", "sources": {"body": ["E1"]},
                                    "arguments": {"to": "bob@example.com", "subject": "Hi", "body": "notes on bob"}}]
                done = httpx.post(f"{base}/v1/agent/runs/{event['id']}/confirmations/E2", json=answer)
                assert done.status_code == 200, done.text
                again = httpx.post(f"{base}/v1/agent/runs/{event['id']}/confirmations/E2", json=answer)
                assert again.status_code == 409 and again.json()["error"]["code"] == "confirmation_answered"
    return events


def test_an_approved_side_effect_runs(live):
    sent: list[dict] = []
    base = live({"planner": ScriptedLLM([PLAN, "Mailed Bob."])}, toolkits={"mail": mail_toolkit(sent)})
    events = _run_and_answer(base, {"approve": True})

    kinds = [e["event"] for e in events]
    assert kinds.index("confirmation_required") < kinds.index("answer")
    assert sent == [{"to": "bob@example.com", "subject": "Hi", "body": "notes on bob"}]
    assert events[-1]["evidence"]["E2"]["status"] == "ok"


def test_a_declined_side_effect_does_not_run_and_the_run_goes_on(live):
    sent: list[dict] = []
    base = live({"planner": ScriptedLLM([PLAN, "Did not mail Bob."])}, toolkits={"mail": mail_toolkit(sent)})
    events = _run_and_answer(base, {"approve": False, "reason": "not today"})

    assert sent == [] and events[-1]["status"] == "succeeded"
    assert events[-1]["evidence"]["E2"]["error"] == "declined: not today"


def test_an_unanswered_side_effect_is_declined_after_the_timeout(serve):
    sent: list[dict] = []
    client = serve({"planner": ScriptedLLM([PLAN, "Timed out."])}, confirm_timeout_s=0.2)
    client.app.state.toolkits["mail"] = mail_toolkit(sent)
    body = client.post("/v1/agent/runs", json={"instruction": "Mail Bob.", "toolkit": "mail", "confirm": True}).json()

    assert sent == [] and body["evidence"]["E2"]["error"] == "declined: no answer within 0.2 s"
    assert body["confirmations"][0]["state"] == "declined"


def test_answering_what_does_not_wait_is_404(serve):
    client = serve({"planner": ScriptedLLM(["Plan: Square seven.\n#E1 = calculator[7^2]\n", "49."])})
    run = client.post("/v1/agent/runs", json={"instruction": "7^2?"}).json()
    r = client.post(f"/v1/agent/runs/{run['id']}/confirmations/E9", json={"approve": True})
    assert r.status_code == 404 and r.json()["error"]["code"] == "confirmation_not_found"
    assert client.post("/v1/agent/runs/run_nope/confirmations/E1", json={"approve": True}).status_code == 404


def test_the_toolkit_policy_declines_a_side_effect_when_the_client_cannot_answer(live):
    sent: list[dict] = []
    toolkit = mail_toolkit(sent)
    toolkit.confirm = frozenset({"send_email"})
    base = live({"planner": ScriptedLLM([PLAN, "Did not mail Bob."])}, toolkits={"mail": toolkit})
    body = {"instruction": "Mail Bob his notes.", "toolkit": "mail", "max_replans": 0}
    result = httpx.post(f"{base}/v1/agent/runs", json=body, timeout=30).json()

    assert sent == [] and result["status"] == "succeeded"
    assert 'send "confirm": true to the server' in result["evidence"]["E2"]["error"]
