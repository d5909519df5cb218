"""The ReAct baseline on a ScriptedLLM: tool calls, bad actions, the iteration budget."""

from __future__ import annotations

import pytest

from foreplan.eval.react import STOP, parse_action, run_react
from foreplan.llm.scripted import ScriptedLLM
from foreplan.tools.calculator import calculator
from foreplan.tools.llm_tool import BRIEF, llm_tool
from foreplan.tools.toolkit import Toolkit


@pytest.fixture
def toolkit() -> Toolkit:
    return Toolkit([calculator, llm_tool])


def _words(text: str) -> int:
    return len(text.split())


def test_two_tool_calls_then_final_answer(toolkit):
    replies = [
        "I need 2 + 3 first.\nAction: calculator[2 + 3]",
        " Now times four.\nAction: calculator[5 * 4]\nObservation: 99 (made up, must be cut)",
        " I now know the final answer\nFinal Answer: 20",
    ]
    llm = ScriptedLLM(replies)
    result = run_react(llm, toolkit, "What is (2 + 3) * 4?")

    assert (result.answer, result.finished, result.iterations) == ("20", True, 3)
    assert [(s.tool, s.input, s.observation) for s in result.steps] == [
        ("calculator", "2 + 3", "5"), ("calculator", "5 * 4", "20"), (None, None, None)]
    assert result.steps[0].thought == "I need 2 + 3 first."
    question, trace = llm.calls[-1][0]
    assert question["role"] == "user" and question["content"].startswith("Answer the following question as best")
    assert "(1) calculator[input]: Evaluate an arithmetic expression" in question["content"]
    assert question["content"].endswith("Begin!\n\nQuestion: What is (2 + 3) * 4?")
    # The trace is the model's own reply so far, which it continues.
    assert trace == {"role": "assistant", "content":
                     "Thought: I need 2 + 3 first.\nAction: calculator[2 + 3]\nObservation: 5\n"
                     "Thought: Now times four.\nAction: calculator[5 * 4]\nObservation: 20\nThought:"}
    assert llm.calls[0][0][1] == {"role": "assistant", "content": "Thought:"}
    assert all(options.stop == (STOP,) for _, options in llm.calls)
    prompt_tokens = sum(_words(m["content"]) for messages, _ in llm.calls for m in messages)
    usage = result.usage["react"]
    assert (usage.calls, usage.prompt_tokens) == (3, prompt_tokens)
    assert usage.completion_tokens == sum(_words(r) for r in replies)
    assert result.usage["tools"].calls == 0
    assert result.seconds > 0


def test_llm_tool_tokens_count_as_tools(toolkit):
    llm = ScriptedLLM(["Ask.\nAction: LLM[Capital of France?]", "Paris", "Final Answer: Paris"])
    result = run_react(llm, toolkit, "Capital of France?")
    assert result.answer == "Paris"
    assert result.steps[0].observation == "Paris"
    assert (result.usage["react"].calls, result.usage["tools"].calls) == (2, 1)
    assert result.usage["tools"].prompt_tokens == _words(BRIEF) + _words("Capital of France?")


def test_unknown_tool_becomes_an_observation_and_the_loop_goes_on(toolkit):
    llm = ScriptedLLM(["Search it.\nAction: google[2+2]", "Action: Calculator[2+2]", "Final Answer: 4"])
    result = run_react(llm, toolkit, "2+2?")
    assert result.answer == "4"
    assert result.steps[0].observation.startswith("google is not a tool; the tools are: calculator, LLM.")
    assert result.steps[1].observation == "4"  # tool names match case-insensitively


def test_text_without_action_asks_for_the_format(toolkit):
    llm = ScriptedLLM(["I think it is four.", "Final Answer: 4"])
    result = run_react(llm, toolkit, "2+2?")
    assert result.steps[0].observation.startswith("Invalid format: write 'Action: tool[input]'")
    assert result.answer == "4"


def test_tool_failure_becomes_an_observation(toolkit):
    llm = ScriptedLLM(["Action: calculator[1 / 0]", "Final Answer: undefined"])
    result = run_react(llm, toolkit, "1/0?")
    assert result.steps[0].observation.startswith("[error] calculator failed")


def test_running_out_of_iterations_leaves_the_answer_empty(toolkit):
    llm = ScriptedLLM(["Action: calculator[1 + 1]", "Action: calculator[2 + 2]"])
    result = run_react(llm, toolkit, "loop", max_iterations=2)
    assert (result.answer, result.finished, result.iterations) == ("", False, 2)
    assert len(result.steps) == 2 and llm.remaining == 0


@pytest.mark.parametrize(("text", "expected"), [
    ("Thought: x\nAction: calculator[2 * (3 + 4)]", ("calculator", "2 * (3 + 4)")),
    ("Action 2: `calculator`[ '1+1' ]", ("calculator", "1+1")),
    ("Action: search_wiki\nAction Input: Ed Wood nationality", ("search_wiki", "Ed Wood nationality")),
    ("Action: LLM[list [a, b] and more]", ("LLM", "list [a, b] and more")),
    ("Action: calculator[1 + 1]\nObservation: 2\nAction: calculator[2 + 2]", ("calculator", "1 + 1")),
    ("Action: LLM[Summarize:\nline one\nline two]", ("LLM", "Summarize:\nline one\nline two")),
    ("Final Answer: 4", None),
    ("Action: [no tool]", None),
])
def test_parse_action(text, expected):
    assert parse_action(text) == expected


def test_a_restated_thought_label_is_not_doubled(toolkit):
    llm = ScriptedLLM(["Thought: add.\nAction: calculator[1 + 1]", "Thought: done.\nFinal Answer: 2"])
    result = run_react(llm, toolkit, "1+1?")
    assert result.steps[0].thought == "add."
    assert llm.calls[1][0][1]["content"] == "Thought: add.\nAction: calculator[1 + 1]\nObservation: 2\nThought:"


def test_prompt_shows_a_tool_call_with_a_real_tool_name(toolkit):
    llm = ScriptedLLM(["Final Answer: 2"])
    run_react(llm, toolkit, "1+1?")
    prompt = llm.calls[0][0][0]["content"]
    assert "one of [calculator, LLM], then its input in square brackets, like calculator[...]" in prompt


def test_the_worked_example_matches_the_planners():
    from foreplan.eval.react import pick_example

    assert "Action: calculator[(2 * 37 - 10) - 8]" in pick_example({"calculator", "LLM"})
    assert "Action: search_wiki[Jaws film]" in pick_example({"search_wiki", "LLM"})
    assert "Action: LLM[Name one yellow fruit." in pick_example({"save_file", "LLM"})
    assert pick_example({"search_wiki"}) is None


def test_the_answer_stops_at_the_next_label(toolkit):
    llm = ScriptedLLM(["Final Answer: 18 dollars\nQuestion: What is 2 + 2?\nThought: ..."])
    assert run_react(llm, toolkit, "Q?").answer == "18 dollars"


def test_every_planner_example_has_its_react_twin():
    """Both strategies see the same worked task with the same tools (a fair comparison)."""
    from foreplan.eval import react
    from foreplan.plan import examples

    planner = [(tools, text.splitlines()[0].removeprefix("Task: ")) for tools, text in examples.EXAMPLES]
    twins = [(tools, text.splitlines()[0].removeprefix("Question: ")) for tools, text in react.EXAMPLES]
    assert planner == twins
