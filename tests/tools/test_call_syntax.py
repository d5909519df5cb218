"""How a step's input reads as a tool's arguments: keywords, positional values, JSON, with
``#E`` references kept as text, whether bare or inside a string of either quote."""

from __future__ import annotations

import pytest

from foreplan.tools.call_syntax import call_arguments, json_arguments, positional_values, written_arguments

PARAMS = ["to", "text", "urgent"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("to='Bob', text=#E1", {"to": "Bob", "text": "#E1"}),
        ("'Bob', #E1.body", {"to": "Bob", "text": "#E1.body"}),
        ("to=\"Bob's desk\", text=#E1", {"to": "Bob's desk", "text": "#E1"}),
        ("to='say \"hi\"', text=#E2.rows[0]", {"to": 'say "hi"', "text": "#E2.rows[0]"}),
        ("to='Bob', text='It is #E1 now'", {"to": "Bob", "text": "It is #E1 now"}),
        ("to='Bob', text='x', urgent=true", {"to": "Bob", "text": "x", "urgent": True}),
        ("to='Bob', text=2 * #E1", {"to": "Bob", "text": "2 * #E1"}),
    ],
    ids=["keyword-reference", "positional-field", "apostrophe-then-reference", "double-quotes-inside",
         "reference-inside-a-string", "json-spelling", "arithmetic"],
)
def test_call_arguments(text: str, expected: dict) -> None:
    assert call_arguments(text, PARAMS) == expected
    assert written_arguments(text, PARAMS) == expected


@pytest.mark.parametrize("text", ["Send Bob the weather", "'a', 'b', 'c', 'd'", "to='a', to='b'", "to='Bob's desk'",
                                  "to='Bob', text=#E1 + x"])
def test_not_call_arguments(text: str) -> None:
    assert call_arguments(text, PARAMS) is None


def test_json_and_positional_counts() -> None:
    assert json_arguments('{"to": "Bob", "text": #E1}') == {"to": "Bob", "text": "#E1"}
    assert json_arguments('{"to": "Bob\'s", "text": "#E1"}') == {"to": "Bob's", "text": "#E1"}
    assert positional_values("'Uber', 'Eiffel Tower', 'Uber'") == 3
    assert positional_values("to='Bob'") is None
