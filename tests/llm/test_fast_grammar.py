"""Checking the best token first gives exactly llama.cpp's grammar-constrained greedy output."""

from __future__ import annotations

import pytest

from foreplan.llm.base import Constraint, GenerationOptions
from foreplan.llm.llamacpp import LlamaCppLLM
from foreplan.llm.registry import get_model, pull
from foreplan.plan.grammar import plan_grammar
from foreplan.plan.parse import parse_plan
from foreplan.plan.planner import Planner
from foreplan.tools import default_toolkit

pytestmark = pytest.mark.gguf

TASKS = [
    "How many days are left until the end of this year, and what is that number squared?",
    "What is the capital of France, and how many letters does its name have?",
]


@pytest.fixture(scope="module")
def models() -> tuple[LlamaCppLLM, LlamaCppLLM]:
    path = pull(get_model("qwen2.5-coder-0.5b"))
    return LlamaCppLLM(path, fast_grammar=True), LlamaCppLLM(path, fast_grammar=False)


@pytest.mark.parametrize("task", TASKS)
def test_plan_grammar_same_output_as_llama_cpp(models, task):
    fast, reference = models
    toolkit = default_toolkit()
    messages = Planner(fast, toolkit).prompt(task)
    options = GenerationOptions(max_tokens=96, constraint=Constraint(grammar=plan_grammar(toolkit, 4)))
    got, want = fast.generate(messages, options), reference.generate(messages, options)
    assert got.text == want.text
    assert got.text.startswith("Plan: ")
    if got.finish_reason == "stop":  # not cut off by max_tokens
        parse_plan(got.text)


def test_json_schema_same_output_as_llama_cpp(models):
    fast, reference = models
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "nights": {"type": "integer"},
                                               "breakfast": {"type": "boolean"}},
              "required": ["city", "nights", "breakfast"]}
    messages = [{"role": "user", "content": "Book 3 nights in Lyon with breakfast. Reply in JSON."}]
    options = GenerationOptions(max_tokens=48, constraint=Constraint(json_schema=schema))
    assert fast.generate(messages, options).text == reference.generate(messages, options).text


def test_a_grammar_the_model_would_not_follow_still_holds(models):
    fast, reference = models
    # The model wants to answer in words; the grammar only admits digits.
    messages = [{"role": "user", "content": "Write a short poem about the sea."}]
    options = GenerationOptions(max_tokens=8, constraint=Constraint(grammar='root ::= [0-9]+ "!"'))
    got = fast.generate(messages, options).text
    assert got == reference.generate(messages, options).text
    assert got.rstrip("!").isdigit()
