"""foreplan's own greedy decoding loop for grammar-constrained completions on llama.cpp.

llama-cpp-python can run a Python logits processor, but it wraps the 151k-entry
candidate array in a new numpy record array on every token, which costs about a
second per token here. This loop reads the logits straight from llama.cpp's buffer
(no copy), lets :class:`GreedyGrammar` pick the token, and keeps llama-cpp-python's
own bookkeeping (``n_tokens``, ``input_ids``) so its KV-cache prefix reuse still works
for the next call, whichever path it takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from foreplan.llm.fast_grammar import GreedyGrammar


@dataclass
class Decoded:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


def _reuse_prefix(llama: Any, tokens: list[int]) -> None:
    """Keep the KV cache for the longest common prefix with the previous call
    (at least one token is always evaluated, so fresh logits exist)."""
    cached = llama.input_ids[: llama.n_tokens].tolist()
    common = 0
    for a, b in zip(cached, tokens[:-1]):
        if a != b:
            break
        common += 1
    if common and llama._ctx.kv_cache_seq_rm(-1, common, -1):
        llama.n_tokens = common
    else:
        llama.reset()


def greedy_decode(llama: Any, prompt: str, grammar: str, max_tokens: int, stop: tuple[str, ...] = ()) -> Decoded:
    """Greedy completion of ``prompt`` under the GBNF ``grammar``.

    Raises:
        ValueError: the prompt does not fit the context.
    """
    tokens = llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
    budget = llama.n_ctx() - len(tokens)
    if budget <= 0:
        raise ValueError(f"the prompt has {len(tokens)} tokens; the context holds {llama.n_ctx()}")
    max_tokens = min(max_tokens, budget)
    _reuse_prefix(llama, tokens)
    llama.eval(tokens[llama.n_tokens:])
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
