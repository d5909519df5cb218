"""The offline index: real SQLite FTS5 files in tmp_path, built from the shared data."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from foreplan.errors import ConfigError, ToolError
from foreplan.tools.corpus import (
    CHUNK_CHARS,
    Document,
    build_index,
    chunk_text,
    documents_from_folder,
    documents_from_hotpotqa,
    documents_from_jsonl,
    documents_from_sotu,
    match_expression,
    search_index,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
HOTPOT = DATA / "hotpotqa" / "hotpot_dev_distractor_sample.json"
SOTU = DATA / "rewoo_sotu" / "state_of_the_union.txt"
needs_data = pytest.mark.skipif(not HOTPOT.is_file(), reason=f"shared data not found at {DATA}")


@pytest.fixture(scope="module")
def hotpot_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HOTPOT.is_file():
        pytest.skip(f"shared data not found at {DATA}")
    path = tmp_path_factory.mktemp("index") / "wiki.sqlite"
    build_index(documents_from_hotpotqa(HOTPOT), path)
    return path


@needs_data
def test_hotpotqa_has_one_document_per_unique_title(tmp_path: Path) -> None:
    questions = json.loads(HOTPOT.read_text(encoding="utf-8"))
    titles = {t for q in questions for t in q["context"]["title"]}
    docs = documents_from_hotpotqa(HOTPOT)
    assert len(docs) == len(titles) == 991
    seen: list[tuple[int, int | None]] = []
    assert build_index(docs, tmp_path / "i.sqlite", progress=lambda d, t: seen.append((d, t))) == 991
    assert seen[-1] == (991, 991)
    scott = next(d for d in docs if d.title == "Scott Derrickson")
    assert scott.text.startswith("Scott Derrickson (born July 16, 1966) is an American director")
    assert " He lives in Los Angeles" in scott.text  # sentences joined with their own spaces


@needs_data
def test_questions_find_their_supporting_paragraphs(hotpot_index: Path) -> None:
    questions = json.loads(HOTPOT.read_text(encoding="utf-8"))[:20]
    hits = 0
    for q in questions:
        top = {r["title"] for r in search_index(hotpot_index, q["question"], 5)}
        hits += bool(top & set(q["supporting_facts"]["title"]))
    rate = hits / len(questions)
    print(f"supporting title in top-5 for {hits}/{len(questions)} questions ({rate:.0%})")
    assert rate >= 0.7


@needs_data
def test_results_are_ranked_dicts(hotpot_index: Path) -> None:
    results = search_index(hotpot_index, "Scott Derrickson", 3)
    assert results[0]["title"] == "Scott Derrickson"
    assert results[0]["source"] == "hotpotqa:Scott Derrickson"
    assert set(results[0]) == {"title", "text", "source", "score"}
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)


@needs_data
@pytest.mark.parametrize(
    "query",
    [
        'Who directed "Ed Wood',
        "Ed AND Wood OR NOT film",
        "Wood* film*",
        "NEAR(Ed Wood, 2)",
        "((Scott Derrickson",
        "title:Ed Wood)",
        "^Ed -Wood +film {director}",
        "Ed Wood's nationality? [citation needed] \\ ; DROP TABLE passages; --",
        "ÉD WÖÖD",
    ],
)
def test_hostile_queries_still_search(hotpot_index: Path, query: str) -> None:
    results = search_index(hotpot_index, query, 5)
    assert results, query


@needs_data
@pytest.mark.parametrize("query", ["", "   ", "*", "(((", '""', "?!"])
def test_queries_without_words_are_a_tool_error(hotpot_index: Path, query: str) -> None:
    with pytest.raises(ToolError, match="no words to search for"):
        search_index(hotpot_index, query, 3)


def test_match_expression_quotes_and_ors_words() -> None:
    assert match_expression('Who wrote "Dune" (1965) NEAR*?') == '"wrote" OR "dune" OR "1965" OR "near"'
    assert match_expression("the of a") == '"the" OR "of" OR "a"'  # only stopwords: keep them


def test_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="foreplan corpus build"):
        search_index(tmp_path / "nope.sqlite", "anything", 3)


def test_corrupt_index_says_how_to_rebuild(tmp_path: Path) -> None:
    bad = tmp_path / "wiki.sqlite"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ToolError, match="unreadable.*foreplan corpus build"):
        search_index(bad, "anything", 3)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).close()  # a valid SQLite file with no index in it
    with pytest.raises(ToolError, match="foreplan corpus build"):
        search_index(other, "anything", 3)


def test_k_must_be_positive(tmp_path: Path) -> None:
    path = tmp_path / "i.sqlite"
    build_index([Document("A", "alpha beta")], path)
    with pytest.raises(ToolError, match="k must be at least 1"):
        search_index(path, "alpha", 0)


def test_failed_build_leaves_no_file_behind(tmp_path: Path) -> None:
    def documents() -> Iterator[Document]:
        for i in range(1200):  # past one batch, so rows were already written
            yield Document(f"doc {i}", f"text number {i}")
        raise RuntimeError("disk on fire")

    target = tmp_path / "sub" / "wiki.sqlite"
    with pytest.raises(RuntimeError, match="disk on fire"):
        build_index(documents(), target)
    assert list(target.parent.iterdir()) == []


def test_failed_rebuild_keeps_the_old_index(tmp_path: Path) -> None:
    target = tmp_path / "wiki.sqlite"
    build_index([Document("Old", "the old passage about zebras")], target)

    def broken() -> Iterator[Document]:
        yield Document("New", "new passage")
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        build_index(broken(), target)
    assert [r["title"] for r in search_index(target, "zebras", 3)] == ["Old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wiki.sqlite"]


def test_generator_progress_has_no_total(tmp_path: Path) -> None:
    seen: list[tuple[int, int | None]] = []
    docs = (Document(f"t{i}", f"word{i}") for i in range(3))
    assert build_index(docs, tmp_path / "i.sqlite", progress=lambda d, t: seen.append((d, t))) == 3
    assert seen == [(3, None)]


def test_folder_loader_titles_and_chunks(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "otters.md").write_text("Intro line.\n\n# Sea otters\n\nOtters hold hands.\n")
    (tmp_path / "cats.txt").write_text("Cats purr.\n")
    (tmp_path / "skip.csv").write_text("a,b\n")
    paragraphs = [f"Paragraph {i} about volcanoes. " * 12 for i in range(10)]  # ~380 chars each
    (tmp_path / "long.txt").write_text("\n\n".join(paragraphs))
    docs = list(documents_from_folder(tmp_path))
    by_source = {d.source: d for d in docs}
    assert by_source["notes/otters.md"].title == "Sea otters"
    assert by_source["cats.txt"] == Document("cats", "Cats purr.", "cats.txt")
    long = [d for d in docs if d.title == "long"]
    assert len(long) == 5 and long[0].source == "long.txt#1"
    assert all(len(d.text) <= CHUNK_CHARS for d in long)
    path = tmp_path / "i.sqlite"
    build_index(docs, path)
    top = search_index(path, "Which animals hold hands?", 1)[0]
    assert top["title"] == "Sea otters" and top["source"] == "notes/otters.md"


def test_chunk_text_splits_one_huge_paragraph_at_sentences() -> None:
    text = "This is a sentence of some length. " * 100
    chunks = chunk_text(text)
    assert all(len(c) <= CHUNK_CHARS and c.endswith(".") for c in chunks)
    assert " ".join(chunks) == " ".join(text.split())
    assert chunk_text("x" * 2500) == ["x" * 1000, "x" * 1000, "x" * 500]  # no space at all


def test_folder_loader_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a folder"):
        documents_from_folder(tmp_path / "missing")


def test_jsonl_loader(tmp_path: Path) -> None:
    file = tmp_path / "docs.jsonl"
    rows = [
        {"title": "Paris", "text": "Capital of France."},
        {"title": "Rome", "text": "Capital of Italy.", "source": "x"},
    ]
    file.write_text("\n".join(json.dumps(r) for r in rows[:1]) + "\n\n" + json.dumps(rows[1]) + "\n")
    assert list(documents_from_jsonl(file)) == [
        Document("Paris", "Capital of France.", "docs.jsonl:1"),
        Document("Rome", "Capital of Italy.", "x"),
    ]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('{"title": "A", "text": ', "not valid JSON"),
        ('{"title": "A"}', "expected an object"),
        ("[1, 2]", "expected an object"),
    ],
)
def test_jsonl_loader_names_the_bad_line(tmp_path: Path, line: str, problem: str) -> None:
    file = tmp_path / "docs.jsonl"
    file.write_text('{"title": "A", "text": "fine"}\n' + line + "\n")
    with pytest.raises(ConfigError, match=f"line 2: {problem}"):
        list(documents_from_jsonl(file))
    assert not (tmp_path / "i.sqlite").exists()


def test_hotpotqa_loader_refuses_other_json(tmp_path: Path) -> None:
    file = tmp_path / "x.json"
    file.write_text('[{"question": "no context"}]')
    with pytest.raises(ConfigError, match="not a HotpotQA file"):
        documents_from_hotpotqa(file)


@pytest.mark.skipif(not SOTU.is_file(), reason=f"shared data not found at {DATA}")
def test_state_of_the_union_passages(tmp_path: Path) -> None:
    docs = documents_from_sotu(SOTU)
    assert 30 <= len(docs) <= 60
    assert all(len(d.text) <= CHUNK_CHARS for d in docs)
    path = tmp_path / "sotu.sqlite"
    build_index(docs, path)
    top = search_index(path, "Who is the new Speaker of the House?", 1)[0]
    assert "Kevin McCarthy" in top["text"]
