"""One bounded replan: a failed, timed-out or empty step, or a solver that finds no
answer, gets the planner one more round that may cite the old evidence; an invalid
replan ends the run with the first round's answer and a note; a side effect never runs
twice. Scripted models."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import Field

from foreplan import Agent, ScriptedLLM, Toolkit, tool
from foreplan.errors import ToolError
from foreplan.events import PlanReady, StepFinished
from foreplan.plan.replan import Replanner, replan_reasons
from foreplan.types import Evidence, Plan, Status, Step

SENT: list[str] = []


@tool(timeout=5)
def search(query: str) -> list:
    """Search the notes.

    Args:
        query: words to look for.
    """
    if "nothing" in query:
        return []
    if "broken" in query:
        raise ToolError("the index is offline")
    return [f"a note about {query}"]


@tool(timeout=5, side_effects=True)
def send_note(text: str) -> str:
    """Send a note to the team.

    Args:
        text: what to send.
    """
    SENT.append(text)
    return "sent"


def _agent(planner, solver, **kwargs) -> Agent:
    return Agent(planner, Toolkit([search, send_note]), solver=solver, **kwargs)


def test_reasons_are_failures_timeouts_and_empty_results_not_decisions():
    steps = tuple(Step(f"E{i}", "p", "search", "x") for i in range(1, 7))
    evidence = {
        "E1": Evidence("E1", Status.OK, ["found"]),
        "E2": Evidence("E2", Status.ERROR, error="search failed: the index is offline"),
        "E3": Evidence("E3", Status.TIMEOUT, error="no result within 5 s"),
        "E4": Evidence("E4", Status.OK, {"results": [], "next": ""}),
        "E5": Evidence("E5", Status.ERROR, error="refused: to would come from #E1"),
        "E6": Evidence("E6", Status.ERROR, error="declined: the user said no"),
    }
    assert replan_reasons(Plan(steps), evidence) == [
        "#E2 (search) failed: search failed: the index is offline",
        "#E3 (search) timed out: no result within 5 s",
        "#E4 (search) found nothing",
    ]


def test_a_failed_step_gets_one_more_round_that_uses_the_old_evidence():
    planner = ScriptedLLM([
        "Plan: Search the index.\n#E1 = search[broken index]\nPlan: Search the notes.\n#E2 = search[alpha]\n",
        "Plan: Search with other words, using what the notes say.\n#E3 = search[#E2]\n",
    ])
    events = []
    result = _agent(planner, ScriptedLLM(["Alpha has a note."])).run("What about alpha?", on_event=events.append)

    assert result.answer == "Alpha has a note."
    assert [s.id for s in result.plan.steps] == ["E1", "E2", "E3"]
    assert result.evidence["E3"].ok and result.evidence["E3"].input == '["a note about alpha"]'
    replan_prompt = planner.calls[1][0][-1]["content"]
    assert "#E1 (search) failed: search failed: the index is offline" in replan_prompt
    assert "numbered from #E3" in replan_prompt and 'Result: ["a note about alpha"]' in replan_prompt
    rounds = [e for e in events if isinstance(e, PlanReady)]
    assert [(e.round, [s.id for s in e.plan.steps]) for e in rounds] == [(1, ["E1", "E2"]), (2, ["E3"])]
    assert rounds[1].reasons == ("#E1 (search) failed: search failed: the index is offline",)
    assert sum(isinstance(e, StepFinished) for e in events) == 3  # the old steps did not run again
    out = result.to_dict()
    assert out["replans"] == [{"round": 2, "reasons": list(rounds[1].reasons), "steps": ["E3"], "attempts": 1}]
    assert out["usage"]["planner"]["calls"] == 2 and out["notes"] == []
    json.dumps(out)


def test_no_replan_when_turned_off_or_nothing_went_wrong():
    plan = "Plan: Search.\n#E1 = search[broken]\n"
    result = _agent(ScriptedLLM([plan]), ScriptedLLM(["The index is offline."]), max_replans=0).run("Find it")
    assert result.replans == [] and result.answer == "The index is offline."
    result = _agent(ScriptedLLM(["Plan: Search.\n#E1 = search[alpha]\n"]), ScriptedLLM(["A note."])).run("Find it")
    assert result.replans == []


def test_an_invalid_replan_ends_with_the_first_rounds_answer_and_a_note():
    planner = ScriptedLLM(["Plan: Search.\n#E1 = search[nothing here]\n", "no plan", "still no plan"])
    result = _agent(planner, ScriptedLLM(["Nothing was found."])).run("Find it")
    assert result.answer == "Nothing was found."
    assert len(result.notes) == 1 and "#E1 (search) found nothing" in result.notes[0]
    assert "the text is not a plan" in result.notes[0] and result.replans == []


def test_a_side_effect_that_ran_is_never_run_again_by_a_replan():
    SENT.clear()
    planner = ScriptedLLM([
        "Plan: Send it.\n#E1 = send_note[hello]\nPlan: Look.\n#E2 = search[broken]\n",
        "Plan: Send again.\n#E3 = send_note[hello again]\n",
        "Plan: Send once more.\n#E3 = send_note[hello, really]\n",
    ])
    result = _agent(planner, ScriptedLLM(["Sent; the search failed."])).run("Send and look")
    assert SENT == ["hello"]
    assert "send_note has side effects and already ran" in planner.calls[2][0][-1]["content"]
    assert "Do not call send_note again" in planner.calls[1][0][-1]["content"]
    assert "send_note has side effects and already ran" in result.notes[0]


def test_a_solver_with_no_answer_in_the_evidence_asks_for_a_replan():
    planner = ScriptedLLM(["Plan: Search.\n#E1 = search[alpha]\n", "Plan: Search more.\n#E2 = search[alpha price]\n"])
    # 42 is in no evidence, twice: the answer check falls back, and the evidence gets one more round
    solver = ScriptedLLM(["It costs 42.", "Still 42.", "A note about alpha price."])
    result = _agent(planner, solver).run("What does alpha cost?")
    assert [r.reasons for r in result.replans] == [["the solver could not answer the task from these results"]]
    assert result.answer == "A note about alpha price."


def test_the_replanner_repairs_a_restart_from_e1():
    done = Plan((Step("E1", "Search.", "search", "broken"),))
    evidence = {"E1": Evidence("E1", Status.ERROR, error="search failed")}
    llm = ScriptedLLM(["Plan: Again.\n#E1 = search[other words]\n", "Plan: Again.\n#E2 = search[other words]\n"])
    more = Replanner(llm, Toolkit([search, send_note]), done=done, evidence=evidence, reasons=["#E1 failed"]).plan("x")
    assert [s.id for s in more.plan.steps] == ["E2"] and more.attempts == 2
    repair = llm.calls[1][0][-1]["content"]
    assert "#E1 is defined twice" in repair and "#E2 = tool[input]" in repair


def test_a_replan_retries_a_failure_and_cites_a_known_result_instead_of_repeating_it():
    done = Plan((Step("E1", "Search.", "search", "nothing here"), Step("E2", "Search.", "search", "alpha"),
                 Step("E3", "Search.", "search", "broken")))
    evidence = {"E1": Evidence("E1", Status.OK, []), "E2": Evidence("E2", Status.OK, ["a note"]),
                "E3": Evidence("E3", Status.ERROR, error="search failed: the index is offline")}
    llm = ScriptedLLM(["Plan: Again.\n#E4 = search[nothing here]\nPlan: And.\n#E5 = search[alpha]\n"
                       "Plan: Retry.\n#E6 = search[broken]\nPlan: Use them.\n#E7 = search[#E5 and #E4]\n"])
    more = Replanner(llm, Toolkit([search, send_note]), done=done, evidence=evidence, reasons=["#E1 found nothing"]).plan("x")
    assert [(s.id, s.input) for s in more.plan.steps] == [("E6", "broken"), ("E7", "#E2 and #E1")]
    assert more.merged == {"E4": "E1", "E5": "E2"} and more.attempts == 1


def test_a_replan_that_only_repeats_what_ran_adds_a_note_and_no_round():
    planner = ScriptedLLM(["Plan: Search.\n#E1 = search[nothing here]\n", "Plan: Again.\n#E2 = search[nothing here]\n"])
    result = _agent(planner, ScriptedLLM(["Nothing was found."])).run("Find it")
    assert result.replans == [] and "wrote only steps that had already run" in result.notes[0]
    assert result.answer == "Nothing was found."


def test_a_replan_step_retooled_into_a_side_effect_that_ran_is_refused_too():
    @tool(side_effects=True)
    def http_post(url: Annotated[str, Field(pattern=r"^https?://")], data: str) -> str:
        """Send data to a web address with an HTTP POST.

        Args:
            url: the address to post to.
            data: the text to send.
        """
        return "posted"

    @tool(side_effects=True)
    def run_statement(sql: str, params: list | None = None) -> str:
        """Run one SQL statement: INSERT a row into a table.

        Args:
            sql: one SQL statement.
            params: values for its ? placeholders.
        """
        SENT.append(sql)
        return "1 row"

    SENT.clear()
    insert = '"INSERT INTO notes (text) VALUES (?)", ["hi"]'
    planner = ScriptedLLM([
        f"Plan: Insert a row into the notes table.\n#E1 = run_statement[{insert}]\nPlan: Look.\n#E2 = search[broken]\n",
        "Plan: Insert the row into the notes table again.\n"  # fits run_statement only
        '#E3 = http_post["INSERT INTO notes (text) VALUES (?)", [#E1]]\n',
        f"Plan: Insert it once more.\n#E3 = run_statement[{insert}]\n",
    ])
    agent = Agent(planner, Toolkit([search, http_post, run_statement]), solver=ScriptedLLM(["Stored."]))
    result = agent.run("Store hi and look")
    assert SENT == ["INSERT INTO notes (text) VALUES (?)"]
    assert "#E3: run_statement has side effects and already ran" in planner.calls[2][0][-1]["content"]
    assert "run_statement has side effects and already ran" in result.notes[0]


@tool(timeout=5)
def tag_note(text: str, tag: str) -> str:
    """Tag a note.

    Args:
        text: the note.
        tag: the label.
    """
    return f"{text} #{tag}"


def test_keyword_arguments_hold_for_the_first_plan_and_the_replan():
    planner = ScriptedLLM([
        "Plan: Look.\n#E1 = search[broken]\nPlan: Tag.\n#E2 = tag_note[text='x', tag='y']\n",
        "Plan: Tag again.\n#E3 = tag_note[text=#E2, tag='z']\n",
    ])
    agent = Agent(planner, Toolkit([search, tag_note]), solver=ScriptedLLM(["x #y #z"]), keyword_arguments=True)
    result = agent.run("Look, then tag")
    assert [s.tool for s in result.plan.steps] == ["search", "tag_note", "tag_note"] and len(result.replans) == 1
    for messages, options in planner.calls:
        assert '"tag_note[" "text="' in options.constraint.grammar and '"search["' not in options.constraint.grammar
