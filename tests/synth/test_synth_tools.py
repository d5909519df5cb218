"""The synthetic tools: real tools with schemas, deterministic offline answers, clear errors."""

from __future__ import annotations

import pytest

from foreplan.errors import ToolError
from foreplan.synth.tools import HELDOUT_TOOLS, SYNTH_TOOLS, convert_currency, get_flight_status, get_weather
from foreplan.tools.toolkit import Toolkit


def test_every_tool_is_described_for_the_planner() -> None:
    toolkit = Toolkit(SYNTH_TOOLS)
    assert HELDOUT_TOOLS <= set(toolkit.names)
    for line in toolkit.describe():
        assert "Returns:" in line and ".." not in line


def test_answers_depend_only_on_the_input() -> None:
    assert get_weather(city="Paris") == get_weather(city=" paris ") | {"city": "Paris"}
    assert get_weather(city="Paris") != get_weather(city="Tokyo")


def test_currency_conversion_uses_the_fixed_rates() -> None:
    assert convert_currency(amount=100, source="usd", target="EUR") == {
        "amount": 100.0, "source": "USD", "target": "EUR", "rate": 0.92, "converted": 92.0}
    with pytest.raises(ToolError, match="unknown currency 'XYZ'"):
        convert_currency(amount=1, source="XYZ", target="EUR")


def test_a_bad_flight_number_is_refused() -> None:
    with pytest.raises(ToolError, match="not a flight number"):
        get_flight_status(flight="to Paris")
