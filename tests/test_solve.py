"""The solver's prompt: each step's plan beside its evidence, failures marked, and a
side-effect step shown with the arguments it was actually called with."""

from __future__ import annotations

from foreplan.llm.scripted import ScriptedLLM
from foreplan.plan.parse import parse_plan
from foreplan.solve import Solver
from foreplan.types import Evidence, Status

PLAN = parse_plan("Plan: read\n#E1 = read_inbox[inbox]\nPlan: forward\n"
                  "#E2 = send_email[to='bob@example.com', subject='FYI', body=#E1.body]")


def _prompt(evidence: dict[str, Evidence]) -> str:
    return Solver(ScriptedLLM([])).prompt("Forward the newest mail to Bob.", PLAN, evidence)[0]["content"]


def test_a_side_effect_step_shows_what_was_actually_done():
    body = "Team offsite. " + "x" * 300
    prompt = _prompt({
        "E1": Evidence("E1", Status.OK, {"body": body}),
        "E2": Evidence("E2", Status.OK, {"status": "sent"}, side_effect=True,
                       arguments={"to": "bob@example.com", "subject": "FYI", "body": body}),
    })
    assert "Evidence (#E2, send_email): send_email was called with to='bob@example.com', subject='FYI', " in prompt
    assert f"({len(body)} characters)" in prompt and 'returned: {"status": "sent"}' in prompt


def test_a_refused_or_failed_step_is_marked_missing():
    prompt = _prompt({
        "E1": Evidence("E1", Status.OK, {"body": "b"}),
        "E2": Evidence("E2", Status.ERROR, error="refused: send_email has side effects and ...", side_effect=True),
    })
    assert "Evidence (#E2, send_email): [error] refused: send_email has side effects" in prompt


def test_a_step_that_never_ran_is_marked_skipped():
    assert "Evidence (#E2, send_email): [skipped] not run" in _prompt({"E1": Evidence("E1", Status.OK, "x")})
