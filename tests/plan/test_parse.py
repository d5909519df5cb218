"""The parser reads every near-miss shape small models write, and says exactly where
text that is not a plan goes wrong. Hypothesis checks that rendered plans parse back to
the same steps and that no text makes the parser raise anything but PlanParseError."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from foreplan.errors import PlanParseError
from foreplan.plan.parse import parse_plan
from foreplan.types import Plan, Step


def steps_of(text: str) -> list[tuple[str, str, str, str]]:
    return [(s.id, s.plan, s.tool, s.input) for s in parse_plan(text).steps]


CANONICAL = [("E1", "Find the director.", "search_wiki", "Inception director"),
             ("E2", "List the films.", "query_sql", "SELECT Title FROM omdb WHERE Director = '#E1'")]


@pytest.mark.parametrize(
    "text",
    [
        "Plan: Find the director.\n#E1 = search_wiki[Inception director]\n"
        "Plan: List the films.\n#E2 = query_sql[SELECT Title FROM omdb WHERE Director = '#E1']\n",
        "Step 1: Find the director.\n#E1 = search_wiki[Inception director]\n"
        "Step 2: List the films.\n#E2 = query_sql[SELECT Title FROM omdb WHERE Director = '#E1']",
        "1. Find the director.\n#E1 = search_wiki[Inception director]\n"
        "2. List the films.\n#E2 = query_sql[SELECT Title FROM omdb WHERE Director = '#E1']",
        "Plan 1: Find the director.\n#E1 = search_wiki[Inception director]\n"
        "Plan 2: List the films.\n#E2 = query_sql[SELECT Title FROM omdb WHERE Director = '#E1']",
        "**Plan:** Find the director.\n#E1 = search_wiki[Inception director]\n"
        "**Plan 2:** List the films.\n#E2 = query_sql[SELECT Title FROM omdb WHERE Director = '#E1']",
        "- **Step 1**: Find the director.\n#E1 = search_wiki[Inception director]\n"
        "- **Step 2**: List the films.\n#E2 = query_sql[SELECT Title FROM omdb WHERE Director = '#E1']",
        "Plan: Find the director. #E1 = search_wiki[Inception director]\n"
        "Plan: List the films. #E2 = query_sql[SELECT Title FROM omdb WHERE Director = '#E1']",
        "1. Find the director. #E1 = search_wiki[Inception director]\n"
        "2. List the films. #E2: query_sql[SELECT Title FROM omdb WHERE Director = '#E1']",
        "Plan: Find the director.\nE1: search_wiki[Inception director]\n"
        "Plan: List the films.\nE2: query_sql[SELECT Title FROM omdb WHERE Director = '#E1']",
        "Plan: Find the director.\n#E1=search_wiki [ Inception director ]\n"
        "Plan: List the films.\n#E02 =query_sql[SELECT Title FROM omdb WHERE Director = '#E1']",
        "Plan: Find the director.\r\n#E1 = search_wiki[Inception director]\r\n"
        "Plan: List the films.\r\n#E2 = query_sql[SELECT Title FROM omdb WHERE Director = '#E1']\r\n",
        "Plan: Find the director.\n\n\n#E1 = search_wiki[Inception director]\n\n\n"
        "Plan: List the films.\n\n#E2 = query_sql[SELECT Title FROM omdb WHERE Director = '#E1']\n\n",
        "Plan: Find the director.\n#E1 = search_wiki[Inception director]\n"
        "Plan: List the films.\n#E2 = query_sql[SELECT Title FROM omdb WHERE Director = '#E1']\n"
        "That is the whole plan. Plan: none of this is read.\nE3 would be the answer.",
        "Sure! Here is my plan.\n\nPlan: Find the director.\n#E1 = search_wiki[Inception director]\n"
        "Plan: List the films.\n#E2 = query_sql[SELECT Title FROM omdb WHERE Director = '#E1']",
        "1. Find the director. #E1 = search_wiki[Inception director] "
        "2. List the films. #E2 = query_sql[SELECT Title FROM omdb WHERE Director = '#E1']",
    ],
    ids=["canonical", "step-n", "numbered", "plan-n", "bold", "bullet-bold", "same-line", "numbered-same-line",
         "no-hash-colon", "spacing-and-zero", "crlf", "blank-lines", "trailing-commentary",
         "leading-commentary", "two-steps-one-line"],
)
def test_tolerant_forms_give_the_same_steps(text: str) -> None:
    assert steps_of(text) == CANONICAL


def test_lines_and_text_are_kept() -> None:
    text = "Plan: a\n#E1 = search_wiki[x]\n\nPlan: b\n#E2 = search_wiki[#E1]\n"
    plan = parse_plan(text)
    assert [s.line for s in plan.steps] == [2, 5]
    assert plan.text == text


def test_bold_is_skipped_only_around_the_label() -> None:
    assert steps_of("Plan: **Bold** first.\n#E1 = t[x]")[0][1] == "**Bold** first."
    assert steps_of("**Step 1.** First.\n#E1 = t[x]")[0][1] == "First."


def test_plan_text_wrapped_over_two_lines() -> None:
    text = "Plan: Find the director\n  of the film Inception.\n#E1 = search_wiki[Inception]"
    assert steps_of(text) == [("E1", "Find the director of the film Inception.", "search_wiki", "Inception")]


def test_e10_is_not_e1_followed_by_zero() -> None:
    text = ("Plan: a\n#E1 = search_wiki[x]\nPlan: b\n#E10 = search_wiki[y]\n"
            "Plan: c\n#E11 = query_sql[#E10 and #E1 and #E10.rows[0].Title]")
    plan = parse_plan(text)
    assert [s.id for s in plan.steps] == ["E1", "E10", "E11"]
    assert plan.step("E11").depends_on == ["E10", "E1"]
    assert parse_plan("Plan: a\n#E2 = search_wiki[#E10]").steps[0].depends_on == ["E10"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("#E1 = query_sql[SELECT * FROM t WHERE id IN [1, 2]]", "SELECT * FROM t WHERE id IN [1, 2]"),
        ("#E1 = query_sql[[[a], [b, [c]]]] and then", "[[a], [b, [c]]]"),
        ("#E1 = calculator[max([#E2.rows[0].n, 3])]", "max([#E2.rows[0].n, 3])"),
        ("#E1 = query_sql[SELECT \"a]\" FROM t WHERE d = 'Nolan'", "SELECT \"a"),
        ("#E1 = search_wiki[it's \"quoted\" and 'single']", "it's \"quoted\" and 'single'"),
        ("#E1 = query_sql[unbalanced [open ] trailing]", "unbalanced [open ] trailing"),
        ("#E1 = search_wiki[ spaced ]", "spaced"),
        ("#E1 = search_wiki[a\x0cb\x85c\u2028d]", "a\x0cb\x85c\u2028d"),
    ],
    ids=["nested-in", "deep", "reference-path", "bracket-in-quotes", "quotes", "unbalanced", "strip",
         "unicode-breaks-are-not-newlines"],
)
def test_inputs_keep_brackets_and_quotes(line: str, expected: str) -> None:
    assert parse_plan(f"Plan: p\n{line}").steps[0].input == expected


def test_non_ascii_and_huge_step_numbers() -> None:
    assert parse_plan("Plan: p\n#E\u0663 = search_wiki[x]").steps[0].id == "E3"  # ARABIC-INDIC THREE
    huge = "1" * 5000  # int() refuses more than 4300 digits
    assert parse_plan(f"Plan: p\n#E{huge} = search_wiki[x]").steps[0].id == f"E{huge}"


# --- errors: where exactly ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("", 1, 1),
        ("\n\n   \n", 1, 1),
        ("I cannot make a plan for that.", 1, 1),
        ("\n\n   Let me think.\nPlan: search it", 3, 4),
        ("Plan: Find the director.\nsearch_wiki(Inception)\n", 1, 1),
    ],
    ids=["empty", "blank", "prose", "indented-prose", "no-assignment"],
)
def test_no_steps_at_all(text: str, line: int, column: int) -> None:
    with pytest.raises(PlanParseError, match=r"no step found: each step needs a line like '#E1 = tool_name\[input\]'") as info:
        parse_plan(text)
    assert (info.value.line, info.value.column) == (line, column)
    assert str(info.value).startswith(f"line {line}, column {column}: ")
    assert info.value.text == text


def test_unclosed_bracket_points_at_it() -> None:
    text = "Plan: a\n#E1 = search_wiki[x]\nPlan: b\n  #E2 = query_sql[SELECT Title FROM omdb\n"
    with pytest.raises(PlanParseError, match=r"^line 4, column 18: the input of #E2 opens '\[' but never closes it") as info:
        parse_plan(text)
    assert text.split("\n")[info.value.line - 1][info.value.column - 1] == "["


def test_input_wrapped_over_two_lines_is_an_unclosed_bracket() -> None:
    with pytest.raises(PlanParseError, match=r"^line 2, column 18: .*on one line"):
        parse_plan("Plan: a\n#E1 = search_wiki[Inception\ndirector]")


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("Plan: a\n#E1 = search_wiki[x]\nPlan: b\n#E2 = sear", 4, 1),
        ("Plan: a\n#E1 = search_wiki[x]\n\n   #E2 = search wiki[y]", 4, 4),
        ("Plan: a\n#E1 =", 2, 1),
    ],
    ids=["cut-off-tool", "space-in-tool", "cut-off-after-equals"],
)
def test_a_step_that_is_not_one_is_an_error(text: str, line: int, column: int) -> None:
    with pytest.raises(PlanParseError, match=r"is not a step; write each step as #E1 = tool_name\[input\]") as info:
        parse_plan(text)
    assert (info.value.line, info.value.column) == (line, column)


def test_non_string_is_a_parse_error() -> None:
    with pytest.raises(PlanParseError, match="plan text must be a string"):
        parse_plan(None)  # type: ignore[arg-type]


# --- properties --------------------------------------------------------------------------

_LINE_CHARS = st.characters(blacklist_characters="\n", blacklist_categories=("Cs",))
_ASSIGNMENT_LIKE = re.compile(r"E\d+\s*[=:]")

tool_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,11}", fullmatch=True)
# Pieces that look like plan syntax, mixed with arbitrary text, find more than text alone.
_TRICKY = st.sampled_from(["Plan:", "Step 2.", "1.", "**", "#E1", "#E10", "E2", " = ", ":", "'", '"', "\t", "\r", "\x0c"])


def _line_text(pieces: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(_TRICKY, pieces), max_size=6).map("".join)


plan_texts = (_line_text(st.text(_LINE_CHARS, max_size=8)).map(str.strip)
              .filter(lambda t: not _ASSIGNMENT_LIKE.search(t)))
inputs = st.recursive(
    _line_text(st.text(st.characters(blacklist_characters="\n[]", blacklist_categories=("Cs",)), max_size=8)),
    lambda inner: st.lists(st.one_of(inner, inner.map(lambda s: f"[{s}]")), max_size=3).map("".join),
    max_leaves=6,
).map(str.strip)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    n = draw(st.integers(1, 6))
    return Plan(tuple(
        Step(f"E{k}", draw(plan_texts), draw(tool_names), draw(inputs)) for k in range(1, n + 1)
    ))


@settings(max_examples=300)
@given(plans())
def test_rendered_plans_parse_back_to_the_same_steps(plan: Plan) -> None:
    text = plan.render()
    parsed = parse_plan(text)
    assert [(s.id, s.plan, s.tool, s.input) for s in parsed.steps] == [
        (s.id, s.plan, s.tool, s.input) for s in plan.steps
    ]
    assert [s.line for s in parsed.steps] == list(range(2, 2 * len(plan.steps) + 1, 2))


def _check_parse(text: str) -> None:
    try:
        plan = parse_plan(text)
    except PlanParseError as exc:
        assert 1 <= exc.line <= text.count("\n") + 1
        assert exc.column >= 1
        return
    assert plan.steps and plan.text == text


@settings(max_examples=300)
@given(st.text())
def test_any_text_parses_or_raises_plan_parse_error(text: str) -> None:
    _check_parse(text)


plan_fragments = st.sampled_from(
    ["#E", "E", "1", "10", "0", " = ", "=", ":", "tool", "[", "]", "Plan:", "Step 2.", "**", "\n", "\r\n", " ", "x", "'"]
)


@settings(max_examples=500)
@given(st.lists(plan_fragments, max_size=25).map("".join))
def test_plan_shaped_noise_parses_or_raises_plan_parse_error(text: str) -> None:
    _check_parse(text)


def test_a_step_and_its_reference_agree_on_unicode_digits():
    # One normalisation for both: "#E١" (Arabic-Indic one) defines E1, and a reference
    # written the same way depends on E1, not on an id no step has.
    plan = parse_plan("Plan: a\n#E١ = calculator[1 + 1]\nPlan: b\n#E2 = calculator[#E١ * 2]\n")
    assert [s.id for s in plan.steps] == ["E1", "E2"]
    assert plan.steps[1].depends_on == ["E1"]
