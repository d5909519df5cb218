"""HotpotQA's EM/F1 and GSM8K's numeric accuracy, on hand-written cases."""

from __future__ import annotations

import pytest

from foreplan.eval.metrics import exact_match, f1_score, gsm8k_gold, last_number, normalize_answer, numeric_match


@pytest.mark.parametrize(("text", "expected"), [
    ("The Quick,  brown fox!", "quick brown fox"),
    ("An apple a day", "apple day"),
    ("  Theater  ", "theater"),  # "the" only as a whole word
    ("U.S.A.", "usa"),
    ("", ""),
])
def test_normalize_answer(text, expected):
    assert normalize_answer(text) == expected


def test_exact_match_ignores_case_articles_and_punctuation():
    assert exact_match("The Eiffel Tower.", "eiffel tower")
    assert not exact_match("Eiffel Tower in Paris", "Eiffel Tower")


def test_f1_partial_overlap():
    f1, precision, recall = f1_score("the Eiffel Tower in Paris", "Eiffel Tower")
    assert (precision, recall) == (0.5, 1.0)
    assert f1 == pytest.approx(2 / 3)


def test_f1_counts_repeated_tokens_once_per_match():
    # Counter intersection: "new new york" vs "new york" shares 2 of 3 predicted tokens.
    f1, precision, recall = f1_score("new new york", "new york")
    assert (precision, recall) == (pytest.approx(2 / 3), 1.0)


@pytest.mark.parametrize(("prediction", "gold", "expected"), [
    ("yes", "yes", 1.0),
    ("Yes.", "yes", 1.0),
    ("yes", "no", 0.0),
    ("yes they are", "yes", 0.0),  # gold is yes/no and differs: zero, though "yes" overlaps
    ("no", "no way", 0.0),  # prediction is yes/no and differs
    ("noanswer", "noanswer", 1.0),
    ("", "Paris", 0.0),
])
def test_f1_yes_no_special_case(prediction, gold, expected):
    assert f1_score(prediction, gold)[0] == expected


def test_gsm8k_gold_takes_the_number_after_hashes():
    assert gsm8k_gold("She makes 9 * 2 = $<<9*2=18>>18.\n#### 18") == "18"
    assert gsm8k_gold("...\n#### 1,234") == "1234"


def test_gsm8k_gold_without_hashes_raises():
    with pytest.raises(ValueError, match="must end with '#### N'"):
        gsm8k_gold("The answer is 18")


@pytest.mark.parametrize(("prediction", "gold", "expected"), [
    ("18", "18", True),
    ("She makes $18 every day.", "18", True),
    ("16 - 3 - 4 = 9 eggs, 9 * 2 = 18", "18", True),
    ("The total is 1,234 dollars", "1234", True),
    ("$12.50", "12.5", True),
    ("18.0", "18", True),
    ("18.01", "18", False),
    ("-5 degrees", "-5", True),
    ("eighteen", "18", False),
    ("", "18", False),
    ("3/4", "4", True),  # kept simple: the last number, not a fraction
])
def test_numeric_match(prediction, gold, expected):
    assert numeric_match(prediction, gold) is expected


def test_last_number_none_without_digits():
    assert last_number("no digits here.") is None
