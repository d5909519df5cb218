"""The worked example in the planner prompt: a built-in one that uses only the toolkit's
tools, or the toolkit's own (checked as a plan for those tools before any model sees it)."""

from __future__ import annotations

import pytest

from foreplan import ScriptedLLM
from foreplan.errors import ConfigError
from foreplan.plan.examples import pick_example
from foreplan.plan.planner import Planner
from foreplan.tools import default_toolkit
from foreplan.tools.config import build_toolkit, load_toolkit_config

OWN = """Task: What does the database say about 'Heat'?
Plan: Look the film up.
#E1 = calculator[1 + 1]"""


@pytest.mark.parametrize(("tools", "first_step"), [
    ({"LLM", "calculator", "get_current_time"}, "#E1 = get_current_time[Asia/Tokyo]"),
    ({"search_wiki", "LLM"}, "#E1 = search_wiki[Jaws film]"),
    ({"search_web", "LLM", "calculator"}, "#E1 = search_web[Jaws film]"),
    ({"LLM", "calculator"}, "#E1 = LLM[Solve"),
    ({"LLM"}, "#E1 = LLM[Name one yellow fruit."),
])
def test_a_builtin_example_uses_only_the_toolkits_tools(tools, first_step):
    assert first_step in pick_example(tools)


def test_no_example_names_a_tool_the_toolkit_lacks():
    assert pick_example({"query_sql", "search_bilibili"}) is None


def test_the_toolkit_file_example_replaces_the_builtin_one(tmp_path):
    (tmp_path / "kit.toml").write_text(f'tools = ["calculator"]\nplanner_example = """\n{OWN}"""\n')
    toolkit = build_toolkit(load_toolkit_config(tmp_path / "kit.toml"))
    prompt = Planner(ScriptedLLM([]), toolkit).prompt("Anything")[0]["content"]
    assert f"For example:\n{OWN}\n" in prompt


@pytest.mark.parametrize(("example", "problem"), [
    ("Plan: no task line\n#E1 = calculator[1]", "must start with a 'Task: ...' line"),
    ("Task: x\nPlan: a tool this toolkit lacks\n#E1 = search_wiki[x]", "search_wiki"),
    ("Task: x\njust words", "not a valid plan"),
])
def test_a_bad_toolkit_example_is_a_config_error_before_any_model_call(example, problem):
    toolkit = default_toolkit()
    toolkit.planner_example = example
    llm = ScriptedLLM([])  # fails loudly if the planner ever calls it
    with pytest.raises(ConfigError, match=problem):
        Planner(llm, toolkit).plan("Anything")
