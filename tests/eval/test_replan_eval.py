"""The fault suite's tools fail once per run, and the replan eval pairs each task's run
without and with a replan. Scripted models; the real ones run in ``foreplan eval replan``
(docs/eval/replan)."""

from __future__ import annotations

import pytest

from foreplan.errors import ToolError
from foreplan.eval.fault_suite import TIMEOUT_S, make_world
from foreplan.eval.replan_eval import run_replan_eval, summarize, write_report
from foreplan.llm.scripted import ScriptedLLM


def test_each_fault_happens_once_per_world():
    world = make_world()
    with pytest.raises(ToolError, match="503"):
        world.get("exchange_rate").run({"currency": "EUR"})
    assert world.get("exchange_rate").run({"currency": "eur"}) == 0.8
    assert make_world().get("search_notes").run({"query": "Q3 budget meeting room"}) == []
    assert make_world().get("search_notes").run({"query": "Q3 budget"}) == [
        "Budget review for Q3 is held in room 4B on Tuesday."]
    assert world.get("shipping_days").timeout == TIMEOUT_S


PLAN = "Plan: rate.\n#E1 = exchange_rate[EUR]\nPlan: convert.\n#E2 = calculator[250 * #E1]\n"
REPLAN = "Plan: rate again.\n#E3 = exchange_rate[EUR]\nPlan: convert.\n#E4 = calculator[250 * #E3]\n"


def test_the_replan_recovers_a_transient_failure(tmp_path):
    llm = ScriptedLLM([PLAN, "The rate service is busy.", PLAN, REPLAN, "250 US dollars are 200 euros."])
    rows = run_replan_eval(llm, None, tmp_path, limit=1)
    assert [(r["max_replans"], r["right"]) for r in rows] == [(0, False), (1, True)]
    assert rows[1]["replans"] == [["#E1 (exchange_rate) failed: exchange_rate failed: the rate service is busy "
                                   "(HTTP 503); try again"]]
    summary = summarize(rows)
    assert summary["recovered"] == ["rate-eur"] and summary["lost"] == []
    assert summary["max_replans=1"]["replanned"] == 1 and summary["max_replans=0"]["right"] == 0
    assert "| rate-eur | transient | 200 |" in write_report(rows, tmp_path, "p", "c").read_text()
