"""The results file every eval writes: one JSON row per finished item, appended at once,
so an interrupted run resumes where it stopped."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_results(path: Path) -> dict[str, dict[str, Any]]:
    """Finished rows of an earlier run, by item id (a torn last line is ignored)."""
    rows: dict[str, dict[str, Any]] = {}
    if Path(path).is_file():
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict) and "id" in row:
                rows[str(row["id"])] = row
    return rows
