"""Throw-away servers in tests: a free port, waiting until one answers (failing with the
tail of its log when it exits or never answers), and stopping it.

Used by the llama_cpp.server and ``foreplan serve`` fixtures and by the MariaDB and
PostgreSQL fixtures; import it as ``from servers import ...`` (tests/ is on sys.path).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers_http(url: str) -> Callable[[], bool]:
    """A readiness check: GET ``url`` succeeds."""
    def ready() -> bool:
        try:
            return httpx.get(url, timeout=2.0).is_success
        except httpx.TransportError:
            return False  # not listening yet

    return ready


def wait_until(ready: Callable[[], bool], proc: subprocess.Popen, name: str, log: Path, timeout: float) -> None:
    """Poll ``ready`` until it is true; fail the test, with the log's tail, when ``proc``
    exits first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"{name} exited with code {proc.returncode} before it answered:\n{_tail(log)}")
        if time.monotonic() > deadline:
            pytest.fail(f"{name} did not answer within {timeout:g} s:\n{_tail(log)}")
        time.sleep(0.2)


def stop(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Terminate ``proc``, and kill it when it does not exit within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else "(no log)"
