"""Long evidence cut to what a question needs, before a model reads it.

A search returns five passages; the step that reads them asks one thing. Cut blindly at
a fixed length, the prompt pays for every sentence before the cut and loses every one
after it. :func:`focus` keeps the sentences that best match the question (BM25 in an
in-memory SQLite FTS5 table, Porter-stemmed, as ``search_wiki`` ranks passages), in
their original order, with ``…`` where sentences were left out. :func:`focus_value` does
it inside a structured result: each long text field gets its share of the budget, and
short fields (titles, ids, scores) stay whole, so the model still sees which passage a
sentence came from.

Used by the solver for every step's evidence and by the ``LLM`` tool for the evidence a
step hands it (issue 19: on a CPU, prompt tokens are seconds).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from foreplan.types import value_text

_MAX_TERMS = 32
_WORD_RE = re.compile(r"[^\W_]+")
# Words that match nearly every passage; BM25 would weight them low anyway, but
# dropping them keeps long questions from turning into 30-term OR queries.
_STOPWORDS = frozenset(
    "a an and are as at be by did do does for from had has have he her his how i in is it its"
    " of on or she that the their they this to was were what when where which who whom whose"
    " why will with you".split()
)
# A sentence ends at . ! ? (and a closing quote or bracket) before a space, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
_ABBREVIATION = re.compile(r"(?:^|\s)(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|Mt|vs|etc|No|Inc|Co|Ltd|Gen|Gov|Sen|Rep|"
                           r"e\.g|i\.e|[A-Z]|(?:[A-Z]\.)+[A-Z])\.$")
GAP = " … "
SHORT_FIELD = 80
"""Text fields this short (titles, ids) are kept whole inside a structured result."""


def match_expression(query: str) -> str:
    """A safe FTS5 MATCH expression for free text: its words, quoted and OR-ed.

    Punctuation, quotes and FTS5 operators (``AND``, ``NEAR``, ``*``, ``^``, ``:``)
    lose their meaning; common English words are dropped unless nothing else is left.
    Returns an empty string when ``query`` holds no word at all.
    """
    words = list(dict.fromkeys(w.lower() for w in _WORD_RE.findall(query)))
    kept = [w for w in words if w not in _STOPWORDS] or words
    return " OR ".join(f'"{w}"' for w in kept[:_MAX_TERMS])


def sentences(text: str) -> list[str]:
    """``text`` in sentences (and lines), each with its surrounding blanks stripped; a
    period after a title or an initial (``Mr.``, ``U.S.``, ``J.``) ends no sentence."""
    out: list[str] = []
    for piece in (p.strip() for p in _SENTENCE_END.split(text) if p and p.strip()):
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def focus(text: str, query: str, budget: int) -> str:
    """``text`` in at most about ``budget`` characters: all of it when it fits, else its
    sentences that best match ``query``, in their order, joined by ``…`` where others
    were left out. A text with no sentence matching the query keeps its first sentences.
    A single sentence longer than the budget is cut at the budget."""
    if len(text) <= budget:
        return text
    parts = sentences(text)
    order = _ranked(parts, query)
    kept: set[int] = set()
    used = 0
    for i in order:
        cost = len(parts[i]) + len(GAP)
        if used + cost > budget:
            continue
        kept.add(i)
        used += cost
    if not kept:  # even the best sentence is longer than the budget
        return text[:budget].rstrip() + GAP.rstrip()
    out = []
    for i in sorted(kept):
        if out and i - 1 not in kept:
            out.append(GAP.strip())
        out.append(parts[i])
    if max(kept) < len(parts) - 1:
        out.append(GAP.strip())
    return (GAP.strip() + " " if min(kept) > 0 else "") + " ".join(out)


def focus_value(value: Any, query: str, budget: int) -> Any:
    """``value`` whose text fits about ``budget`` characters: long text fields (and a long
    text) focused on ``query``, each in proportion to its length; short fields as they are."""
    total = len(value_text(value))
    if total <= budget:
        return value
    long = sum(_long_text(value))
    spare = budget - (total - long)  # what the short fields and the structure leave to the texts
    share = max(spare, budget // 4) / max(long, 1)
    return _cut(value, query, share)


def _cut(value: Any, query: str, share: float) -> Any:
    if isinstance(value, str):
        return focus(value, query, max(int(len(value) * share), SHORT_FIELD)) if len(value) > SHORT_FIELD else value
    if isinstance(value, list):
        return [_cut(v, query, share) for v in value]
    if isinstance(value, dict):
        return {k: _cut(v, query, share) for k, v in value.items()}
    return value


def _long_text(value: Any) -> list[int]:
    if isinstance(value, str):
        return [len(value)] if len(value) > SHORT_FIELD else []
    if isinstance(value, list):
        return [n for v in value for n in _long_text(v)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _long_text(v)]
    return []


def _ranked(parts: list[str], query: str) -> list[int]:
    """Indexes of ``parts``, best BM25 match with ``query`` first; parts that do not match
    follow in their order."""
    expression = match_expression(query)
    scores: dict[int, float] = {}
    if expression:
        db = sqlite3.connect(":memory:")
        try:
            db.execute("CREATE VIRTUAL TABLE parts USING fts5(text, tokenize='porter unicode61 remove_diacritics 2')")
            db.executemany("INSERT INTO parts (rowid, text) VALUES (?, ?)", enumerate(parts))
            rows = db.execute("SELECT rowid, bm25(parts) FROM parts WHERE parts MATCH ?", (expression,)).fetchall()
        finally:
            db.close()
        scores = {int(i): -score for i, score in rows}  # FTS5's bm25 is lower-is-better
    matched = sorted(scores, key=lambda i: (-scores[i], i))
    return matched + [i for i in range(len(parts)) if i not in scores]
