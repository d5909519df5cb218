"""Pick one of a few whole strings by the model's likelihood of all its tokens.

Greedy decoding under a grammar picks a tool name one token at a time, and the grammar
then forces whatever name that first token starts. When the model's best first token
is the start of a name it did not mean, the plan gets a tool its own plan line did not
ask for (the 1.5B on a TaskBench task, after ``Plan: 1. Pay off the credit card``)::

    #E1 =   ' apply' -1.17 ─► '_for' ─► '_job'           the grammar's only "apply…" names
            ' pay'   -1.97 ─► '_for' ─► '_credit' ─► '_card'    ≈ -2.0 in all: the name meant

At a point where the text must go on with one of a few known strings (a ``Choice`` (base.py):
a plan step's tool name), each option is scored by the sum of its tokens' log-probabilities,
plus, with ``Choice.then``, the log-probability that what comes next starts as it must
(a ``[`` after a tool name: otherwise a name wins where the model goes on to write a
longer one), and the most likely whole option is taken. A best-first search over a trie of the
options' tokens finds it while evaluating few tokens: an option's score only falls as
it grows, so the first complete option taken from the queue is the best one, and
options whose first tokens are unlikely are never evaluated at all. (The context holds
one branch at a time: when the model is unsure between many names, going back and forth
evaluates some tokens again, up to about 1.4× all the options' tokens in the worst case
measured.)

After the search the context holds the chosen tokens, evaluated, so decoding goes on
from there as if the model had written them.
"""

from __future__ import annotations

import heapq
import re
import weakref
from typing import Any

import numpy as np

from foreplan.llm.base import Choice


class ChoicePoints:
    """Finds, from the tokens written so far, whether the next text must be one of a
    choice's options, and chooses it."""

    def __init__(self, llama: Any, choices: tuple[Choice, ...]) -> None:
        self._llama = llama
        self._choices = [(re.compile(f"(?:{c.after})$"), self._tokens(c.options),
                          following_tokens(llama, c.then) if c.then else None) for c in choices]

    def _tokens(self, options: tuple[str, ...]) -> list[tuple[int, ...]]:
        return [tuple(self._llama.tokenize(o.encode("utf-8"), add_bos=False, special=False)) for o in options]

    def options_after(self, written: list[int]) -> tuple[list[tuple[int, ...]], np.ndarray | None] | None:
        """The options' tokens (and the tokens that may follow one) when the text of
        ``written`` ends where a choice starts."""
        if not written:
            return None
        tail = self._llama.detokenize(written[-8:]).decode("utf-8", errors="ignore")
        for after, options, following in self._choices:
            if after.search(tail):
                return options, following
        return None

    def choose(self, found: tuple[list[tuple[int, ...]], np.ndarray | None]) -> list[int]:
        """The tokens of the most likely option; the context then holds them, evaluated."""
        return best_option(self._llama, *found)[0]


_following: weakref.WeakKeyDictionary[Any, dict[str, np.ndarray]] = weakref.WeakKeyDictionary()


def following_tokens(llama: Any, pattern: str) -> np.ndarray:
    """Which tokens of ``llama``'s vocabulary start with a character ``pattern`` matches
    (once per model: about 0.4 s for Qwen's 151k tokens)."""
    masks = _following.setdefault(llama._model, {})
    if pattern not in masks:
        char = re.compile(pattern.encode("utf-8"))
        pieces = (llama.detokenize([i]) for i in range(llama.n_vocab()))
        masks[pattern] = np.fromiter((char.match(p) is not None for p in pieces), bool, llama.n_vocab())
    return masks[pattern]


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max()
    return shifted - np.log(np.exp(shifted).sum())


def best_option(llama: Any, options: list[tuple[int, ...]],
                following: np.ndarray | None = None) -> tuple[list[int], int, int]:
    """Best-first search for the option whose tokens are most likely after the context;
    with ``following`` (the tokens that may come right after an option), an option's
    score includes the model going on with one of them.

    Returns:
        The chosen option's tokens (the context now holds them, with the logits after
        the last one), how many tokens the search evaluated, and the option-starting
        token that was most likely on its own.
    """
    base = llama.n_tokens
    n_vocab = llama.n_vocab()
    children: dict[tuple[int, ...], set[int]] = {}
    complete = {tuple(o) for o in options if o}
    if not complete:
        raise ValueError("no option to choose from")
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
        return _log_softmax(np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(n_vocab,)).astype(np.float64))

    first = scores()
    first_pick = max(children[()], key=lambda t: first[t])
    # (cost, tie-break, path, final): a path is opened (its next tokens scored, and its
    # ending if it is an option) before it can be final; costs only grow along a path.
    queue: list[tuple[float, int, tuple[int, ...], bool]] = [(0.0, 0, (), False)]
    order = 1
    while queue:
        cost, _, path, final = heapq.heappop(queue)
        hold(path)
        if final:
            return list(path), evaluated, first_pick
        here = first if not path else scores()
        if path in complete:
            then = 0.0 if following is None else -float(np.log(max(float(np.exp(here[following]).sum()), 1e-300)))
            heapq.heappush(queue, (cost + then, order, path, True))
            order += 1
        for token in children.get(path, ()):
            heapq.heappush(queue, (cost - float(here[token]), order, path + (token,), False))
            order += 1
    raise AssertionError("unreachable: every option is complete")
