"""foreplan's own decoding loops on llama.cpp: greedy under a grammar, and sampling.

llama-cpp-python can run a Python logits processor, but it wraps the 151k-entry
candidate array in a new numpy record array on every token, which costs about a
second per token here. This loop reads the logits straight from llama.cpp's buffer
(no copy), lets :class:`GreedyGrammar` pick the token, and keeps llama-cpp-python's
own bookkeeping (``n_tokens``, ``input_ids``) so both paths share one context.

Both paths start with :func:`evaluate_prompt`, which reuses the longest prefix held in
the context or in the :class:`PrefixCache` and evaluates only the rest. Both then feed
tokens, one at a time, to :func:`_collect`, which detokenizes, cuts at stop strings,
counts usage and streams each new piece of text (``on_text``)::

    greedy_tokens (grammar, fast)  ─┐
    lookup_tokens (prompt lookup)  ─┤
                                    ├─► _collect ─► TextStream ─► on_text(piece)
    llama.generate (sampler)       ─┘      └─► Decoded(text, usage, finish_reason)

llama-cpp-python's ``create_completion(stream=True)`` streams too, but its chunks are
not tokens (it holds back bytes and stop-string prefixes itself), so it cannot say how
many tokens a streamed completion cost; counting the tokens here keeps usage exact.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from foreplan.llm.base import Choice
from foreplan.llm.choice import ChoicePoints
from foreplan.llm.fast_grammar import GreedyGrammar
from foreplan.llm.lookup import lookup_tokens
from foreplan.llm.prefix_cache import PrefixCache, common_prefix
from foreplan.llm.streaming import TextStream


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
        How many prompt tokens were reused instead of evaluated (all of them when the
        cache holds this very prompt).

    Raises:
        ValueError: the prompt does not fit the context.
    """
    if len(tokens) >= llama.n_ctx():
        raise ValueError(f"the prompt has {len(tokens)} tokens; the context holds {llama.n_ctx()}")
    if cache is not None and cache.restore_exact(llama, tokens):
        return len(tokens)  # the same prompt again: its state and logits are saved
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


def greedy_tokens(llama: Any, grammar: str, choices: tuple[Choice, ...] = ()) -> Generator[int, None, None]:
    """Greedy tokens under the GBNF ``grammar``, each evaluated before the next is chosen
    (-1 when the grammar allows no token). Where one of ``choices`` starts, its most likely
    whole option is taken (choice.py). Close the generator to free the grammar."""
    chooser = GreedyGrammar(llama, grammar)
    points = ChoicePoints(llama, choices) if choices else None
    n_vocab = llama.n_vocab()
    written: list[int] = []
    chosen_at = -1  # a choice point is tried once, even when the grammar refused its option
    try:
        while True:
            options = points.options_after(written) if points is not None and chosen_at != len(written) else None
            if options is not None:
                chosen_at = len(written)
                start = llama.n_tokens
                chosen = points.choose(options)  # evaluated: the context holds them
                for i, token in enumerate(chosen):
                    if not chooser.allowed(token):  # the choice disagrees with the grammar
                        llama.n_tokens = start + i - 1  # back to where this token was chosen
                        llama.eval([llama.input_ids[start + i - 1]])
                        break
                    chooser.accept(token)
                    written.append(token)
                    yield token
                continue
            logits = np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(n_vocab,))
            token = chooser.choose(logits)
            if token >= 0:
                chooser.accept(token)
                written.append(token)
            yield token
            llama.eval([token])
    finally:
        chooser.close()


def greedy_decode(llama: Any, tokens: list[int], grammar: str, max_tokens: int, stop: tuple[str, ...] = (),
                  on_text: Callable[[str], None] | None = None, choices: tuple[Choice, ...] = ()) -> Decoded:
    """Greedy completion, under the GBNF ``grammar`` (and its whole-option ``choices``), of
    a prompt already evaluated with :func:`evaluate_prompt`; ``on_text`` gets each new
    piece of text."""
    return _collect(llama, tokens, greedy_tokens(llama, grammar, choices), max_tokens, stop, on_text)


def lookup_decode(llama: Any, tokens: list[int], max_tokens: int, stop: tuple[str, ...] = (),
                  on_text: Callable[[str], None] | None = None) -> Decoded:
    """Greedy completion with prompt-lookup drafts (lookup.py) of a prompt already
    evaluated with :func:`evaluate_prompt`."""
    return _collect(llama, tokens, lookup_tokens(llama, tokens), max_tokens, stop, on_text)


def sample_decode(llama: Any, tokens: list[int], max_tokens: int, *, temperature: float, top_p: float = 1.0,
                  top_k: int | None = None, seed: int | None = None, grammar: Any = None,
                  stop: tuple[str, ...] = (), on_text: Callable[[str], None] | None = None) -> Decoded:
    """Completion by llama.cpp's sampler (greedy at temperature 0) of a prompt already
    evaluated with :func:`evaluate_prompt`, so ``generate`` samples at once.

    Args:
        grammar: a ``LlamaGrammar`` or None.
        top_k: None keeps every token (llama.cpp's top-k is off at 0). min-p is off too,
            so ``top_p`` and ``temperature`` mean what they mean in the OpenAI API
            (llama-cpp-python's defaults would add top_k=40 and min_p=0.05).
    """
    # As create_completion does: the sampler is built from the seed set here.
    llama.set_seed(seed if seed is not None else random.randint(0, 2**31 - 1))
    generator = llama.generate(tokens, temp=temperature, top_p=top_p, top_k=top_k or 0, min_p=0.0,
                               repeat_penalty=1.0, grammar=grammar)
    return _collect(llama, tokens, generator, max_tokens, stop, on_text)


def _collect(llama: Any, tokens: list[int], generated: Iterator[int], max_tokens: int, stop: tuple[str, ...],
             on_text: Callable[[str], None] | None) -> Decoded:
    """Take tokens until end of generation, a stop string or ``max_tokens``.

    The text is the completion's bytes decoded as a whole (an incomplete UTF-8 character
    at the end waits for its next token), so it only ever grows at its end.
    """
    import llama_cpp

    max_tokens = min(max_tokens, llama.n_ctx() - len(tokens))
    vocab = llama._model.vocab
    stream = TextStream(stop, on_text)
    out: list[int] = []
    finish = "length"
    try:
        for token in generated if max_tokens > 0 else ():
            if token < 0 or llama_cpp.llama_vocab_is_eog(vocab, token):
                finish = "stop"
                break
            out.append(token)
            text = llama.detokenize(out, prev_tokens=tokens).decode("utf-8", errors="ignore")
            if stream.push(text):
                finish = "stop"
                break
            if len(out) >= max_tokens:
                break
    finally:
        close = getattr(generated, "close", None)
        if close is not None:
            close()  # frees the grammar; an exception from on_text stops here too
    return Decoded(stream.finish(), len(tokens), len(out), finish)
