"""Evidence cut to what the question needs (llm/focus.py), not blindly at a length."""

from __future__ import annotations

from foreplan.llm.focus import GAP, focus, focus_value, match_expression, sentences
from foreplan.types import value_text

FILLER = " ".join(f"Paragraph {i} talks about the weather in spring and the price of bread." for i in range(30))
ANSWER = "Jaws was directed by Steven Spielberg in 1975."
TEXT = f"{FILLER} {ANSWER} {FILLER}"


def test_sentences_keep_titles_and_initials_whole() -> None:
    assert sentences("Mr. Speaker. The U.S. grew! J. R. R. Tolkien wrote it? Yes\nNext") == [
        "Mr. Speaker.", "The U.S. grew!", "J. R. R. Tolkien wrote it?", "Yes", "Next"]


def test_text_that_fits_is_kept_whole() -> None:
    assert focus(ANSWER, "who directed Jaws", 200) == ANSWER


def test_the_sentence_that_answers_survives_where_a_blind_cut_loses_it() -> None:
    assert ANSWER not in TEXT[:2000]
    kept = focus(TEXT, "Who directed the film Jaws?", 300)
    assert ANSWER in kept and len(kept) <= 300 and kept.endswith(f"{GAP.strip()} {ANSWER} {GAP.strip()}")
    assert kept.startswith("Paragraph 0 talks")  # the budget left over keeps the beginning


def test_kept_sentences_stay_in_their_order() -> None:
    text = "Alpha is first. Filler one here. Beta is second. Filler two here. Gamma is third."
    assert focus(text, "gamma alpha", 40) == "Alpha is first. … Gamma is third."


def test_a_question_matching_nothing_keeps_the_beginning() -> None:
    kept = focus(TEXT, "zebra", 150)
    assert kept.startswith("Paragraph 0 talks") and len(kept) <= 150


def test_one_sentence_longer_than_the_budget_is_cut_at_the_budget() -> None:
    assert focus("word " * 100, "word", 50).startswith("word word") and len(focus("word " * 100, "word", 50)) <= 52


def test_a_structured_result_keeps_its_titles_and_focuses_its_texts() -> None:
    passages = [{"title": "Jaws (film)", "text": TEXT, "score": 7.5}, {"title": "Bread", "text": FILLER, "score": 1.0}]
    kept = focus_value(passages, "Who directed the film Jaws?", 1000)
    assert [p["title"] for p in kept] == ["Jaws (film)", "Bread"] and [p["score"] for p in kept] == [7.5, 1.0]
    assert ANSWER in kept[0]["text"] and len(value_text(kept)) <= 1100
    assert focus_value(passages[:1], "x", 10**6) == passages[:1]


def test_match_expression_quotes_words_and_drops_operators() -> None:
    assert match_expression('Who directed "Jaws" NEAR* the:film?') == '"directed" OR "jaws" OR "near" OR "film"'
    assert match_expression("?!") == ""
