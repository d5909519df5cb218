"""The JSON Lines files of the evals: task and question files they read (errors name the
line), and the results file each writes, one row per finished item appended at once, so an
interrupted run resumes where it stopped."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from foreplan.errors import ConfigError

Key = Callable[[dict[str, Any]], str]
Item = TypeVar("Item")


def _by_id(row: dict[str, Any]) -> str:
    return str(row["id"])


def read_json_lines(path: Path, what: str) -> Iterator[tuple[int, Any]]:
    """(line number, value) for every non-blank line of ``path``.

    Raises:
        ConfigError: the file is missing (``"<what> {path} does not exist"``) or a line is
            not JSON (the message names the line).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} {path} does not exist")
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except ValueError as exc:
            raise ConfigError(f"{path}:{number} is not JSON ({exc})") from exc


def read_results(path: Path, key: Key = _by_id) -> dict[str, dict[str, Any]]:
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


def start_results(path: Path, resume: bool, key: Key = _by_id) -> dict[str, dict[str, Any]]:
    """Ready ``path`` for appending: the rows an earlier run finished when resuming,
    otherwise an emptied file and no rows."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if resume:
        return read_results(path, key)
    path.write_text("", encoding="utf-8")
    return {}


def append_result(path: Path, row: dict[str, Any]) -> None:
    """Add one finished row at once (a crash loses at most the row being written)."""
    with Path(path).open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")


def run_resumable(items: Sequence[Item], item_id: Callable[[Item], str], answer: Callable[[Item], dict[str, Any]],
                  path: Path, resume: bool, on_result: Callable[[dict[str, Any]], None] | None = None,
                  ) -> list[dict[str, Any]]:
    """``answer`` every item whose id ``path`` does not hold yet (all of them unless
    resuming), appending each row at once; every item's row, in item order."""
    done = start_results(path, resume)
    for item in items:
        if item_id(item) in done:
            continue
        row = answer(item)
        append_result(path, row)
        done[item_id(item)] = row
        if on_result is not None:
            on_result(row)
    return [done[item_id(i)] for i in items if item_id(i) in done]
