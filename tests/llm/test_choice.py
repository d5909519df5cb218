"""Whole-option choice: the option with the most likely tokens wins, found by evaluating few.

The unit tests drive the search with a table of next-token probabilities (a stand-in for
llama.cpp's context, deterministic by construction); the real-model test checks the
search against scoring every option in full.
"""

from __future__ import annotations

import ctypes
import math

import numpy as np
import pytest

from foreplan.llm.base import Choice
from foreplan.llm.choice import ChoicePoints, best_option

N_VOCAB = 8
PROMPT = (7, 7)


class TableLlama:
    """Next-token probabilities looked up by the tokens after the prompt (uniform where
    the table says nothing); counts what it evaluates."""

    def __init__(self, table: dict[tuple[int, ...], dict[int, float]]) -> None:
        self.table = table
        self.input_ids = list(PROMPT) + [0] * 32
        self.n_tokens = len(PROMPT)
        self.evaluated: list[tuple[int, ...]] = []
        self._ctx = self
        self._logits = (ctypes.c_float * N_VOCAB)()
        self._refresh()

    def n_vocab(self) -> int:
        return N_VOCAB

    def eval(self, tokens: list[int]) -> None:
        for token in tokens:
            self.input_ids[self.n_tokens] = token
            self.n_tokens += 1
            self.evaluated.append(self.held())
        self._refresh()

    def held(self) -> tuple[int, ...]:
        return tuple(self.input_ids[len(PROMPT):self.n_tokens])

    def get_logits_ith(self, i: int) -> ctypes._Pointer:
        assert i == -1
        return ctypes.cast(self._logits, ctypes.POINTER(ctypes.c_float))

    def _refresh(self) -> None:
        probs = self.table.get(self.held(), {})
        rest = (1.0 - sum(probs.values())) / (N_VOCAB - len(probs))
        for token in range(N_VOCAB):
            self._logits[token] = math.log(probs.get(token, rest))


def test_the_most_likely_whole_option_wins_over_the_best_first_token():
    # Options: (1, 2) "apply_job", (3, 4) "pay_card". The first token prefers 1, but after
    # 1 the model barely wants 2; after 3 it surely wants 4.
    llama = TableLlama({(): {1: 0.5, 3: 0.3}, (1,): {2: 0.05}, (3,): {4: 0.9}})
    chosen, evaluated, first = best_option(llama, [(1, 2), (3, 4)])
    assert chosen == [3, 4]
    assert first == 1
    # The context holds the chosen option, with the logits after it.
    assert llama.held() == (3, 4)
    assert llama.n_tokens == len(PROMPT) + 2
    assert evaluated == len(llama.evaluated)


def test_a_confident_first_token_costs_only_its_own_option():
    llama = TableLlama({(): {1: 0.9, 3: 0.01, 5: 0.01}, (1,): {2: 0.99}})
    chosen, evaluated, _ = best_option(llama, [(1, 2), (3, 4), (5, 6)])
    assert chosen == [1, 2]
    # Only the chosen path was evaluated: the unlikely options were never opened.
    assert llama.evaluated == [(1,), (1, 2)]
    assert evaluated == 2


def test_options_that_share_a_prefix_share_its_evaluation():
    llama = TableLlama({(): {1: 0.8}, (1,): {2: 0.3, 4: 0.6}, (1, 4): {5: 0.9}})
    chosen, _, _ = best_option(llama, [(1, 2), (1, 4, 5), (3,)])
    assert chosen == [1, 4, 5]
    assert llama.evaluated.count((1,)) == 1


def test_a_one_token_option_can_win():
    llama = TableLlama({(): {6: 0.6, 1: 0.3}})
    chosen, _, _ = best_option(llama, [(6,), (1, 2)])
    assert chosen == [6]
    assert llama.held() == (6,)


def test_an_option_that_is_a_prefix_of_another():
    # (1,) ends one option and starts another: both are scored as what they are.
    llama = TableLlama({(): {1: 0.9}, (1,): {2: 0.2}})
    chosen, _, _ = best_option(llama, [(1,), (1, 2)])
    assert chosen == [1]
    llama = TableLlama({(): {1: 0.9}, (1,): {2: 0.99}})
    assert best_option(llama, [(1,), (1, 2)])[0] == [1]  # a shorter option loses nothing more


def test_choice_points_fire_only_after_their_text():
    class Words(TableLlama):
        pieces = {1: "#E1", 2: " =", 3: " pay", 4: "[", 5: "Plan"}

        def detokenize(self, tokens, prev_tokens=None):
            return "".join(self.pieces.get(t, "?") for t in tokens).encode()

        def tokenize(self, text, add_bos=False, special=False):
            words = {v: k for k, v in self.pieces.items()}
            return [words[" pay"], words["["]] if text == b" pay[" else [words["Plan"]]

    points = ChoicePoints(Words({}), (Choice(r"#E[0-9]+ =", (" pay[",)),))
    assert points.options_after([5, 1]) is None
    assert points.options_after([5, 1, 2]) == [(3, 4)]
    assert points.options_after([]) is None


def test_what_follows_an_option_is_scored_but_left_for_the_model_to_write():
    class Names(TableLlama):
        words = {b" pay": [3], b" pay[": [3, 4], b" apply": [1], b" apply[": [1, 2]}

        def tokenize(self, text, add_bos=False, special=False):
            return self.words[text]

    # The first token prefers 1, but the model would not follow it with the bracket (2).
    llama = Names({(): {1: 0.6, 3: 0.3}, (1,): {2: 0.01}, (3,): {4: 0.9}})
    points = ChoicePoints(llama, (Choice("=", (" apply", " pay"), "["),))
    assert points.choose(points._choices[0][1]) == [3]
    assert llama.held() == (3,)  # the bracket is the model's to write


def test_a_choice_needs_options():
    with pytest.raises(ValueError):
        Choice("x", ())


@pytest.mark.gguf
def test_the_search_finds_what_scoring_every_option_in_full_finds():
    from foreplan.llm.decode import prompt_tokens
    from foreplan.llm.registry import get_model, pull
    from foreplan.llm.llamacpp import LlamaCppLLM

    llm = LlamaCppLLM(pull(get_model("qwen2.5-coder-0.5b")))
    llama = llm.llama
    prompt = llm.render([{"role": "user", "content": "Which tool pays a credit card bill? Answer with its name."}])
    tokens = prompt_tokens(llama, prompt + "The tool is")
    names = [" apply_for_job[", " pay_for_credit_card[", " daily_bill_payment[", " get_weather[", " take_note["]
    options = [tuple(llama.tokenize(n.encode(), add_bos=False, special=False)) for n in names]

    def full_score(option: tuple[int, ...]) -> float:
        llama.reset()
        llama.eval(tokens)
        total = 0.0
        for token in option:
            logits = np.ctypeslib.as_array(llama._ctx.get_logits_ith(-1), shape=(llama.n_vocab(),)).astype(np.float64)
            total += logits[token] - (logits.max() + np.log(np.exp(logits - logits.max()).sum()))
            llama.eval([token])
        return total

    scores = [full_score(o) for o in options]
    llama.reset()
    llama.eval(tokens)
    chosen, _, _ = best_option(llama, options)
    assert chosen == list(options[int(np.argmax(scores))])
    assert list(llama.input_ids[len(tokens):llama.n_tokens]) == chosen
