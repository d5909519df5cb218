"""The planner asks the backend to pick each step's tool by its whole name (llm/choice.py)."""

from __future__ import annotations

from foreplan.llm.scripted import ScriptedLLM
from foreplan.plan.planner import Planner
from foreplan.tools import default_toolkit

PLAN = "Plan: Add them.\n#E1 = calculator[2 + 2]"


def _options(**planner):
    llm = ScriptedLLM([PLAN])
    Planner(llm, default_toolkit(), **planner).plan("What is 2 + 2?")
    return llm.calls[0][1]


def test_with_a_grammar_each_tool_name_is_one_choice():
    choices = _options().constraint.choices
    names = set(default_toolkit().names)
    assert choices and all({o.strip() for o in c.options} == names and c.then == "[" for c in choices)


def test_each_name_is_one_option():
    from foreplan.plan.grammar import tool_choices
    from foreplan.tools.tool import tool
    from foreplan.tools.toolkit import Toolkit

    def look(text: str) -> str:
        """Look it up.

        Args:
            text: what to look up.
        """
        return text

    toolkit = Toolkit([tool(name="search")(look), tool(name="search_web")(look)])
    assert set(tool_choices(toolkit)[0].options) == {" search", " search_web"}


def test_the_first_token_rule_remains_an_option():
    assert _options(whole_tool_names=False).constraint.choices == ()


def test_without_a_grammar_there_is_nothing_to_choose_within():
    assert _options(grammar=False).constraint.choices == ()
