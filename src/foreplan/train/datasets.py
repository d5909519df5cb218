"""Find, read and convert training datasets, reporting every bad row by its index.

Datasets are named in a LLaMA-Factory ``dataset_info.json`` (its users' files work
unchanged) or given as a file path, whose format is guessed from its columns. JSON,
JSONL, CSV and Parquet load; rows that cannot be used are skipped with their index and
reason, or end the run before training under ``--strict``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foreplan.errors import DatasetError
from foreplan.train.formats import Conversation, RowError, from_alpaca, from_sharegpt, from_trelis

FORMATS = ("alpaca", "sharegpt", "trelis")


@dataclass
class DatasetSpec:
    name: str
    path: Path
    formatting: str
    columns: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class Loaded:
    conversations: list[Conversation]
    skipped: list[str]
    """``"name row 12: missing column 'output'"`` for each row left out."""


def read_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a JSON (list or JSON Lines), JSONL, CSV or Parquet file, or of every such
    file in a folder."""
    if path.is_dir():
        rows: list[dict[str, Any]] = []
        for child in sorted(p for p in path.iterdir() if p.suffix in (".json", ".jsonl", ".csv", ".parquet")):
            rows += read_rows(child)
        return rows
    if not path.exists():
        raise DatasetError(f"Dataset file {path} does not exist.")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".parquet"):
            import pandas as pd

            frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
            return frame.to_dict(orient="records")
        text = path.read_text(encoding="utf-8")
    except (OSError, ValueError, ImportError) as exc:
        raise DatasetError(f"Cannot read {path}: {exc}") from exc
    if suffix not in (".json", ".jsonl"):
        raise DatasetError(f"{path}: unsupported file type {suffix!r}; use .json, .jsonl, .csv or .parquet.")
    stripped = text.lstrip()
    if suffix == ".json" and stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}.") from exc
        return [r if isinstance(r, dict) else {"__not_an_object__": r} for r in data]
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path} line {number} is not JSON: {exc.msg}.") from exc
        rows.append(row if isinstance(row, dict) else {"__not_an_object__": row})
    return rows


def _guess_format(row: dict[str, Any]) -> str:
    if "conversations" in row or "messages" in row:
        return "sharegpt"
    if "userPrompt" in row and "assistantResponse" in row:
        return "trelis"
    if "instruction" in row and "output" in row:
        return "alpaca"
    raise DatasetError(f"Cannot tell the format from the columns {sorted(row)}; declare it in a "
                       "dataset_info.json (formatting: alpaca, sharegpt or trelis; columns: ...).")


def resolve(name: str, dataset_dir: Path) -> DatasetSpec:
    """A dataset name from ``dataset_dir/dataset_info.json``, or a file path."""
    info_path = dataset_dir / "dataset_info.json"
    if info_path.exists():
        try:
            info = json.loads(info_path.read_text())
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{info_path} is not valid JSON: {exc.msg} at line {exc.lineno}.") from exc
        if name in info:
            entry = info[name]
            if "file_name" not in entry:
                raise DatasetError(f"{info_path}: dataset {name!r} has no file_name (hub datasets are not "
                                   "reachable here; download the file and name it).")
            formatting = entry.get("formatting", "alpaca")
            if formatting not in FORMATS:
                raise DatasetError(f"{info_path}: dataset {name!r} has formatting {formatting!r}; "
                                   f"use one of {', '.join(FORMATS)}.")
            return DatasetSpec(name, dataset_dir / entry["file_name"], formatting,
                               entry.get("columns", {}), entry.get("tags", {}))
    path = Path(name)
    if path.exists():
        rows = read_rows(path)
        return DatasetSpec(name, path, _guess_format(rows[0]) if rows else "alpaca")
    known = ""
    if info_path.exists():
        known = f" Known in {info_path}: {', '.join(sorted(json.loads(info_path.read_text())))}."
    raise DatasetError(f"Dataset {name!r} is neither in {info_path} nor a file.{known}")


def convert(spec: DatasetSpec, rows: list[dict[str, Any]]) -> tuple[list[Conversation], list[str]]:
    conversations, skipped = [], []
    for index, row in enumerate(rows):
        try:
            if "__not_an_object__" in row:
                raise RowError("row is not a JSON object")
            if spec.formatting == "sharegpt":
                conversation = from_sharegpt(row, spec.columns, spec.tags)
            elif spec.formatting == "trelis":
                conversation = from_trelis(row, spec.columns)
            else:
                conversation = from_alpaca(row, spec.columns)
        except RowError as exc:
            skipped.append(f"{spec.name} row {index}: {exc}")
            continue
        conversation.meta = {"dataset": spec.name, "row": index}
        conversations.append(conversation)
    return conversations, skipped


def load_datasets(names: list[str], dataset_dir: Path, strict: bool = False,
                  max_samples: int | None = None) -> Loaded:
    """All named datasets as conversations.

    Raises:
        DatasetError: a dataset is missing or unreadable, a row is bad under ``strict``,
            or nothing usable is left.
    """
    if not names:
        raise DatasetError("No dataset given: pass --dataset NAME[,NAME...].")
    conversations: list[Conversation] = []
    skipped: list[str] = []
    for name in names:
        spec = resolve(name, dataset_dir)
        rows = read_rows(spec.path)
        if max_samples is not None:
            rows = rows[:max_samples]
        if not rows:
            raise DatasetError(f"Dataset {name!r} ({spec.path}) is empty.")
        good, bad = convert(spec, rows)
        if bad and strict:
            listed = "\n  ".join(bad[:10])
            raise DatasetError(f"{len(bad)} bad rows in {name!r} (--strict):\n  {listed}")
        conversations += good
        skipped += bad
    if not conversations:
        raise DatasetError("No usable rows in " + ", ".join(names) + ":\n  " + "\n  ".join(skipped[:10]))
    return Loaded(conversations, skipped)
