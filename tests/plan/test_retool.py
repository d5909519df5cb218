"""A step whose input does not fit the tool it names, but fits the tool its plan line
describes, runs that tool; a side effect is never added, and nothing else changes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from foreplan import ScriptedLLM, Toolkit, tool
from foreplan.plan.parse import parse_plan
from foreplan.plan.planner import Planner
from foreplan.plan.retool import retool_steps


def _toolkit(store_has_side_effects: bool = True) -> Toolkit:
    @tool
    def read_inbox(folder: str = "inbox") -> dict:
        """Read the newest message in a mail folder.

        Args:
            folder: the mail folder.

        Returns:
            sender, subject, body.
        """
        return {"sender": "a@example.com", "subject": "s", "body": "b"}

    @tool(side_effects=True)
    def http_post(url: Annotated[str, Field(pattern=r"^https?://")], data: str) -> dict:
        """Send data to a web address with an HTTP POST.

        Args:
            url: the address to post to.
            data: the text to send.
        """
        return {"status": 200}

    @tool(side_effects=store_has_side_effects)
    def run_statement(sql: str, params: list | None = None) -> dict:
        """Run one SQL statement: INSERT a row into a table, or SELECT rows.

        Args:
            sql: one SQL statement.
            params: values for its ? placeholders.
        """
        return {"rows_changed": 1}

    @tool
    def shout(text: str) -> str:
        """Say a text in capitals.

        Args:
            text: what to say.
        """
        return text.upper()

    return Toolkit([read_inbox, http_post, run_statement, shout])


MISNAMED = """Plan: 1. Read the newest inbox message.
#E1 = read_inbox["inbox"]
Plan: 2. Insert the body as a row into the notes table with an SQL statement.
#E2 = http_post["INSERT INTO notes (text) VALUES (?)", [#E1.body]]
"""


def test_a_step_runs_the_tool_its_line_and_input_fit():
    plan, named = retool_steps(parse_plan(MISNAMED), _toolkit())
    assert named == {"E2": "http_post"}
    assert [s.tool for s in plan.steps] == ["read_inbox", "run_statement"]
    assert plan.step("E2").input == '"INSERT INTO notes (text) VALUES (?)", [#E1.body]'


def test_a_side_effect_the_planner_did_not_name_is_never_added():
    @tool
    def lookup(key: Annotated[str, Field(pattern=r"^[a-z]+$")]) -> str:
        """Look up a key.

        Args:
            key: a lower-case key.
        """
        return key

    toolkit = _toolkit()
    toolkit.add(lookup)
    text = "Plan: Insert a row into the notes table with an SQL statement.\n#E1 = lookup[\"INSERT INTO notes VALUES (1)\"]\n"
    plan, named = retool_steps(parse_plan(text), toolkit)
    assert named == {} and plan.step("E1").tool == "lookup"


def test_a_pure_tool_may_stand_in_for_a_misnamed_side_effect():
    plan, named = retool_steps(parse_plan(MISNAMED), _toolkit(store_has_side_effects=False))
    assert named == {"E2": "http_post"} and plan.step("E2").tool == "run_statement"


def test_an_input_that_fits_no_tool_is_left_for_the_repair_round():
    text = "Plan: Post the message to the notes service.\n#E1 = http_post[\"notes\", \"a\", \"b\", \"c\"]\n"
    plan = parse_plan(text)
    assert retool_steps(plan, _toolkit()) == (plan, {})


def test_a_plan_that_validates_is_returned_as_it_is():
    plan = parse_plan('Plan: Post it.\n#E1 = http_post["https://api.example.com/notes", "hi"]\n')
    assert retool_steps(plan, _toolkit()) == (plan, {})


def test_the_planner_reports_what_it_retooled_without_a_repair_round():
    llm = ScriptedLLM([MISNAMED])
    result = Planner(llm, _toolkit(), grammar=False).plan("Store the newest mail's body in the notes table.")
    assert result.attempts == 1 and len(llm.calls) == 1
    assert result.retooled == {"E2": "http_post"}
    assert result.plan.step("E2").tool == "run_statement"


def test_a_run_shows_the_retooled_step_in_its_events_and_its_json():
    from foreplan import Agent
    from foreplan.events import PlanReady

    agent = Agent(ScriptedLLM([MISNAMED, "Stored."]), _toolkit(), caller=ScriptedLLM([]))
    events = list(agent.stream("Store the newest mail's body in the notes table."))
    ready = next(e for e in events if isinstance(e, PlanReady))
    assert ready.to_dict()["retooled_steps"] == {"E2": "http_post"}
    result = events[-1]
    assert result.plan.step("E2").tool == "run_statement" and result.evidence["E2"].ok
    assert result.evidence["E2"].arguments == {"sql": "INSERT INTO notes (text) VALUES (?)", "params": ["b"]}
    assert result.to_dict()["retooled_steps"] == {"E2": "http_post"}
