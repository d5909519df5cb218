"""The function caller never sends a number the step does not state, and reads bare
words written as positional arguments (``#E2, USD, EUR``) without a model."""

from __future__ import annotations

import pytest

from foreplan import ScriptedLLM, tool
from foreplan.errors import ToolError
from foreplan.execute.arguments import check_numbers, said_numbers
from foreplan.execute.caller import FunctionCaller
from foreplan.types import Step


@tool
def convert_currency(amount: float, source: str, target: str, digits: int = 2) -> float:
    """Convert money at fixed rates.

    Args:
        amount: how much money.
        source: the currency code of the amount, e.g. USD.
        target: the currency code to convert to, e.g. EUR.
        digits: decimals to keep.
    """
    return amount


def step(text: str, plan: str = "Convert the salary.") -> Step:
    return Step("E3", plan, "convert_currency", text)


def test_bare_words_in_positional_arguments_need_no_model() -> None:
    caller = FunctionCaller(ScriptedLLM([]))  # fails loudly if asked
    template, _ = caller.template(step("#E2, USD, EUR"), convert_currency)
    assert template == {"amount": "#E2", "source": "USD", "target": "EUR"}


def test_a_bare_word_that_does_not_fit_its_argument_goes_to_the_model() -> None:
    caller = FunctionCaller(ScriptedLLM(['{"amount": 12, "source": "USD", "target": "EUR"}']))
    template, _ = caller.template(step("twelve, dollars to euros", "Convert 12 dollars."), convert_currency)
    assert template == {"amount": 12, "source": "USD", "target": "EUR"}


def test_a_number_the_step_does_not_state_is_refused_with_the_reason() -> None:
    caller = FunctionCaller(ScriptedLLM(['{"amount": 1000, "source": "USD", "target": "EUR"}']))
    with pytest.raises(ToolError, match=r"amount=1000 for convert_currency, a number the step does not state"):
        caller.template(step("the salary #E2 from dollars into euros"), convert_currency)


def test_numbers_in_words_percentages_and_defaults_count_as_stated() -> None:
    assert {1, 3, 12} <= said_numbers("the third of a dozen, once")
    check_numbers({"amount": 0.05, "digits": 2}, {"digits": 2}, "5% of it", "convert_currency")
    check_numbers({"amount": "1,000", "source": "USD"}, {}, "1000 dollars", "convert_currency")
    check_numbers({"amount": "#E2", "target": "EUR"}, {}, "#E2 to euros", "convert_currency")
    with pytest.raises(ToolError, match=r"digits=4"):
        check_numbers({"amount": "#E2", "digits": 4}, {"digits": 2}, "#E2 to euros", "convert_currency")
