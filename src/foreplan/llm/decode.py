"""foreplan's own greedy decoding loop for grammar-constrained completions on llama.cpp.

llama-cpp-python can run a Python logits processor, but it wraps the 151k-entry
candidate array in a new numpy record array on every token, which costs about a
second per token here. This loop reads the logits straight from llama.cpp's buffer
(no copy), lets :class:`GreedyGrammar` pick the token, and keeps llama-cpp-python's
own bookkeeping (``n_tokens``, ``input_ids``) so both paths share one context.

Both paths start with :func:`evaluate_prompt`, which reuses the longest prefix held in
the context or in the :class:`PrefixCache` and evaluates only the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from foreplan.llm.fast_grammar import GreedyGrammar
from foreplan.llm.prefix_cache import PrefixCache, common_prefix


@dataclass
class Decoded:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


def prompt_tokens(llama: Any, prompt: str) -> list[int]:
    """Tokens of ``prompt`` exactly as llama-cpp-python's ``create_completion`` makes them."""
    return llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)


#: Prompts are evaluated in batches that start at multiples of this, whatever was reused:
#: llama.cpp's results depend (in the last bits) on how positions are batched, so fixed
#: batch boundaries make a cached run compute exactly what an uncached run computes.
CHUNK = 64


def evaluate_prompt(llama: Any, tokens: list[int], cache: PrefixCache | None) -> int:
    """Bring the model's context to exactly ``tokens``, evaluating as few as possible.

    The longest prefix already in the context, or in a saved state of ``cache``, is
    kept; the rest is evaluated and the state saved for the next prompt that shares it.
    Afterwards ``create_completion(prompt)`` samples at once (its exact-prompt path).

    Returns:
        How many prompt tokens were reused instead of evaluated.

    Raises:
        ValueError: the prompt does not fit the context.
    """
    if len(tokens) >= llama.n_ctx():
        raise ValueError(f"the prompt has {len(tokens)} tokens; the context holds {llama.n_ctx()}")
    if cache is not None:
        reused = cache.restore(llama, tokens)
    else:
        reused = common_prefix(llama.input_ids[: llama.n_tokens], tokens[:-1])
    reused -= reused % CHUNK
    if reused and llama._ctx.kv_cache_seq_rm(-1, reused, -1):
        llama.n_tokens = reused
    else:
        llama.reset()
        reused = 0
    for start in range(reused, len(tokens), CHUNK):
        llama.eval(tokens[start: start + CHUNK])
    if cache is not None:
        cache.save(llama)
    return reused


def greedy_decode(llama: Any, tokens: list[int], grammar: str, max_tokens: int, stop: tuple[str, ...] = ()) -> Decoded:
    """Greedy completion, under the GBNF ``grammar``, of a prompt already evaluated with
    :func:`evaluate_prompt`."""
    max_tokens = min(max_tokens, llama.n_ctx() - len(tokens))
    import llama_cpp

    vocab = llama._model.vocab
    chooser = GreedyGrammar(llama, grammar)
    n_vocab = llama.n_vocab()
    out: list[int] = []
    finish = "length"
    text = ""
    try:
        while len(out) < max_tokens:
            logits = np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(n_vocab,))
            token = chooser.choose(logits)
            if token < 0 or llama_cpp.llama_vocab_is_eog(vocab, token):
                finish = "stop"
                break
            chooser.accept(token)
            out.append(token)
            text = llama.detokenize(out).decode("utf-8", errors="ignore")
            hit = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
            if hit >= 0:
                text, finish = text[:hit], "stop"
                break
            llama.eval([token])
    finally:
        chooser.close()
    return Decoded(text, len(tokens), len(out), finish)
