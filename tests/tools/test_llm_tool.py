"""The LLM tool answers as briefly as the question's form allows (issue 19: tokens written are seconds)."""

from __future__ import annotations

import pytest

from foreplan.llm.scripted import ScriptedLLM
from foreplan.tools.context import RunContext
from foreplan.tools.llm_tool import BRIEF, FREE_TOKENS, LONG_TOKENS, SHORT_TOKENS, answer_budget, make_llm_tool


@pytest.mark.parametrize("question", [
    "Who directed the film Jaws? Reply with the name only. Context: [long search results about a lot]",
    "In what year was Steven Spielberg born? Context: ...",
    "How many people live in Paris? Context: The text explains at length how many ...",
    "Is the Speaker of the House older this year than last year? Reply with \"Yes\" or \"No\".",
    "Name the capital of France. Reply with the city only.",
    "Which of the two films came out first? Evidence: #E1",
])
def test_names_numbers_dates_and_yes_no_get_a_short_budget(question: str) -> None:
    assert answer_budget(question) == SHORT_TOKENS


@pytest.mark.parametrize("question", [
    "Summarize what the President said about inflation. Context: who, when, how many ... only",
    "Explain why the sky is blue.",
    "Write a short note to the team about the offsite.",
])
def test_other_instructions_get_a_paragraph(question: str) -> None:
    assert answer_budget(question) == LONG_TOKENS


def test_the_tool_asks_briefly_and_stops_at_a_blank_line() -> None:
    llm = ScriptedLLM(["Steven Spielberg", "A paragraph."])
    brief = make_llm_tool()
    assert brief.run({"input": "Who directed Jaws? Reply with the name only."}, RunContext(llm=llm)) == "Steven Spielberg"
    assert brief.run({"input": "Explain the plot of Jaws."}, RunContext(llm=llm)) == "A paragraph."
    (first, short), (_, long) = llm.calls
    assert first[0] == {"role": "system", "content": BRIEF} and first[1]["role"] == "user"
    assert (short.max_tokens, short.stop) == (SHORT_TOKENS, ("\n\n",))
    assert (long.max_tokens, long.stop) == (LONG_TOKENS, ())


def test_without_brief_answers_the_tool_is_as_it_was() -> None:
    llm = ScriptedLLM(["Steven Spielberg"])
    make_llm_tool(brief=False).run({"input": "Who directed Jaws?"}, RunContext(llm=llm))
    (messages, options), = llm.calls
    assert messages == [{"role": "user", "content": "Who directed Jaws?"}] and options.max_tokens == FREE_TOKENS
