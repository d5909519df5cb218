"""Pick one of a few whole strings by the model's likelihood of all its tokens.

Greedy decoding under a grammar picks a tool name one token at a time, and the grammar
then forces whatever name that first token starts. When the model's best first token
is the start of a name it did not mean, the plan gets a tool its own plan line did not
ask for (the 1.5B on a TaskBench task, after ``Plan: 1. Pay off the credit card``)::

    #E1 =   ' apply' -1.17 ─► '_for' ─► '_job'           the grammar's only "apply…" names
            ' pay'   -1.97 ─► '_for' ─► '_credit' ─► '_card'    ≈ -2.0 in all: the name meant

At a point where the text must go on with one of a few known strings (a ``Choice`` (base.py):
a plan step's tool name), each option is scored by the sum of its tokens' log-probabilities,
with those of the text that must follow it (``Choice.then``: the ``[`` after a name), and
the most likely whole option is taken. A best-first search over a trie of the
options' tokens finds it while evaluating few tokens: an option's score only falls as
it grows, so the first complete option taken from the queue is the best one, and
options whose first tokens are unlikely are never evaluated at all. (The context holds
one branch at a time: when the model is unsure between many names, going back and forth
evaluates some tokens again, up to about 1.4× all the options' tokens in the worst case
measured.)

After the search the context holds the chosen option's tokens, evaluated (not those of
its ``then``: the model writes that itself, in its own tokens), so decoding goes on from
there as if the model had written them.
"""

from __future__ import annotations

import heapq
import re
from typing import Any

import numpy as np

from foreplan.llm.base import Choice


class ChoicePoints:
    """Finds, from the tokens written so far, whether the next text must be one of a
    choice's options, and chooses it."""

    def __init__(self, llama: Any, choices: tuple[Choice, ...]) -> None:
        self._llama = llama
        self._written: dict[tuple[int, ...], int] = {}
        """How many of a scored option's tokens are written (those of ``Choice.then`` are not)."""
        self._choices = [(re.compile(f"(?:{c.after})$"), [self._tokens(o, c.then) for o in c.options])
                         for c in choices]

    def _tokens(self, option: str, then: str) -> tuple[int, ...]:
        def tokenize(text: str) -> tuple[int, ...]:
            return tuple(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

        scored, written = tokenize(option + then), tokenize(option)
        # Where the tokenizer joins the option's end with ``then``, the whole is written.
        self._written[scored] = len(written) if scored[:len(written)] == written else len(scored)
        return scored

    def options_after(self, written: list[int]) -> list[tuple[int, ...]] | None:
        """The options' tokens when the text of ``written`` ends where a choice starts."""
        if not written:
            return None
        tail = self._llama.detokenize(written[-8:]).decode("utf-8", errors="ignore")
        for after, options in self._choices:
            if after.search(tail):
                return options
        return None

    def choose(self, options: list[tuple[int, ...]]) -> list[int]:
        """The tokens of the most likely option, without those of its ``then``; the
        context then holds them, evaluated."""
        base = self._llama.n_tokens
        chosen = best_option(self._llama, options)[0]
        keep = self._written.get(tuple(chosen), len(chosen))
        if 0 < keep < len(chosen):  # back to the end of the option, with its logits
            self._llama.n_tokens = base + keep - 1
            self._llama.eval([chosen[keep - 1]])
        return chosen[:keep]


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted).sum())


def best_option(llama: Any, options: list[tuple[int, ...]]) -> tuple[list[int], int, int]:
    """Best-first search for the option whose tokens are most likely after the context.

    Returns:
        The chosen option's tokens (the context now holds them, with the logits after
        the last one), how many tokens the search evaluated, and the option-starting
        token that was most likely on its own.
    """
    base = llama.n_tokens
    n_vocab = llama.n_vocab()
    complete = {tuple(o) for o in options if o}
    if not complete:
        raise ValueError("no option to choose from")
    children: dict[tuple[int, ...], set[int]] = {}
    for option in complete:
        for i in range(len(option)):
            children.setdefault(option[:i], set()).add(option[i])
    held: tuple[int, ...] = ()  # tokens after ``base`` that the context holds now
    evaluated = 0

    def hold(path: tuple[int, ...]) -> None:
        """Make the context hold ``base + path``, with the logits after its last token."""
        nonlocal held, evaluated
        if path == held:
            return
        same = 0
        while same < min(len(path), len(held)) and path[same] == held[same]:
            same += 1
        same = min(same, len(path) - 1)  # a token is evaluated again for its logits
        llama.n_tokens = base + same
        llama.eval(list(path[same:]))
        evaluated += len(path) - same
        held = path

    def scores() -> np.ndarray:
        return _log_softmax(np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(n_vocab,)).copy())

    first = scores()  # the root's, read before any option is evaluated
    first_pick = max(children[()], key=lambda t: first[t])
    # (cost, tie-break, path, final): a path is opened (its next tokens scored) before it
    # can be taken as an option, and costs only grow along a path.
    queue: list[tuple[float, int, tuple[int, ...], bool]] = [(0.0, 0, (), False)]
    order = 1
    while True:
        cost, _, path, final = heapq.heappop(queue)
        hold(path)
        if final:
            return list(path), evaluated, first_pick
        here = scores() if path else first
        entries = [(cost, path, True)] if path in complete else []
        entries += [(cost - float(here[token]), path + (token,), False) for token in children.get(path, ())]
        for entry_cost, entry_path, entry_final in entries:
            heapq.heappush(queue, (entry_cost, order, entry_path, entry_final))
            order += 1
