"""The results file every eval writes: one JSON row per finished item, appended at once,
so an interrupted run resumes where it stopped."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def read_results(path: Path, key: Callable[[dict[str, Any]], str] = lambda row: str(row["id"])
                 ) -> dict[str, dict[str, Any]]:
    """Finished rows of an earlier run, by ``key`` (the item id; a torn last line is ignored)."""
    rows: dict[str, dict[str, Any]] = {}
    if Path(path).is_file():
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict) and "id" in row:
                rows[key(row)] = row
    return rows


def append_result(path: Path, row: dict[str, Any]) -> None:
    """Add one finished row at once (a crash loses at most the row being written)."""
    with Path(path).open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
