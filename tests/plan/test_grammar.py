"""The plan grammar admits every well-formed plan for its toolkit and nothing that would
fail to parse or validate, as llama.cpp's own grammar engine judges it, token by token
on the embedded Qwen vocabulary (``grammar_accepts``)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foreplan.llm.gbnf import check_grammar, grammar_accepts
from foreplan.plan.grammar import plan_grammar
from foreplan.plan.parse import parse_plan
from foreplan.plan.validate import validate_plan
from foreplan.tools.call_syntax import written_arguments
from foreplan.tools.tool import Tool, tool
from foreplan.tools.toolkit import Toolkit

pytestmark = pytest.mark.gguf

MAX_STEPS = 12


def _echo(text: str) -> str:
    """Return the text.

    Args:
        text: anything.
    """
    return text


def toolkit_of(n: int) -> Toolkit:
    return Toolkit([tool(name=f"tool_{i}")(_echo) for i in range(n)])


# --- what a valid plan looks like, piece by piece ------------------------------------------

# Letters, digits, punctuation, symbols and spaces: what a model writes (no control codes).
_CHARS = st.characters(categories=("L", "N", "P", "S", "Zs"))
words = st.text(_CHARS.filter(lambda c: c not in "#[]"), min_size=1, max_size=12)
fields = st.lists(
    st.one_of(st.from_regex(r"\.[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True), st.integers(0, 99).map(lambda i: f"[{i}]")),
    max_size=3,
).map("".join)
seps = st.sampled_from([" ", ", ", "'", ")", "-", " + ", "\t"])
hashes = st.sampled_from(["C# ", "#1 ", "# ", "issue #42 "])


def input_pieces(k: int) -> st.SearchStrategy[str]:
    """One piece of step k's input: text, ``#`` text, a reference to an earlier step
    followed by a non-digit, or brackets around more pieces."""
    flat = [words, hashes]
    if k > 1:
        flat.append(st.tuples(st.integers(1, k - 1), fields, seps).map(lambda t: f"#E{t[0]}{t[1]}{t[2]}"))
    return st.recursive(st.one_of(*flat), lambda inner: st.lists(inner, max_size=3).map(lambda p: f"[{''.join(p)}]"),
                        max_leaves=4)


@st.composite
def inputs(draw: st.DrawFn, k: int) -> str:
    text = "".join(draw(st.lists(input_pieces(k), min_size=1, max_size=4)))
    if k > 1 and draw(st.booleans()):  # a reference may also end the input
        text += f"#E{draw(st.integers(1, k - 1))}{draw(fields)}"
    return text if text.strip() else text + "x"


@st.composite
def plan_texts(draw: st.DrawFn, toolkit: Toolkit) -> str:
    n = draw(st.integers(1, MAX_STEPS) | st.integers(1, 3))
    steps = []
    for k in range(1, n + 1):
        why = draw(st.sampled_from("1. (")) * draw(st.integers(0, 1)) + draw(
            st.characters(categories=("L",))) + draw(st.text(_CHARS.filter(lambda c: c != "["), max_size=30))
        steps.append(f"Plan: {why}\n#E{k} = {draw(st.sampled_from(toolkit.names))}[{draw(inputs(k))}]")
    text = "".join(s + draw(st.sampled_from(["\n", "\n\n"])) for s in steps[:-1]) + steps[-1]
    return text + draw(st.sampled_from(["", "\n"]))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_accepts_valid_plans_that_parse_and_validate(llama: Any, text_toolkit: Toolkit, data: st.DataObject) -> None:
    grammar = plan_grammar(text_toolkit, MAX_STEPS)
    text = data.draw(plan_texts(text_toolkit))
    assert grammar_accepts(llama, grammar, text)
    plan = parse_plan(text)
    assert [s.id for s in plan.steps] == [f"E{k}" for k in range(1, len(plan.steps) + 1)]
    # A field of a text result (#E1.A after search_wiki) is the one problem the grammar
    # cannot see: a reference names a step, not the type its tool returns. The validator
    # reports it and the repair round fixes it.
    assert [p for p in validate_plan(plan, text_toolkit, MAX_STEPS) if p.code != "no_such_field"] == []


# --- fixed examples: each rejected text next to the closest text that is accepted ----------

STEP1 = "Plan: Find the director.\n#E1 = search_wiki[Inception director]\n"
STEP2 = "Plan: List the films.\n#E2 = query_sql[SELECT Title FROM omdb WHERE Director = '#E1' AND Year IN [2010, 2014]]\n"


@pytest.mark.parametrize(
    "text",
    [
        STEP1,
        STEP1 + STEP2,
        STEP1 + "\n" + STEP2.rstrip("\n"),
        STEP1 + "Plan: Search one.\n#E2 = search_wiki[#E1.rows[0].Title]",
        STEP1 + "Plan: Nest.\n#E2 = query_sql[max([#E1, [1, [2]]])]",
        "Plan: Look up C#.\n#E1 = search_wiki[C#]",
        "Plan: Say #1 (no bracket here), C# and **bold**.\n#E1 = search_wiki[issue #42, 'quoted' \"too\"]",
        "Plan: 1. Find it.\n#E1 = search_wiki[x]",
        "Plan: 找到导演。\n#E1 = search_wiki[x]",
    ],
    ids=["one-step", "two-steps", "blank-line", "typed-field", "nested-brackets", "c-sharp", "hash-and-quotes",
         "numbered", "chinese"],
)
def test_accepts(llama: Any, text_toolkit: Toolkit, text: str) -> None:
    assert grammar_accepts(llama, plan_grammar(text_toolkit, 3), text)


@pytest.mark.parametrize(
    ("good", "bad"),
    [
        (STEP1, STEP1.replace("search_wiki", "search_web")),
        (STEP1 + STEP2, STEP1 + STEP2.replace("#E1", "#E3")),
        (STEP1 + STEP2, STEP1 + STEP2.replace("#E1", "#E2")),
        (STEP1 + STEP2, STEP1 + STEP2.replace("#E1", "#E10")),
        (STEP1 + STEP2, STEP1 + STEP2.replace("#E1", "#E1[x]")),
        (STEP1, "Plan: Find the director.\n#E1 = search_wiki[#E1]\n"),
        (STEP1, STEP1.replace("Inception director", "")),
        (STEP1, STEP1.replace("Inception director", " \t\u3000")),
        (STEP1 + STEP2, STEP1 + STEP2.replace("Plan: List the films.\n", "")),
        (STEP1, STEP1.replace("Plan: ", "")),
        (STEP1, STEP1.replace("Plan: ", "Step 1: ")),
        (STEP1 + STEP2, STEP1 + STEP2.replace("#E2", "#E3", 1)),
        (STEP1, STEP1.replace("the director.", "E2: search_wiki[x] first.")),
        (STEP1, STEP1.replace("Inception director", "Inception\ndirector")),
        (STEP1 + STEP2, STEP1 + "\n\n" + STEP2),
        (STEP1, STEP1 + "\n\n"),
        (STEP1, STEP1 + "That is the plan."),
        (STEP1, STEP1.replace("Find the director.", "#E1 = search_wiki(Inception director)")),
        (STEP1, STEP1.replace("Find the director.", "#1")),
        (STEP1, STEP1.replace("Find the director.", "1.")),
    ],
    ids=["unknown-tool", "forward-reference", "self-reference", "e10-of-two-steps", "reference-then-bracket",
         "reference-in-step-1", "empty-input", "blank-input", "missing-plan-line", "no-plan-label", "step-label",
         "skipped-number", "assignment-in-plan-line", "newline-in-input", "two-blank-lines", "trailing-blank-lines",
         "trailing-commentary", "step-written-on-the-plan-line", "plan-line-of-a-number-sign",
         "plan-line-without-a-word"],
)
def test_rejects(llama: Any, text_toolkit: Toolkit, good: str, bad: str) -> None:
    grammar = plan_grammar(text_toolkit, 3)
    assert grammar_accepts(llama, grammar, good)
    assert not grammar_accepts(llama, grammar, bad)


def test_a_plan_line_that_reads_as_a_step_is_rejected_because_it_parses_as_one() -> None:
    assert len(parse_plan(STEP1.replace("the director.", "E2: search_wiki[x] first.")).steps) == 2


def test_rejects_more_than_max_steps(llama: Any, text_toolkit: Toolkit) -> None:
    text = "".join(f"Plan: Step {k}.\n#E{k} = search_wiki[q{k} #E{k - 1}]\n" for k in range(2, 5))
    text = STEP1 + text
    assert grammar_accepts(llama, plan_grammar(text_toolkit, 4), text)
    assert not grammar_accepts(llama, plan_grammar(text_toolkit, 3), text)
    assert not grammar_accepts(llama, plan_grammar(text_toolkit, 3), text, complete=False)


@pytest.mark.parametrize("cut", ["Plan: Find", "Plan: Find the director.\n", "Plan: Find the director.\n#E1 = sear",
                                 "Plan: Find the director.\n#E1 = search_wiki[Incep", STEP1 + "Plan: List"])
def test_rejects_a_plan_cut_off_mid_step(llama: Any, text_toolkit: Toolkit, cut: str) -> None:
    grammar = plan_grammar(text_toolkit, 3)
    assert grammar_accepts(llama, grammar, cut, complete=False)  # a prefix of a plan
    assert not grammar_accepts(llama, grammar, cut)  # but the model may not stop there


def test_two_digit_references(llama: Any) -> None:
    toolkit = toolkit_of(1)
    grammar = plan_grammar(toolkit, MAX_STEPS)
    head = "".join(f"Plan: p{k}.\n#E{k} = tool_0[x{k}]\n" for k in range(1, 10))

    def step(k: int, text: str) -> str:
        return f"Plan: p{k}.\n#E{k} = tool_0[{text}]\n"

    assert grammar_accepts(llama, grammar, head + step(10, "#E9 and #E1"))
    assert not grammar_accepts(llama, grammar, head + step(10, "#E10"))
    assert not grammar_accepts(llama, grammar, head + step(10, "#E11"))
    assert grammar_accepts(llama, grammar, head + step(10, "x") + step(11, "#E10 #E1"))
    assert grammar_accepts(llama, grammar, head + step(10, "x") + step(11, "#E1 0"))
    assert not grammar_accepts(llama, grammar, head + step(10, "x") + step(11, "#E11"))


@pytest.mark.parametrize("n_tools", [1, 10])
@pytest.mark.parametrize("max_steps", [1, MAX_STEPS])
def test_compiles(llama: Any, n_tools: int, max_steps: int) -> None:
    toolkit = toolkit_of(n_tools)
    grammar = plan_grammar(toolkit, max_steps)
    check_grammar(llama._model.vocab, grammar)
    one_step = f"Plan: p.\n#E1 = tool_{n_tools - 1}[x]"
    assert grammar_accepts(llama, grammar, one_step)  # may stop after any complete step
    two_steps = one_step + "\nPlan: q.\n#E2 = tool_0[#E1]"
    assert grammar_accepts(llama, grammar, two_steps) is (max_steps > 1)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one tool"):
        plan_grammar(Toolkit(), 3)
    with pytest.raises(ValueError, match="max_steps must be at least 1"):
        plan_grammar(toolkit_of(1), 0)


def test_tool_names_are_rendered_as_literals() -> None:
    named: Tool = tool(name="say_hi")(_echo)
    assert 'tool ::= "say_hi"' in plan_grammar(Toolkit([named]), 1)


def test_a_replan_grammar_numbers_on_and_may_cite_every_earlier_step(llama: Any, text_toolkit: Toolkit) -> None:
    grammar = plan_grammar(text_toolkit, 2, first=3)
    assert grammar_accepts(llama, grammar, "Plan: Use both.\n#E3 = search_wiki[#E1 and #E2.rows[0]]")
    assert grammar_accepts(llama, grammar, "Plan: a.\n#E3 = search_wiki[x]\nPlan: b.\n#E4 = search_wiki[#E3]")
    assert not grammar_accepts(llama, grammar, "Plan: Start over.\n#E1 = search_wiki[x]")
    assert not grammar_accepts(llama, grammar, "Plan: Itself.\n#E3 = search_wiki[#E3]")
    with pytest.raises(ValueError, match="first must be at least 1"):
        plan_grammar(text_toolkit, 2, first=0)


# --- keyword-only inputs for tools whose input did not fit (the repair round) --------------

@tool
def send_note(to: str, text: str, urgent: bool = False, copies: int = 1) -> str:
    """Send a note.

    Args:
        to: who gets it.
        text: what it says.
        urgent: whether to ring.
        copies: how many.
    """
    return text


NAMED = Toolkit([tool(name="search_wiki")(_echo), send_note])
NOTE = "Plan: Find it.\n#E1 = search_wiki[Inception]\nPlan: Tell Bob.\n#E2 = send_note["


@pytest.mark.parametrize(
    "arguments",
    ["to='Bob', text='#E1'", "to='Bob', text=#E1", "to=\"Bob's desk\", text='It is #E1, see #E1.'",
     "to='Bob', text='x', urgent=true", "to='Bob', text=\"C# and 'quotes'\"", "to='Bob', text='x', urgent=#E1",
     "to='Bob', text='x', urgent=false, copies=-2"],
    ids=["quoted-reference", "bare-reference", "apostrophe-and-fields", "optional", "hash-and-quotes",
         "flag-from-a-reference", "integer"],
)
def test_a_named_tool_takes_its_own_keyword_arguments(llama: Any, arguments: str) -> None:
    text = NOTE + arguments + "]"
    assert grammar_accepts(llama, plan_grammar(NAMED, 3, named={"send_note"}), text)
    plan = parse_plan(text)
    assert validate_plan(plan, NAMED, 3) == []
    written = written_arguments(plan.steps[1].input, ["to", "text", "urgent", "copies"])
    assert written is not None and set(written) <= {"to", "text", "urgent", "copies"}
    assert "#E1" in str(written) or "#E1" not in arguments


@pytest.mark.parametrize(
    "arguments",
    ["Send Bob #E1", "'Bob', '#E1'", "to='Bob'", "to='Bob', text='x', cc='Ann'", "text='x', to='Bob'",
     "to='Bob', text='#E2'", "to='Bob', text='a\\'b'", "to='Bob', text=3.5", "to='Bob', text=['a', #E1]",
     "to='Bob', text=false", "to='Bob', text='x', urgent='yes'", "to='Bob', text='x', urgent=true, copies=2.5"],
    ids=["free-text", "positional", "missing-required", "unknown-argument", "out-of-order", "forward-reference",
         "backslash", "number-for-text", "list-for-text", "flag-for-text", "text-for-a-flag", "fraction-for-an-integer"],
)
def test_a_named_tool_takes_nothing_else(llama: Any, arguments: str) -> None:
    grammar = plan_grammar(NAMED, 3, named={"send_note"})
    assert not grammar_accepts(llama, grammar, NOTE + arguments + "]")
    assert grammar_accepts(llama, plan_grammar(NAMED, 3), NOTE + arguments + "]") or "#E2" in arguments


def test_a_one_input_tool_stays_free_text_when_named(llama: Any) -> None:
    grammar = plan_grammar(NAMED, 3, named={"search_wiki", "send_note"})
    check_grammar(llama._model.vocab, grammar)
    assert grammar_accepts(llama, grammar, "Plan: Find it.\n#E1 = search_wiki[Inception director]")
    only_named = plan_grammar(Toolkit([send_note]), 2, named={"send_note"})
    assert grammar_accepts(llama, only_named, "Plan: Tell Bob.\n#E1 = send_note[to='Bob', text='hi']")
    assert "tool ::=" not in only_named


def test_each_tool_choice_option_is_what_the_grammar_admits_there(llama: Any) -> None:
    import re

    from foreplan.plan.grammar import tool_choices

    toolkit = toolkit_of(3)
    grammar = plan_grammar(toolkit, 2)
    with_space, without = tool_choices(toolkit)
    for written, choice in (("Plan: Echo it.\n#E1 =", with_space), ("Plan: Echo it.\n#E1 = ", without)):
        assert re.search(f"(?:{choice.after})$", written)
        assert not any(re.search(f"(?:{c.after})$", written) for c in (with_space, without) if c is not choice)
        for option in choice.options:
            assert grammar_accepts(llama, grammar, written + option + choice.then + "a]")
