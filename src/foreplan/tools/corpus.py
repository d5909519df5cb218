"""A local full-text index, so ``search_wiki`` works with no network at all.

Documents (a folder of .txt/.md files, a JSONL file, the HotpotQA sample's paragraphs,
the ReWOO State of the Union text) are cut into focused passages and stored in one
SQLite file with an FTS5 table; searches rank passages with FTS5's built-in BM25.

    loader ─> Document(title, text, source) ─> build_index ─> wiki.sqlite ─> search_index

The index is written to a temporary file next to its target and renamed only once it
is complete, so a crash while indexing never leaves half an index behind. The model's
query is never handed to FTS5 as syntax: it is cut into words, each word is quoted and
the words are OR-ed, so questions like ``Who wrote "Dune" (1965)?`` still match.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foreplan.errors import ConfigError, ToolError
from foreplan.llm.focus import match_expression

CHUNK_CHARS = 1000
"""Target passage length: long enough to hold a fact, short enough to stay on topic."""
_BATCH = 500
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_REBUILD_HINT = "Run `foreplan corpus build` to (re)build it."


@dataclass(frozen=True)
class Document:
    """One passage of the index."""

    title: str
    text: str
    source: str = ""
    """Where the passage came from (file path, ``file#chunk``, dataset name)."""


def chunk_text(text: str, limit: int = CHUNK_CHARS) -> list[str]:
    """Group blank-line-separated paragraphs into passages of about ``limit`` chars.

    A paragraph longer than ``limit`` is cut at sentence ends (or spaces) instead.
    """
    pieces: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = " ".join(para.split())
        while len(para) > limit:
            cut = max(para.rfind(end, 0, limit) for end in (". ", "? ", "! ")) + 1
            if cut <= limit // 3:  # no sentence end late enough: cut at a space, or hard
                cut = para.rfind(" ", 0, limit) if " " in para[:limit] else limit
            pieces.append(para[:cut].strip())
            para = para[cut:].strip()
        if para:
            pieces.append(para)
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 2 + len(piece) <= limit:
            chunks[-1] = f"{chunks[-1]}\n\n{piece}"
        else:
            chunks.append(piece)
    return chunks


def _chunked(title: str, text: str, source: str) -> Iterator[Document]:
    chunks = chunk_text(text)
    for i, chunk in enumerate(chunks, 1):
        yield Document(title, chunk, source if len(chunks) == 1 else f"{source}#{i}")


def _require(path: Path, kind: str) -> Path:
    path = Path(path).expanduser()
    if not (path.is_dir() if kind == "folder" else path.is_file()):
        raise ConfigError(f"{path} is not a {kind}; point at an existing {kind}.")
    return path


def documents_from_folder(path: Path) -> Iterator[Document]:
    """Passages of every .txt and .md file under ``path`` (recursively, sorted).

    The title is the file's first Markdown heading, or else its name without suffix.

    Raises:
        ConfigError: ``path`` is not a folder.
    """
    root = _require(path, "folder")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".txt", ".md") and p.is_file())

    def generate() -> Iterator[Document]:
        for file in files:
            text = file.read_text(encoding="utf-8-sig", errors="replace")
            heading = _HEADING_RE.search(text) if file.suffix.lower() == ".md" else None
            title = heading.group(1) if heading else file.stem
            yield from _chunked(title, text, file.relative_to(root).as_posix())

    return generate()


def documents_from_jsonl(path: Path) -> Iterator[Document]:
    """Passages of a JSON Lines file whose objects hold ``title`` and ``text`` strings
    (and optionally ``source``). Blank lines are skipped; long texts are chunked.

    Raises:
        ConfigError: the file is missing, or a line is not such an object (the message
            names the line).
    """
    file = _require(path, "file")

    def generate() -> Iterator[Document]:
        with file.open(encoding="utf-8-sig") as lines:
            for lineno, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                where = f"{file}, line {lineno}"
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ConfigError(f"{where}: not valid JSON ({exc.msg}).") from exc
                if not isinstance(obj, dict) or not isinstance(obj.get("title"), str) or not isinstance(
                    obj.get("text"), str
                ):
                    raise ConfigError(f'{where}: expected an object like {{"title": "...", "text": "..."}}.')
                source = obj.get("source") if isinstance(obj.get("source"), str) else f"{file.name}:{lineno}"
                yield from _chunked(obj["title"], obj["text"], source)

    return generate()


def documents_from_hotpotqa(path: Path) -> list[Document]:
    """The context paragraphs of a HotpotQA file, one per unique title.

    Reads the Hugging Face layout (``context: {title: [...], sentences: [[...]]}``) used by
    ``shared/data/hotpotqa/`` and the original one (``context: [[title, [sentences]]]``).

    Raises:
        ConfigError: the file is missing or not HotpotQA-shaped.
    """
    file = _require(path, "file")
    try:
        questions = json.loads(file.read_text(encoding="utf-8"))
        seen: dict[str, Document] = {}
        for q in questions:
            ctx = q["context"]
            pairs = zip(ctx["title"], ctx["sentences"]) if isinstance(ctx, dict) else ctx
            for title, sentences in pairs:
                if title not in seen:  # the same paragraph recurs across questions
                    seen[title] = Document(title, "".join(sentences).strip(), f"hotpotqa:{title}")
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{file} is not a HotpotQA file ({type(exc).__name__}: {exc}).") from exc
    return list(seen.values())


def documents_from_sotu(path: Path, title: str = "2023 State of the Union address") -> list[Document]:
    """The ReWOO State of the Union transcript, its (one-sentence) paragraphs grouped
    into passages of about :data:`CHUNK_CHARS` characters.

    Raises:
        ConfigError: the file is missing.
    """
    file = _require(path, "file")
    return list(_chunked(title, file.read_text(encoding="utf-8-sig"), file.name))


def build_index(
    documents: Iterable[Document],
    path: Path,
    progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Write an FTS5 index of ``documents`` to ``path``, replacing any index there.

    Args:
        documents: the passages; any iterable (a generator is read once).
        path: the SQLite file to write; its folder is created.
        progress: called as ``progress(done, total)`` after each batch; ``total`` is
            ``None`` when ``documents`` has no length.

    Returns:
        The number of passages indexed.

    Raises:
        Whatever the documents' iterator raises; no file is left behind then.
    """
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    total = len(documents) if hasattr(documents, "__len__") else None  # type: ignore[arg-type]
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    done = 0
    try:
        db = sqlite3.connect(tmp)
        try:
            # No journal: the file is private until the rename, so a crash loses nothing.
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            db.execute(
                "CREATE VIRTUAL TABLE passages USING fts5("
                "title, text, source UNINDEXED, tokenize='porter unicode61 remove_diacritics 2')"
            )
            batch: list[tuple[str, str, str]] = []
            for doc in documents:
                if doc.text.strip():
                    batch.append((doc.title, doc.text, doc.source))
                if len(batch) >= _BATCH:
                    db.executemany("INSERT INTO passages VALUES (?, ?, ?)", batch)
                    done += len(batch)
                    batch.clear()
                    if progress:
                        progress(done, total)
            db.executemany("INSERT INTO passages VALUES (?, ?, ?)", batch)
            done += len(batch)
            db.execute("INSERT INTO passages(passages) VALUES ('optimize')")
            db.commit()
        finally:
            db.close()
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if progress:
        progress(done, total)
    return done


def search_index(path: Path, query: str, k: int = 3) -> list[dict[str, Any]]:
    """The ``k`` passages of the index at ``path`` that best match ``query`` (BM25).

    Returns:
        ``[{"title", "text", "source", "score"}]``, best first; a higher score is better.

    Raises:
        ToolError: the index is missing or unreadable, the query holds no word, or
            ``k`` is not positive.
    """
    path = Path(path).expanduser()
    if k < 1:
        raise ToolError(f"k must be at least 1, not {k}.")
    if not path.is_file():
        raise ToolError(f"No search index at {path}. {_REBUILD_HINT}")
    expression = match_expression(query)
    if not expression:
        raise ToolError(f"The query {query!r} has no words to search for; please try again with keywords.")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            # Title matches count 4x: a passage about a thing usually carries its name.
            rows = db.execute(
                "SELECT title, text, source, bm25(passages, 4.0, 1.0) AS rank FROM passages"
                " WHERE passages MATCH ? ORDER BY rank LIMIT ?",
                (expression, min(k, 100)),
            ).fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise ToolError(f"The search index at {path} is unreadable ({exc}). {_REBUILD_HINT}") from exc
    # FTS5's bm25() is negative, lower meaning better; flip it so higher is better.
    return [{"title": t, "text": x, "source": s, "score": round(-r, 4)} for t, x, s, r in rows]
