"""The calculator evaluates what small models write and refuses everything else, fast."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from foreplan.errors import ToolError
from foreplan.tools.calculator import calculator, evaluate


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("(2 ∗ 5 − 10) − 8", -8),  # the ReWOO paper's example, with its unicode operators
        ("2^10", 1024),
        ("2^3+1", 9),  # ^ binds tighter than +, as in math (not as Python's XOR)
        ("2^3^2", 512),  # and is right-associative
        ("2^-1", 0.5),
        ("-3**2", -9),
        ("(-3)**2", 9),
        ("sqrt(16)", 4),
        ("7/2", 3.5),
        ("17 // 5", 3),
        ("17 % 5", 2),
        ("+5 - -2", 7),
        ("6 × 7", 42),
        ("2 · 3", 6),
        ("8 ÷ 2", 4),
        ("5 – 2", 3),
        ("2 * π", 2 * math.pi),
        ("  `1 + 2 =`  ", 3),
        ('"3*3"', 9),
        ("'10 / 4'", 2.5),
        ("1_000 * 2", 2000),
        ("10**20", 10**20),
        ("max(1, 5, 3)", 5),
        ("min(2, 1)", 1),
        ("abs(-4)", 4),
        ("round(2.567, 2)", 2.57),
        ("round(7.6)", 8),
        ("floor(2.7)", 2),
        ("ceil(2.1)", 3),
        ("log(e)", 1),
        ("log(1000, 10)", 3),
        ("log(8, 2)", 3),
        ("log10(1000)", 3),
        ("log2(1024)", 10),
        ("exp(0)", 1),
        ("sin(0)", 0),
        ("cos(pi)", -1),
        ("tan(0)", 0),
        ("factorial(5)", 120),
        ("factorial(5.0)", 120),
        ("SQRT(9) + PI - pi", 3),
        ("2 ** 1000", 2**1000),
    ],
)
def test_evaluates(expression: str, expected: float) -> None:
    assert evaluate(expression) == pytest.approx(expected)


def test_whole_results_are_ints_below_1e15() -> None:
    assert evaluate("6/2") == 3 and type(evaluate("6/2")) is int
    assert type(evaluate("7/2")) is float
    assert type(evaluate("1e14")) is int
    assert type(evaluate("1e15")) is float  # too large for an exact int to be meaningful
    assert type(evaluate("10**20")) is int  # computed from ints: stays exact
    assert evaluate("0.1 + 0.2") == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("expression", "match"),
    [
        ("1/0", r"division by zero at column 2"),
        ("5 % (2 - 2)", "division by zero"),
        ("0 ** -1", "division by zero"),
        ("__import__('os')", "unknown function '__import__'"),
        ("(1).real", "Attribute is not arithmetic"),
        ("os.system('ls')", "only a function name"),
        ("().__class__", "not arithmetic"),
        ("1,000", r"comma outside a function call .* at column 2"),
        ("1,000,000", "write 1000, not 1,000"),
        ("3,5 * 2", "1.5, not 1,5"),
        ("max(1,000)", "thousands separator"),
        ("", "empty"),
        ("  ` =", "empty"),
        ("1 + foo", r"unknown name 'foo' .* at column 5"),
        ("x = 3", "not valid arithmetic"),
        ("2 +", "not valid arithmetic"),
        ("(1 + 2", "never closed"),
        ("sqrt", "sqrt is a function"),
        ("pi(2)", "pi is a constant"),
        ("sqrt(x=4)", "plain numbers"),
        ("sqrt(1, 2)", r"sqrt\(\) takes 1 argument\(s\), not 2"),
        ("min()", "1 or more"),
        ("sqrt(-1)", r"sqrt\(\): undefined for -1"),
        ("log(0)", "undefined"),
        ("factorial(1001)", "0 to 1000"),
        ("factorial(2.5)", "whole number"),
        ("round(1, 1.5)", "whole number"),
        ("(-8) ** (1/3)", "not a real number"),
        ("1e308 * 10", "too large"),
        ("1e999", "too large"),
        ("exp(1000)", "too large"),
        ("sqrt(10**400)", "too large"),
        ("10**3999 * 10**3999", "more than 4000 digits"),
        ("1 << 3", "LShift is not arithmetic"),
        ("3 & 1", "BitAnd"),
        ("1 < 2", "Compare"),
        ("[1, 2]", "List"),
        ("'abc'", "unknown name 'abc'"),
        ("True + 1", "True is not a number"),
        ("1j", "is not a number"),
        ("2(3)", "write 2 \\* \\(3\\)"),
        ("lambda: 1", "Lambda"),
        ("1+" * 600 + "1", "longer than 1000 characters"),
        ("(" * 300 + "1" + ")" * 300, "not valid arithmetic|nested too deeply"),
    ],
)
def test_refuses_with_a_message_for_the_model(expression: str, match: str) -> None:
    with pytest.raises(ToolError, match=match) as info:
        evaluate(expression)
    assert type(info.value) is ToolError
    assert "give a plain arithmetic expression such as (3 + 4) * 2" in str(info.value).lower()


@pytest.mark.parametrize("expression", ["2**100000", "9**9**9", "10 ^ 10 ^ 10", "(10**100) ** (10**100)"])
def test_huge_powers_are_refused_before_they_are_computed(expression: str) -> None:
    # Computing 9**9**9 or (10**100) ** (10**100) would not end: the refusal proves it came first.
    with pytest.raises(ToolError, match="more than 4000 digits"):
        evaluate(expression)


def test_column_counts_characters_of_the_original_text() -> None:
    # "×" and "^" are rewritten before parsing; the column still points into the input
    with pytest.raises(ToolError, match="unknown name 'foo' .* at column 11"):
        evaluate("2 × 2^2 + foo")
    with pytest.raises(ToolError, match="division by zero at column 11"):
        evaluate(" `2^2 × 3 ÷ 0`")  # the column of ÷, counting the stripped space and backtick


def test_long_input_is_shortened_in_the_message() -> None:
    with pytest.raises(ToolError) as info:
        evaluate("y" * 500)
    assert len(str(info.value)) < 400


def test_is_a_tool_with_one_text_input() -> None:
    assert calculator.name == "calculator"
    assert calculator.timeout == 5
    assert calculator.single_input == "expression"
    assert "sqrt" in calculator.description
    assert calculator(expression="(3 + 4) * 2") == 14
    with pytest.raises(ToolError, match="division by zero"):
        calculator(expression="1 / 0")


@given(a=st.integers(-10**6, 10**6), b=st.integers(-10**6, 10**6), op=st.sampled_from(["+", "-", "*"]))
def test_integer_arithmetic_matches_python(a: int, b: int, op: str) -> None:
    expected = {"+": a + b, "-": a - b, "*": a * b}[op]
    result = evaluate(f"{a} {op} {b}")
    assert result == expected and type(result) is int
