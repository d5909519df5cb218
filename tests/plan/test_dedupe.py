"""Repeated steps are dropped and references to them point at the step they repeated."""

from __future__ import annotations

from foreplan import ScriptedLLM, Toolkit, tool
from foreplan.plan.dedupe import drop_repeated_steps
from foreplan.plan.parse import parse_plan
from foreplan.plan.planner import Planner
from foreplan.plan.validate import validate_plan
from foreplan.tools import default_toolkit

PADDED = """Plan: Get the date.
#E1 = get_current_time[UTC]
Plan: Square the days left.
#E2 = calculator[#E1.days_left_in_year ^ 2]
Plan: Get the date again.
#E3 = get_current_time[UTC]
Plan: Square them again.
#E4 = calculator[#E3.days_left_in_year  ^ 2]
Plan: Say it.
#E5 = LLM[Say #E4 and #E3.date]
"""


def test_repeats_are_dropped_and_references_rewritten():
    plan, merged = drop_repeated_steps(parse_plan(PADDED), default_toolkit())
    assert merged == {"E3": "E1", "E4": "E2"}
    assert [s.id for s in plan.steps] == ["E1", "E2", "E5"]
    assert plan.step("E5").input == "Say #E2 and #E1.date"
    assert plan.step("E5").depends_on == ["E2", "E1"]


def test_a_plan_without_repeats_is_returned_as_it_is():
    plan = parse_plan("Plan: a\n#E1 = calculator[1+1]\nPlan: b\n#E2 = calculator[1+2]\n")
    assert drop_repeated_steps(plan, default_toolkit()) == (plan, {})


def test_tools_with_side_effects_are_never_merged():
    @tool(side_effects=True)
    def send(text: str) -> str:
        """Send a message.

        Args:
            text: The message.
        """
        return "sent"

    plan = parse_plan("Plan: a\n#E1 = send[hi]\nPlan: again\n#E2 = send[hi]\n")
    kept, merged = drop_repeated_steps(plan, Toolkit([send]))
    assert merged == {} and len(kept.steps) == 2


def test_the_planner_returns_the_deduplicated_plan():
    result = Planner(ScriptedLLM([PADDED]), default_toolkit()).plan("How many days are left, squared?")
    assert [s.id for s in result.plan.steps] == ["E1", "E2", "E5"]
    assert result.merged == {"E3": "E1", "E4": "E2"}


def test_a_second_call_that_names_a_field_of_the_first_result_reads_that_field() -> None:
    @tool
    def read_inbox(folder: str = "inbox") -> dict:
        """Read the newest message.

        Args:
            folder: the mail folder, e.g. inbox.

        Returns:
            sender, subject, body.
        """
        return {}

    kit = Toolkit([read_inbox, *default_toolkit()])
    plan = parse_plan('#E1 = read_inbox["inbox"]\n#E2 = read_inbox["body"]\n#E3 = LLM[Summarize #E2]\n'
                      '#E4 = read_inbox["sender", "subject"]')
    kept, same_as = drop_repeated_steps(plan, kit)
    assert [s.id for s in kept.steps] == ["E1", "E3", "E4"]  # two fields are not one reference: left alone
    assert same_as == {"E2": "E1.body"}
    assert kept.steps[1].input == "Summarize #E1.body"
    assert validate_plan(kept, kit)[0].code == "result_field_as_input"  # E4 still goes to the repair
