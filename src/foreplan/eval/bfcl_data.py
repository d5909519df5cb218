"""BFCL's questions and ground truth, read from the ``bfcl-eval`` package's own files.

    bfcl_eval/data/BFCL_v4_<category>.json                   {"id", "question": [[messages]], "function": [docs]}
    bfcl_eval/data/possible_answer/BFCL_v4_<category>.json   {"id", "ground_truth": [{name: {arg: [allowed]}}]}

Both are JSON Lines. Irrelevance categories have no answer file: the right answer is
no call. Only single-turn Python categories are supported: they are the ones BFCL
scores with the AST checker on Python values (Java, JavaScript and multi-turn need
other checkers). The package is found with ``importlib`` and none of its modules is
imported here; its pip dependencies (numpy 1.26 pinned, vLLM-era model clients) are
never needed, hence the ``--no-deps`` install in the error message.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from foreplan.errors import ConfigError, MissingExtraError
from foreplan.eval.results import read_json_lines

#: The five categories of the issue; the defaults of ``foreplan eval bfcl``.
DEFAULT_CATEGORIES = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")
#: Every category this evaluator can score (single turn, Python, AST checker or irrelevance).
CATEGORIES = (*DEFAULT_CATEGORIES, "live_simple", "live_multiple", "live_parallel",
              "live_parallel_multiple", "live_irrelevance")
BFCL_VERSION = "2026.3.23"
INSTALL_HINT = (
    "BFCL's questions and checker come from the package 'bfcl-eval', which is not installed. "
    f"Install it without its dependencies: pip install --no-deps bfcl-eval=={BFCL_VERSION} "
    "(they pin numpy 1.26 and pull every model vendor's client; the checker needs none of them)."
)


class BfclNotInstalledError(MissingExtraError):
    """The ``bfcl-eval`` package is missing (it must be installed without its dependencies)."""

    def __init__(self) -> None:
        super().__init__("bfcl_eval", "eval")
        self.args = (INSTALL_HINT,)


@dataclass(frozen=True)
class BfclQuestion:
    id: str
    category: str
    messages: list[dict[str, str]]
    """The first (only) turn: chat messages, usually one user message."""
    functions: list[dict[str, Any]]
    """Gorilla function docs, exactly as BFCL ships them (the checker reads these)."""
    ground_truth: list[dict[str, Any]] | None
    """``[{name: {arg: [allowed values]}}]``; ``None`` for irrelevance (no call is right)."""


def is_irrelevance(category: str) -> bool:
    return "irrelevance" in category


def default_data_dir() -> Path:
    """``bfcl_eval/data`` of the installed package.

    Raises:
        BfclNotInstalledError: the package is not installed.
    """
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise BfclNotInstalledError()
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, row in read_json_lines(path, "BFCL data file"):
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise ConfigError(f"{path}:{number} is not a JSON object with a string \"id\"")
        rows.append(row)
    return rows


def load_category(category: str, limit: int | None = None, data_dir: Path | None = None) -> list[BfclQuestion]:
    """The first ``limit`` questions of one category, with their ground truth.

    Raises:
        ConfigError: unknown category; a file that is missing or malformed; a question
            without ground truth, several turns, or no functions.
        BfclNotInstalledError: ``data_dir`` is not given and the package is missing.
    """
    if category not in CATEGORIES:
        raise ConfigError(f"unknown BFCL category {category!r}; choose from {', '.join(CATEGORIES)}")
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    path = data_dir / f"BFCL_v4_{category}.json"
    rows = _read_jsonl(path)[:limit]
    answers: dict[str, Any] = {}
    if not is_irrelevance(category):
        answers = {r["id"]: r.get("ground_truth") for r in _read_jsonl(data_dir / "possible_answer" / path.name)}
    questions = []
    for row in rows:
        turns, functions = row.get("question"), row.get("function")
        if not (isinstance(turns, list) and len(turns) == 1 and isinstance(turns[0], list)):
            raise ConfigError(f"{path}: question {row['id']} is not a single turn")
        if not (isinstance(functions, list) and functions and all(isinstance(f, dict) and "name" in f
                                                                  for f in functions)):
            raise ConfigError(f"{path}: question {row['id']} has no function docs")
        truth = answers.get(row["id"])
        if not is_irrelevance(category) and not isinstance(truth, list):
            raise ConfigError(f"{path}: question {row['id']} has no ground truth in possible_answer/")
        questions.append(BfclQuestion(row["id"], category, turns[0], functions, truth))
    return questions


def load_questions(categories: list[str] | tuple[str, ...], limit: int | None = None,
                   data_dir: Path | None = None) -> list[BfclQuestion]:
    """:func:`load_category` for each category in turn (``limit`` applies per category).

    Raises:
        ConfigError: no category given, or as :func:`load_category`.
    """
    if not categories:
        raise ConfigError(f"no BFCL category given; choose from {', '.join(CATEGORIES)}")
    return [q for c in categories for q in load_category(c, limit, data_dir)]
