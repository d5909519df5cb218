"""Decoding replies and scoring them with BFCL's real AST checker (``foreplan.eval.bfcl_checker``).

The questions are the first of each category in the installed ``bfcl-eval`` package.
"""

from __future__ import annotations

import json
import sys

import pytest

pytest.importorskip("bfcl_eval", reason="pip install --no-deps bfcl-eval==2026.3.23")

from foreplan.eval.bfcl_checker import decode_calls, load_ast_checker, reason_for, score
from foreplan.eval.bfcl_data import BfclQuestion, load_category


def call(name: str, **arguments: object) -> str:
    return "<tool_call>\n" + json.dumps({"name": name, "arguments": arguments}) + "\n</tool_call>"


def first(category: str) -> BfclQuestion:
    return load_category(category, limit=1)[0]


@pytest.fixture(scope="module")
def check():
    return load_ast_checker()


def test_the_stub_keeps_every_model_handler_out(check) -> None:
    assert "bfcl_eval.eval_checker.ast_eval.ast_checker" in sys.modules
    assert not [m for m in sys.modules if m.startswith("bfcl_eval.model_handler")]
    stub = sys.modules["bfcl_eval.constants.model_config"]
    assert stub.MODEL_CONFIG_MAPPING["any/model"].underscore_to_dot is False


def test_decode_reads_every_block_keeps_bad_ones_and_accepts_a_cut_last_block() -> None:
    text = (call("a", x=1) + "\n<tool_call>\n{not json}\n</tool_call>\n"
            '<tool_call>{"name": "b", "arguments": "{\\"y\\": [2]}"}</tool_call>\n<tool_call>{"name": "c", "arguments": {}}')
    decoded = decode_calls(text)
    assert decoded.calls == [{"a": {"x": 1}}, {"b": {"y": [2]}}, {"c": {}}]
    assert decoded.bad == ["{not json}"]
    assert decode_calls("The answer is 4.").calls == []
    assert decode_calls('<tool_call>["a", 1]</tool_call>').bad == ['["a", 1]']


def test_without_tags_bare_or_fenced_json_calls_are_read_unless_strict() -> None:
    fenced = '```json\n{\n  "name": "math.factorial",\n  "arguments": {"number": 5}\n}\n```'
    assert (decode_calls(fenced).calls, decode_calls(fenced).form) == ([{"math.factorial": {"number": 5}}], "json")
    assert decode_calls(fenced, strict=True).calls == [] and decode_calls(fenced, strict=True).form == ""
    two = '{"name": "a", "arguments": {}}\n{"name": "b", "arguments": {"x": 1}}'
    assert decode_calls(two).calls == [{"a": {}}, {"b": {"x": 1}}]
    listed = 'Calls:\n```\n[{"name": "a", "arguments": {}}, {"name": "b", "arguments": {}}]\n```\nDone.'
    assert decode_calls(listed).calls == [{"a": {}}, {"b": {}}]
    assert decode_calls("```python\nprint(math.factorial(5))\n```").calls == []
    assert decode_calls('{"answer": 120}').calls == []
    tagged = call("a") + '\n{"name": "b", "arguments": {}}'
    assert (decode_calls(tagged).calls, decode_calls(tagged).form) == ([{"a": {}}], "tool_call")


def test_a_correct_call_scores_one(check) -> None:
    question = first("simple_python")
    result = score(question, call("calculate_triangle_area", base=10, height=5), check)
    assert (result.correct, result.reason, result.form) == (True, None, "tool_call")
    assert score(question, call("calculate_triangle_area", base=10, height=5, unit="units"), check).correct


def test_a_wrong_value_scores_zero_with_its_reason(check) -> None:
    result = score(first("simple_python"), call("calculate_triangle_area", base=10, height=6), check)
    assert (result.correct, result.reason, result.error_type) == (False, "wrong value", "value_error:others")
    assert "height" in result.detail


@pytest.mark.parametrize(("reply", "reason"), [
    (call("calculate_area", base=10, height=5), "wrong function"),
    (call("calculate_triangle_area", base=10), "missing argument"),
    (call("calculate_triangle_area", base=10, height=5, colour="red"), "unexpected argument"),
    (call("calculate_triangle_area", base="10", height=5), "wrong type"),
    ("The area is 25 square units.", "no call"),
    ("<tool_call>\n{'name': 'calculate_triangle_area'}\n</tool_call>", "bad JSON"),
    (call("calculate_triangle_area", base=10, height=5) * 2, "wrong number of calls"),
])
def test_each_failure_gets_its_reason(check, reply: str, reason: str) -> None:
    result = score(first("simple_python"), reply, check)
    assert (result.correct, result.reason) == (False, reason)


def test_parallel_needs_every_call_in_any_order(check) -> None:
    question = first("parallel")
    both = [call("spotify.play", artist="Maroon 5", duration=15), call("spotify.play", artist="Taylor Swift", duration=20)]
    assert score(question, "\n".join(both), check).correct
    assert score(question, both[0], check).reason == "wrong number of calls"
    wrong = score(question, "\n".join([both[0], call("spotify.play", artist="Taylor Swift", duration=25)]), check)
    assert wrong.reason == "wrong value"


def test_multiple_picks_the_right_function(check) -> None:
    question = first("multiple")
    assert score(question, call("triangle_properties.get", side1=5, side2=4, side3=3), check).correct
    assert score(question, call("circle_properties.get", radius=5), check).reason == "wrong function"


def test_irrelevance_scores_one_without_a_call_and_zero_with_one(check) -> None:
    question = first("irrelevance")
    assert score(question, "I cannot compute a triangle's area with these tools.", check).correct
    assert score(question, "<tool_call>\nnot json\n</tool_call>", check).correct  # nothing decodes: no call
    result = score(question, call("determine_body_mass_index", weight=70, height=1.75), check)
    assert (result.correct, result.reason) == (False, "called when it should not")
    fenced = '```json\n{"name": "determine_body_mass_index", "arguments": {"weight": 70, "height": 1.75}}\n```'
    assert score(question, fenced, check).reason == "called when it should not"
    assert score(question, fenced, check, strict=True).correct  # BFCL reads tags only


def test_reason_for_a_parallel_mismatch_blames_the_output_with_the_right_name() -> None:
    result = {"valid": False, "error_type": "parallel_function_checker_no_order:cannot_find_match", "error": [
        "Could not find a matching function ...",
        {"Model Result Index 0": {"sub_error_type": "simple_function_checker:wrong_func_name"}},
        {"Model Result Index 1": {"sub_error_type": "simple_function_checker:missing_required"}},
    ]}
    assert reason_for(result, 2) == "missing argument"
    result["error"] = result["error"][:2]
    assert reason_for(result, 2) == "wrong function"
    assert reason_for({"error_type": "value_error:list/tuple"}, 1) == "wrong value"
    assert reason_for({"error_type": "simple_function_checker:unclear"}, 1) == "other"
