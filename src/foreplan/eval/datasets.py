"""Loaders for the offline copies under ``shared/data/``, read as they are.

    gsm8k     gsm8k/test.jsonl                          {question, answer: "... #### N"}
    hotpotqa  hotpotqa/hotpot_dev_distractor_sample.json [{question, answer, type, ...}]
    sotu      rewoo_sotu/SOTU_QA.csv                    columns question, answer

Each yields :class:`Example` in file order, so ``limit=N`` always means the same first N
questions. A missing or malformed file raises :class:`~foreplan.errors.ConfigError`
naming the file (and the line or row).
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from foreplan.errors import ConfigError
from foreplan.eval.metrics import gsm8k_gold

DEFAULT_DATA_DIR = Path("../shared/data")
"""Where the data lives, relative to the project root."""

FILES = {
    "gsm8k": Path("gsm8k/test.jsonl"),
    "hotpotqa": Path("hotpotqa/hotpot_dev_distractor_sample.json"),
    "sotu": Path("rewoo_sotu/SOTU_QA.csv"),
}
SOTU_TEXT = Path("rewoo_sotu/state_of_the_union.txt")
DATASETS = tuple(FILES)


@dataclass(frozen=True)
class Example:
    """One question with its gold answer."""

    id: str
    question: str
    answer: str
    """The gold answer; for GSM8K only the final number (commas removed)."""
    kind: str
    """The dataset (``gsm8k``, ``sotu``) or, for HotpotQA, ``hotpotqa/bridge`` or
    ``hotpotqa/comparison``."""


def dataset_file(dataset: str, data_dir: Path = DEFAULT_DATA_DIR) -> Path:
    """The file a dataset is read from.

    Raises:
        ConfigError: an unknown dataset, or the file is missing.
    """
    if dataset not in FILES:
        raise ConfigError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}.")
    path = Path(data_dir).expanduser() / FILES[dataset]
    if not path.is_file():
        raise ConfigError(f"{path} does not exist; point --data-dir at the shared data folder.")
    return path


def load_examples(dataset: str, data_dir: Path = DEFAULT_DATA_DIR, limit: int | None = None) -> list[Example]:
    """The first ``limit`` examples of ``dataset`` (all when ``limit`` is None).

    Raises:
        ConfigError: unknown dataset, missing or malformed file, negative limit.
    """
    if limit is not None and limit < 0:
        raise ConfigError(f"limit must be 0 or more, not {limit}.")
    path = dataset_file(dataset, data_dir)
    reader = {"gsm8k": _gsm8k, "hotpotqa": _hotpotqa, "sotu": _sotu}[dataset]
    return list(itertools.islice(reader(path), limit))


def _gsm8k(path: Path) -> Iterator[Example]:
    with path.open(encoding="utf-8") as lines:
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                yield Example(f"gsm8k-{lineno - 1}", obj["question"], gsm8k_gold(obj["answer"]), "gsm8k")
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ConfigError(f"{path}, line {lineno}: not a GSM8K record ({type(exc).__name__}: {exc}).") from exc


def _hotpotqa(path: Path) -> Iterator[Example]:
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(records, list):
            raise TypeError("expected a JSON list of questions")
        examples = [
            # The sample carries no ids; the position in the file is stable.
            Example(str(r.get("id") or r.get("_id") or f"hotpotqa-{i}"), r["question"], r["answer"],
                    f"hotpotqa/{r.get('type', 'unknown')}")
            for i, r in enumerate(records)
        ]
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path} is not a HotpotQA file ({type(exc).__name__}: {exc}).") from exc
    yield from examples


def _sotu(path: Path) -> Iterator[Example]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = csv.DictReader(f)
        if rows.fieldnames is None or not {"question", "answer"} <= set(rows.fieldnames):
            raise ConfigError(f"{path}: expected the columns question,answer, not {rows.fieldnames}.")
        for i, row in enumerate(rows):
            if not (row["question"] or "").strip():
                continue
            yield Example(f"sotu-{i}", row["question"].strip(), (row["answer"] or "").strip(), "sotu")
