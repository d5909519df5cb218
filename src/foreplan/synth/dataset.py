"""Write synthesized examples where training and evaluation read them.

    OUT/train.jsonl              alpaca rows (instruction = the planner prompt, output = the plan)
    OUT/heldout.jsonl            the same for the held-out tasks (for eval loss only)
    OUT/dataset_info.json        LLaMA-Factory's declaration of both files, reusable unchanged
    HELDOUT_FILE                 planner task rows for ``foreplan eval planner --tasks``

Files are written whole through a temporary name, so an interrupted run never leaves a
half-written dataset where a training run would pick it up.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from foreplan.synth.plans import SynthReport

_COLUMNS = {"prompt": "instruction", "query": "input", "response": "output"}


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def dataset_info(train: str = "train.jsonl", heldout: str = "heldout.jsonl") -> dict[str, Any]:
    """LLaMA-Factory's ``dataset_info.json`` entries for the two files."""
    return {"rewoo_plans": {"file_name": train, "columns": dict(_COLUMNS)},
            "rewoo_plans_heldout": {"file_name": heldout, "columns": dict(_COLUMNS)}}


def declare(out: Path, rows: list[dict[str, Any]], name: str, file_name: str) -> tuple[Path, Path]:
    """Write ``rows`` to ``out/file_name`` and add ``name`` to the folder's
    ``dataset_info.json``, keeping the entries already there. Returns both paths."""
    out = Path(out)
    path, info_path = out / file_name, out / "dataset_info.json"
    write_jsonl(path, rows)
    info = json.loads(info_path.read_text(encoding="utf-8")) if info_path.is_file() else {}
    info[name] = {"file_name": file_name, "columns": dict(_COLUMNS)}
    _write_text(info_path, json.dumps(info, indent=2) + "\n")
    return path, info_path


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_dataset(report: SynthReport, out: Path, heldout_file: Path) -> dict[str, Path]:
    """Write the training set, its held-out twin, ``dataset_info.json`` and the task file.

    Returns:
        What was written, by role.
    """
    out = Path(out)
    paths = {"train": out / "train.jsonl", "heldout": out / "heldout.jsonl", "dataset_info": out / "dataset_info.json",
             "tasks": Path(heldout_file)}
    write_jsonl(paths["train"], (e.alpaca() for e in report.split("train")))
    write_jsonl(paths["heldout"], (e.alpaca() for e in report.split("heldout")))
    write_jsonl(paths["tasks"], (e.task_row() for e in report.split("heldout")))
    # Other sets declared in the folder (taskbench_plans) stay declared.
    info = json.loads(paths["dataset_info"].read_text(encoding="utf-8")) if paths["dataset_info"].is_file() else {}
    _write_text(paths["dataset_info"], json.dumps(info | dataset_info(), indent=2) + "\n")
    return paths
