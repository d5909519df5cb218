"""Shared for the eval tests: where the third-party data lives, and BFCL's package.

``bfcl-eval`` declares dependencies that cannot be installed beside ours (numpy 1.26 and
every vendor's SDK) though its data and AST checker need none of them, so it cannot be
an extra: it is installed here, the first time the eval tests are collected, with
``pip install --no-deps`` from the package index (as the MariaDB tests install their
server with apt). Users do the same by hand; ``foreplan eval bfcl`` says so.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from foreplan.eval.bfcl_data import BFCL_VERSION

DATA_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def _ensure_bfcl_eval() -> None:
    if importlib.util.find_spec("bfcl_eval") is not None:
        return
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", f"bfcl-eval=={BFCL_VERSION}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 and os.environ.get("CI"):
        raise pytest.UsageError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    importlib.invalidate_caches()  # elsewhere the BFCL tests skip, naming the command


_ensure_bfcl_eval()


@pytest.fixture
def data_dir() -> Path:
    if not DATA_DIR.is_dir():
        pytest.fail(f"the shared data folder is missing: {DATA_DIR}")
    return DATA_DIR
