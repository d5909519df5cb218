"""Answer scoring, exactly as the datasets' own evaluation scripts define it.

HotpotQA: ``normalize_answer``, ``exact_match`` and ``f1_score`` follow the official
``hotpot_evaluate_v1.py`` (hotpotqa/hotpot on GitHub) line for line, including its rule
that a yes / no / noanswer prediction or gold scores F1 0 unless both are equal.
GSM8K: the gold answer is the number after ``#### `` (openai/grade-school-math); a
prediction is right when the last number in it equals the gold one numerically.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from fractions import Fraction

_PUNCTUATION = frozenset(string.punctuation)
_YES_NO = ("yes", "no", "noanswer")
# An optional sign, digits (commas are removed first), an optional decimal part; also
# ".5". A trailing sentence period ("is 18.") is not part of the number.
_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d+)?|\.\d+)")


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation, drop the articles a / an / the, collapse whitespace."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> bool:
    """Whether the normalized prediction equals the normalized gold answer."""
    return normalize_answer(prediction) == normalize_answer(gold)


def f1_score(prediction: str, gold: str) -> tuple[float, float, float]:
    """Token-level ``(f1, precision, recall)`` of the normalized answers.

    As in the official script, when either side normalizes to yes / no / noanswer and the
    two differ, all three are 0.
    """
    pred, ref = normalize_answer(prediction), normalize_answer(gold)
    if (pred in _YES_NO or ref in _YES_NO) and pred != ref:
        return 0.0, 0.0, 0.0
    pred_tokens, ref_tokens = pred.split(), ref.split()
    same = sum((Counter(pred_tokens) & Counter(ref_tokens)).values())
    if same == 0:
        return 0.0, 0.0, 0.0
    precision = same / len(pred_tokens)
    recall = same / len(ref_tokens)
    return 2 * precision * recall / (precision + recall), precision, recall


def gsm8k_gold(solution: str) -> str:
    """The final answer of a GSM8K solution: the text after ``#### ``, commas removed.

    Raises:
        ValueError: the solution has no ``####`` line.
    """
    head, sep, tail = solution.rpartition("####")
    if not sep:
        raise ValueError(f"a GSM8K answer must end with '#### N': {solution[-80:]!r}")
    return tail.strip().replace(",", "")


def last_number(text: str) -> Fraction | None:
    """The last integer or decimal in ``text`` (``1,234`` reads as 1234, ``$12.50`` as
    12.5), exactly; ``None`` when there is none."""
    found = _NUMBER_RE.findall(text.replace(",", ""))
    return Fraction(found[-1]) if found else None


def numeric_match(prediction: str, gold: str) -> bool:
    """Whether the last number in ``prediction`` equals the number ``gold`` (exactly:
    ``18.0`` matches ``18``, ``18.01`` does not)."""
    expected, got = last_number(gold), last_number(prediction)
    return expected is not None and got is not None and expected == got
