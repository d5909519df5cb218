"""The prefix cache: a later prompt sharing a prefix evaluates only its new tokens, and
the output is the same as without the cache (real 0.5B model, temperature 0)."""

from __future__ import annotations

import pytest

from foreplan.llm.base import Constraint, GenerationOptions
from foreplan.llm.decode import evaluate_prompt, prompt_tokens
from foreplan.llm.llamacpp import LlamaCppLLM
from foreplan.llm.registry import get_model, pull
from foreplan.plan.grammar import plan_grammar
from foreplan.plan.planner import Planner
from foreplan.tools import default_toolkit

pytestmark = pytest.mark.gguf


@pytest.fixture(scope="module")
def qwen() -> LlamaCppLLM:
    return LlamaCppLLM(pull(get_model("qwen2.5-coder-0.5b")))


def _planner_prompt(llm, task):
    return llm.render(Planner(llm, default_toolkit()).prompt(task))


def test_a_second_planner_prompt_reuses_the_static_prefix_after_another_prompt(qwen):
    llama, cache = qwen.llama, qwen.loaded.cache
    first = prompt_tokens(llama, _planner_prompt(qwen, "What is 2 + 2?"))
    evaluate_prompt(llama, first, cache)
    other = prompt_tokens(llama, qwen.render([{"role": "user", "content": "Something else entirely. " * 20}]))
    evaluate_prompt(llama, other, cache)  # the context now holds a different prompt
    second = prompt_tokens(llama, _planner_prompt(qwen, "How many days are left this year?"))
    reused = evaluate_prompt(llama, second, cache)
    assert reused > 0.8 * len(second)  # everything but the task
    assert llama.n_tokens == len(second)
    assert list(llama.input_ids[: llama.n_tokens]) == second


@pytest.mark.parametrize("task", ["How many days are left until the end of this year?",
                                  "What is the square root of 1764, plus the current year?"])
def test_cached_and_uncached_plans_are_identical(qwen, task):
    toolkit = default_toolkit()
    messages = Planner(qwen, toolkit).prompt(task)
    options = GenerationOptions(max_tokens=64, constraint=Constraint(grammar=plan_grammar(toolkit, 4)))
    qwen.generate([{"role": "user", "content": "Warm the cache with another prompt first."}], options=GenerationOptions(max_tokens=4))
    cached = qwen.generate(messages, options)
    uncached_llm = LlamaCppLLM(qwen.path, prefix_cache=False)
    uncached_llm.llama.reset()  # nothing reusable in the context either
    uncached = uncached_llm.generate(messages, options)
    assert cached.text == uncached.text
    assert cached.usage.prompt_tokens == uncached.usage.prompt_tokens


def test_the_cache_is_bounded(qwen):
    from foreplan.llm.prefix_cache import PrefixCache

    small = PrefixCache(capacity_bytes=1)
    llama = qwen.llama
    evaluate_prompt(llama, prompt_tokens(llama, _planner_prompt(qwen, "x")), small)
    assert small.size_bytes == 0  # a state bigger than the capacity is not kept


@pytest.mark.parametrize("options", [
    GenerationOptions(max_tokens=24, temperature=0),
    GenerationOptions(max_tokens=24, temperature=0.9, seed=7),
    GenerationOptions(max_tokens=24, constraint=Constraint(json_schema={"type": "object", "properties": {
        "city": {"type": "string"}}, "required": ["city"]})),
], ids=["greedy", "sampled", "json-schema"])
def test_the_same_prompt_again_computes_nothing_and_answers_the_same(qwen, options):
    messages = [{"role": "user", "content": "Name a city by the sea and say one thing about it, briefly."}]
    uncached_llm = LlamaCppLLM(qwen.path, prefix_cache=False)
    uncached_llm.llama.reset()
    uncached = uncached_llm.generate(messages, options)
    first = qwen.generate(messages, options)  # evaluates the prompt, saves state and logits
    tokens = prompt_tokens(qwen.llama, qwen.render(messages))
    assert evaluate_prompt(qwen.llama, tokens, qwen.loaded.cache) == len(tokens)  # nothing evaluated
    again = qwen.generate(messages, options)
    assert first.text == again.text == uncached.text
    assert again.usage.prompt_tokens == len(tokens)
