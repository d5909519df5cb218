"""Headline ratios of the bench scripts, collected for ``bench/run_all.py``.

Each script prints its own table; it also calls :func:`record` for each ratio it has a
target for. With ``FOREPLAN_BENCH_RESULTS=FILE`` set (``run_all.py`` sets it) every
call appends one JSON line there; without it, nothing happens.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ENV = "FOREPLAN_BENCH_RESULTS"


def record(bench: str, measure: str, ratio: float, target: str, passed: bool | None, detail: str = "") -> None:
    """One headline figure: ``ratio`` against ``target`` (e.g. "≥ 0.95"); ``passed`` is
    None where there is no target."""
    path = os.environ.get(ENV)
    if not path:
        return
    row = {"bench": bench, "measure": measure, "ratio": round(ratio, 3), "target": target, "passed": passed,
           "detail": detail}
    with Path(path).open("a", encoding="utf-8") as out:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
