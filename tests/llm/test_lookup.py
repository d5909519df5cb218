"""Prompt-lookup decoding: the draft search (pure) and, on the real 0.5B model, the same
text as one-token-at-a-time greedy decoding, in fewer model passes."""

from __future__ import annotations

from functools import partial
from unittest.mock import patch

import pytest

from foreplan.llm.base import GenerationOptions
from foreplan.llm.lookup import find_draft


@pytest.mark.parametrize(("history", "expected"), [
    ([1, 2, 3, 4, 5, 9, 2, 3], [4, 5, 9, 2, 3]),  # the 2-gram (2, 3) occurred at 1
    ([1, 2, 3, 4, 2, 3, 7, 1, 2, 3], [4, 2, 3, 7, 1, 2, 3]),  # the 3-gram beats the later 2-gram (2, 3)
    ([5, 6, 7, 8, 7], [8, 7]),  # only the 1-gram (7) occurs before
    ([1, 2, 3], []),  # nothing repeats
    ([4], []),
])
def test_the_draft_follows_the_latest_earlier_occurrence_of_the_longest_ngram(history, expected):
    assert find_draft(history, max_draft=10, min_ngram=1) == expected


def test_the_defaults_draft_three_tokens_after_a_three_token_match():
    assert find_draft([1, 2, 3, 4, 5, 6, 7, 2, 3]) == []  # only a 2-gram matches
    assert find_draft([1, 2, 3, 4, 5, 6, 7, 1, 2, 3]) == [4, 5, 6]


def test_the_draft_is_bounded():
    assert find_draft([1, 2, 3, *range(10, 30), 1, 2, 3], max_draft=4) == [10, 11, 12, 13]
    assert find_draft([1, 2, 1, 2, 1, 2], max_ngram=2, min_ngram=1) == [1, 2]


@pytest.mark.gguf
def test_lookup_decoding_writes_what_greedy_decoding_writes_in_fewer_passes():
    from foreplan.llm import decode, lookup
    from foreplan.llm.llamacpp import LlamaCppLLM
    from foreplan.llm.registry import get_model, pull

    evidence = ("Christopher Nolan directed: Following (1998), Memento (2000), Insomnia (2002), "
                "Batman Begins (2005), The Prestige (2006), The Dark Knight (2008), Inception (2010), "
                "Interstellar (2014), Dunkirk (2017), Tenet (2020), Oppenheimer (2023).")
    messages = [{"role": "user", "content": f"Evidence: {evidence}\n\nWhich films did Christopher Nolan direct? "
                                            "Answer with the evidence's sentence, word for word."}]
    llm = LlamaCppLLM(pull(get_model("qwen2.5-coder-0.5b")), prefix_cache=False)
    options = GenerationOptions(max_tokens=80, prompt_lookup=True)
    plain = llm.generate(messages, GenerationOptions(max_tokens=80))
    assert llm.generate(messages, options).text == plain.text  # the defaults (3-token drafts)
    passes = []
    evaluate_all = lookup._evaluate_all

    def counted(llama, batch):
        passes.append(len(batch))
        return evaluate_all(llama, batch)

    lookup._evaluate_all = counted
    # Long drafts after any match: many more draft tokens to check, so any slip would show.
    eager = partial(lookup.lookup_tokens, max_draft=10, min_ngram=1)
    with patch.object(decode, "lookup_tokens", eager):
        try:
            drafted = llm.generate(messages, options)
        finally:
            lookup._evaluate_all = evaluate_all
    assert drafted.text == plain.text and "The Prestige" in drafted.text
    assert drafted.usage.completion_tokens == plain.usage.completion_tokens
    assert len(passes) < 0.8 * drafted.usage.completion_tokens  # drafts saved passes (25 for 39 here)
