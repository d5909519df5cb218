"""The solver suite scores what an answer says against what the evidence held: a right
answer, one that repeats an intermediate result, one that invents a number, and a task
that picks the dearer of two prices. Scripted models; the real ones run in
``foreplan eval solver`` (docs/eval/solver)."""

from __future__ import annotations

import json

from foreplan.eval.solver_eval import evidence_holds, is_right, run_solver_eval, states, summarize, write_report
from foreplan.eval.solver_suite import CATALOGUE, RATES, Task, make_tasks, make_toolkit
from foreplan.llm.scripted import ScriptedLLM
from foreplan.types import Evidence, Status


def test_the_suite_is_150_tasks_of_five_kinds_the_same_every_time():
    tasks = make_tasks()
    assert len(tasks) == 150 and len({t.id for t in tasks}) == 150
    assert {t.kind for t in tasks} == {"arithmetic", "conversion", "lookup", "string", "chain"}
    assert [t.instruction for t in tasks] == [t.instruction for t in make_tasks()]
    assert tasks[0].expected == eval(tasks[0].instruction.split("What is ")[1].split("?")[0].replace("times", "*")) - int(
        tasks[0].instruction.split("subtract ")[1].split(" ")[0])


def test_the_tools_compute_what_the_tasks_expect():
    toolkit = make_toolkit()
    assert toolkit.get("convert_currency").run({"amount": 100, "source": "USD", "target": "JPY"}) == 100 * RATES["JPY"]
    assert toolkit.get("item_price").run({"item": "lamps"}) == CATALOGUE["lamp"]
    assert toolkit.get("days_between").run({"start": "2020-01-01", "end": "2020-03-01"}) == 60
    assert toolkit.get("count_letter").run({"text": "Banana", "letter": "a"}) == 3


def test_an_answer_is_right_when_it_states_the_value_and_a_choice_must_lead_with_it():
    plain = Task("t", "arithmetic", "What is 58 times 72? Then subtract 592.", 3584)
    assert is_right(plain, "The result is 3,584.") and not is_right(plain, "4176")
    assert states("It is tevlev reversed: TEVLEV.", "TEVLEV") and not states("TEVLEVX", "TEVLEV")
    assert not states("robrah", "ROBRAH")  # the task asked for upper case
    dearer = Task("d", "lookup", "Which costs more, a lamp or a desk?", 249.0, choice=(34.5, 249.0))
    assert is_right(dearer, "The desk costs more: 249.00 USD, against 34.50 for the lamp.")
    assert not is_right(dearer, "The lamp costs 34.5 and the desk 249, so the desk.")  # leads with the wrong one
    lamp, desk = Evidence("E1", Status.OK, 34.5), Evidence("E2", Status.OK, 249.0)
    assert evidence_holds(dearer, {"E1": lamp, "E2": desk})
    assert not evidence_holds(dearer, {"E1": lamp, "E2": Evidence("E2", Status.ERROR, error="boom")})


PLAN = "Plan: multiply\n#E1 = calculator[58 * 72]\nPlan: subtract\n#E2 = calculator[#E1 - 592]"


def test_rows_score_each_solver_on_the_same_evidence(tmp_path):
    planner = ScriptedLLM([PLAN] * 2, name="planner")
    good = ScriptedLLM(["3584", "The last result is 3584."], name="good")
    # task 1: the intermediate result twice, so the answer check falls back to the final
    # one; task 2: a number the evidence does not hold, twice
    bad = ScriptedLLM(["4176", "It is 4176.", "It is 1234.", "Still 1234."], name="bad")
    rows = run_solver_eval(planner, None, {"good": good, "bad": bad}, tmp_path, limit=2)

    assert [r["holds"] for r in rows] == [True, False]  # task 2's expected value is never computed
    assert rows[0]["evidence"] == {"E1": "4176", "E2": "3584"}
    summary = summarize(rows)
    assert summary["good"]["right_where_holds"] == 1 and summary["good"]["holds"] == 1
    assert summary["bad"]["right_where_holds"] == 1 and summary["bad"]["right_first_where_holds"] == 0
    assert rows[0]["solvers"]["bad"]["fallback"] and rows[0]["solvers"]["bad"]["answer"].startswith("3584")
    second = rows[1]["solvers"]["bad"]
    assert second["invented_first"] == ["1234"] and second["fallback"] and "calculator step" in second["answer"]
    assert summary["bad"]["invented"] == 0 and summary["bad"]["invented_first"] == 1
    report = write_report(rows, tmp_path, "planner", "none").read_text()
    assert "| good | 1/1 (100.0%)" in report and "| bad | 1/1 (100.0%) | 0/1 (0.0%) |" in report
    assert json.loads((tmp_path / "report.json").read_text())["bad"]["fallbacks"] == 2


def test_a_task_without_a_plan_is_a_row_not_a_crash(tmp_path):
    rows = run_solver_eval(ScriptedLLM(["no plan here"] * 2), None, {"s": ScriptedLLM([])}, tmp_path, limit=1)
    assert rows[0]["error"].startswith("PlanInvalidError") and rows[0]["holds"] is False
    assert summarize(rows) == {}
    again = run_solver_eval(ScriptedLLM([]), None, {"s": ScriptedLLM([])}, tmp_path, limit=1, resume=True)
    assert again == rows  # resumed from results.jsonl: no model called
