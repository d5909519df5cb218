"""Prompt-lookup decoding: guess the next tokens by copying them from the prompt.

The solver's answer repeats the evidence ("Christopher Nolan directed *Tenet* (2020)"),
so the tokens that follow the last few generated ones are often already in the prompt.
Each step takes the last MAX_NGRAM generated tokens (shorter n-grams down to MIN_NGRAM
when those do not occur), finds their most recent earlier occurrence, and proposes the
MAX_DRAFT tokens after it as a draft. One llama.cpp batch then evaluates the chosen token
plus the draft with logits at every position; the draft is kept up to its first token the
model would not have chosen greedily, and the logits at that point give the next token
for free::

    prompt …  Christopher Nolan directed Tenet ( 2020 ) …   generated: … Christopher Nolan + directed
                                         └── draft ──┘                               (chosen)
    batch:   [directed] [Tenet] [(] [2020]  → argmax agrees on all 3 → 4 tokens, 1 pass

A batch of a few tokens costs less than that many single-token passes (the weights are
read once), so accepted draft tokens are cheap; on a 2-core CPU, where a pass is partly
compute-bound, short drafts after long matches are what pays (see MIN_NGRAM). It is
greedy only: the same tokens as one-at-a-time greedy decoding, up to the last bits of
llama.cpp's arithmetic, which depend on batch shape (tests compare texts).
This is llama-cpp-python's ``LlamaPromptLookupDecoding`` idea, done in foreplan's own
loop, where that class cannot go (it only plugs into ``create_completion``).
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

import numpy as np

from foreplan.llm.prefix_cache import last_logits

#: The longest n-gram looked up; shorter ones, down to MIN_NGRAM, are tried when it is not found.
MAX_NGRAM = 3
#: Shorter matches draft too often wrongly; and a draft of 3 is what pays on a CPU, where
#: a pass over k tokens costs about (1 + 0.3 k) single-token passes. bench/prompt_lookup.py
#: on 12 HotpotQA solver prompts, 1.5B, 2 cores: 3/3 1.20x plain with the same 12 answers;
#: 6/3 1.01x; 3/2 1.20x but 10/12 same answers; 10/1 0.68x.
MIN_NGRAM = 3
#: The most draft tokens verified in one batch.
MAX_DRAFT = 3


def find_draft(history: Sequence[int], max_ngram: int = MAX_NGRAM, max_draft: int = MAX_DRAFT,
               min_ngram: int = MIN_NGRAM) -> list[int]:
    """The tokens that followed the latest earlier occurrence of ``history``'s last
    n-gram (longest n first, down to ``min_ngram``), at most ``max_draft`` of them;
    [] when none occurs."""
    seq = np.asarray(history)
    size = len(seq)
    for n in range(min(max_ngram, size - 1), min_ngram - 1, -1):
        tail = seq[size - n:]
        windows = np.lib.stride_tricks.sliding_window_view(seq[: size - 1], n)
        starts = np.nonzero((windows == tail).all(axis=1))[0]
        if len(starts):
            after = int(starts[-1]) + n
            return [int(t) for t in seq[after: after + max_draft]]
    return []


def lookup_tokens(llama: Any, prompt: list[int], max_ngram: int = MAX_NGRAM, max_draft: int = MAX_DRAFT,
                  min_ngram: int = MIN_NGRAM) -> Generator[int, None, None]:
    """Greedy tokens after ``prompt`` (already evaluated, its logits current), with
    drafts from prompt lookup verified in batches. Whenever the consumer stops, the
    context's bookkeeping (``input_ids``, ``n_tokens``) matches its KV cache: every
    yielded token but the last, plus accepted draft tokens not yet yielded."""
    logits = last_logits(llama).copy()
    history = list(prompt)
    while True:
        token = int(np.argmax(logits))
        yield token
        history.append(token)
        draft = find_draft(history, max_ngram, max_draft, min_ngram)
        draft = draft[: max(0, llama.n_ctx() - llama.n_tokens - 1)]
        rows = _evaluate_all(llama, [token, *draft])
        accepted = 0
        while accepted < len(draft) and int(np.argmax(rows[accepted])) == draft[accepted]:
            accepted += 1
        logits = rows[accepted].copy()  # rows is llama.cpp's buffer: the next pass overwrites it
        if accepted < len(draft):  # the rejected tail leaves the context
            keep = llama.n_tokens - (len(draft) - accepted)
            llama._ctx.kv_cache_seq_rm(-1, keep, -1)
            llama.n_tokens = keep
        for guessed in draft[:accepted]:
            yield guessed
            history.append(guessed)


def _evaluate_all(llama: Any, batch: list[int]) -> np.ndarray:
    """Evaluate ``batch`` after the context's tokens; logits of every position (a view
    of llama.cpp's buffer, valid until the next evaluation)."""
    n_past = llama.n_tokens
    llama._batch.set_batch(batch=batch, n_past=n_past, logits_all=True)
    llama._ctx.decode(llama._batch)
    llama.input_ids[n_past: n_past + len(batch)] = batch
    llama.n_tokens = n_past + len(batch)
    return np.ctypeslib.as_array(llama._ctx.get_logits(), shape=(len(batch), llama.n_vocab()))
