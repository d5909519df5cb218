"""Memory across runs: every run kept in a SQLite store, and the good ones reused.

"Agent = LLM + memory + planning + tools." Each run is stored with its instruction, the
toolkit's fingerprint, its plan, a summary of its evidence, its answer, usage and
outcome. The planner then learns from the past in two ways:

    examples   the most similar successful runs (BM25 over instructions, SQLite FTS5)
               whose plans use only the tools the planner sees become its worked examples,
               in place of the fixed one: small planners copy their examples' form
    reuse      the same instruction on the same toolkit reuses the stored plan once it
               validates against the toolkit of today; no planner call at all

"Successful" means every step ok and an answer found, or rated good by the user
(``foreplan runs rate ID good``); a run rated bad is never reused. The store lives in
the user data dir (``$FOREPLAN_MEMORY`` names another file; ``--no-memory`` turns it off),
keeps at most ``max_runs`` runs (the oldest unrated ones go first), and is safe for the
server's threads and several CLI processes at once: WAL journal, a busy timeout, and one
short transaction per write, each on its own connection.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foreplan.errors import ConfigError, RunStoreError
from foreplan.tools.corpus import match_expression
from foreplan.types import Evidence, Plan, Status

MAX_RUNS = 2000
"""Runs kept; beyond this the oldest unrated ones are forgotten."""
_EVIDENCE_CHARS = 300
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    instruction TEXT NOT NULL,
    normalized TEXT NOT NULL,
    toolkit TEXT NOT NULL,
    tools TEXT NOT NULL,
    plan TEXT NOT NULL,
    evidence TEXT NOT NULL,
    answer TEXT NOT NULL,
    usage TEXT NOT NULL,
    seconds REAL NOT NULL,
    outcome TEXT NOT NULL,
    rating TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_task ON runs (normalized, toolkit);
CREATE VIRTUAL TABLE IF NOT EXISTS runs_text USING fts5(
    instruction, content='runs', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS runs_added AFTER INSERT ON runs BEGIN
    INSERT INTO runs_text(rowid, instruction) VALUES (new.id, new.instruction);
END;
CREATE TRIGGER IF NOT EXISTS runs_removed AFTER DELETE ON runs BEGIN
    INSERT INTO runs_text(runs_text, rowid, instruction) VALUES ('delete', old.id, old.instruction);
END;
"""
_GOOD = "(rating = 'good' OR (rating IS NULL AND outcome = 'ok'))"


def default_path() -> Path:
    """``$FOREPLAN_MEMORY``, else ``runs.sqlite`` in the user data dir."""
    env = os.environ.get("FOREPLAN_MEMORY")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("foreplan")) / "runs.sqlite"


def normalize(instruction: str) -> str:
    """What makes two instructions the same task: case and spacing do not."""
    return " ".join(instruction.lower().split())


def outcome(evidence: dict[str, Evidence], answered: bool) -> str:
    """``ok`` (every step ok, an answer found), ``steps_failed`` or ``no_answer``."""
    if any(e.status is not Status.OK for e in evidence.values()):
        return "steps_failed"
    return "ok" if answered else "no_answer"


@dataclass(frozen=True)
class StoredRun:
    id: int
    at: float
    instruction: str
    toolkit: str
    tools: list[str]
    plan: str
    evidence: dict[str, Any]
    answer: str
    usage: dict[str, Any]
    seconds: float
    outcome: str
    rating: str | None

    @property
    def good(self) -> bool:
        return self.rating == "good" or (self.rating is None and self.outcome == "ok")

    def example(self) -> str:
        """The run as a worked example for the planner: its task, then its plan."""
        return f"Task: {self.instruction}\n{self.plan.strip()}"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at, "instruction": self.instruction, "toolkit": self.toolkit,
                "tools": self.tools, "plan": self.plan, "evidence": self.evidence, "answer": self.answer,
                "usage": self.usage, "seconds": self.seconds, "outcome": self.outcome, "rating": self.rating}


class RunMemory:
    """The runs of every agent run on this machine (or in one ``path``)."""

    def __init__(self, path: str | Path | None = None, max_runs: int = MAX_RUNS) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.max_runs = max_runs
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
        except (OSError, RunStoreError) as exc:
            raise RunStoreError(f"the run store {self.path} cannot be opened ({exc}); set FOREPLAN_MEMORY to a "
                                "writable file or run with --no-memory") from exc

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One connection per operation (sqlite3 connections are not shared across
        threads); a locked or broken store is a :class:`RunStoreError`."""
        try:
            db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise RunStoreError(f"the run store {self.path} cannot be opened: {exc}") from exc
        try:
            db.execute("PRAGMA busy_timeout=10000")
            db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, never corrupt
            yield db
        except sqlite3.Error as exc:
            raise RunStoreError(f"the run store {self.path} failed: {exc}") from exc
        finally:
            db.close()

    def add(self, instruction: str, toolkit: str, plan: Plan, evidence: dict[str, Evidence], answer: str,
            usage: dict[str, Any], seconds: float, answered: bool = True) -> int:
        """Store one finished run; returns its id. Forgets the oldest unrated runs beyond
        ``max_runs``."""
        tool_of = {s.id: s.tool for s in plan.steps}
        summary = {k: {"tool": tool_of.get(k, ""), "status": e.status.value, "text": e.text()[:_EVIDENCE_CHARS]}
                   for k, e in evidence.items()}
        row = (time.time(), instruction, normalize(instruction), toolkit,
               json.dumps(sorted({s.tool for s in plan.steps})), plan.render(), json.dumps(summary, ensure_ascii=False),
               answer, json.dumps(usage), seconds, outcome(evidence, answered))
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                cursor = db.execute("INSERT INTO runs (at, instruction, normalized, toolkit, tools, plan, evidence, "
                                    "answer, usage, seconds, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
                run_id = int(cursor.lastrowid)
                excess = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] - self.max_runs
                if excess > 0:
                    db.execute("DELETE FROM runs WHERE id IN (SELECT id FROM runs ORDER BY rating IS NOT NULL, id "
                               "LIMIT ?)", (excess,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return run_id

    def get(self, run_id: int) -> StoredRun:
        """Raises: ConfigError: no run has this id."""
        with self._connect() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise ConfigError(f"no stored run has id {run_id}; `foreplan runs list` shows them")
        return _run(row)

    def recent(self, limit: int = 20) -> list[StoredRun]:
        with self._connect() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [_run(r) for r in rows]

    def rate(self, run_id: int, rating: str) -> None:
        """Mark a run ``good`` (reused, shown as an example) or ``bad`` (never reused).

        Raises: ConfigError: an unknown rating or id."""
        if rating not in ("good", "bad"):
            raise ConfigError(f"a rating is good or bad, not {rating!r}")
        with self._connect() as db:
            if db.execute("UPDATE runs SET rating = ? WHERE id = ?", (rating, run_id)).rowcount == 0:
                raise ConfigError(f"no stored run has id {run_id}; `foreplan runs list` shows them")

    def forget(self, run_id: int | None = None) -> int:
        """Delete one run, or every run (``None``); returns how many were deleted."""
        with self._connect() as db:
            if run_id is None:
                return db.execute("DELETE FROM runs").rowcount
            return db.execute("DELETE FROM runs WHERE id = ?", (run_id,)).rowcount

    def __len__(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def repeat(self, instruction: str, toolkit: str) -> StoredRun | None:
        """The newest good run of the same instruction on the same toolkit, if any."""
        with self._connect() as db:
            row = db.execute(f"SELECT {_COLUMNS} FROM runs WHERE normalized = ? AND toolkit = ? AND {_GOOD} "
                             "ORDER BY id DESC LIMIT 1", (normalize(instruction), toolkit)).fetchone()
        return _run(row) if row else None

    def similar(self, instruction: str, tools: set[str], k: int = 1) -> list[StoredRun]:
        """The ``k`` good runs whose instructions best match ``instruction`` (BM25) and
        whose plans use only ``tools``; never the same instruction (that is reuse)."""
        expression = match_expression(instruction)
        if not expression or k < 1:
            return []
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {', '.join('r.' + c for c in _COLUMNS.split(', '))} FROM runs_text JOIN runs r "
                f"ON r.id = runs_text.rowid WHERE runs_text MATCH ? AND r.normalized != ? AND {_GOOD} "
                "ORDER BY bm25(runs_text) LIMIT 50", (expression, normalize(instruction))).fetchall()
        found: list[StoredRun] = []
        for run in map(_run, rows):
            if set(run.tools) <= tools and all(run.plan != f.plan for f in found):
                found.append(run)
            if len(found) == k:
                break
        return found


_COLUMNS = "id, at, instruction, toolkit, tools, plan, evidence, answer, usage, seconds, outcome, rating"


def _run(row: tuple) -> StoredRun:
    (run_id, at, instruction, toolkit, tools, plan, evidence, answer, usage, seconds, result, rating) = row
    return StoredRun(run_id, at, instruction, toolkit, json.loads(tools), plan, json.loads(evidence), answer,
                     json.loads(usage), seconds, result, rating)
