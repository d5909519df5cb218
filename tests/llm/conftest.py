"""A real llama-cpp-python server on 127.0.0.1 for the OpenAI HTTP backend's tests.

It serves the embedded Qwen2.5-Coder-0.5B, which carries a ChatML template (the Gemma
base model has none, so the server could not chat with it). The server's output goes to
a file, so a server that dies before answering fails the test with its own log.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

_START_TIMEOUT_S = 180.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(path: Path) -> str:
    return path.read_text(errors="replace")[-4000:]


def _wait_until_ready(proc: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with code {proc.returncode} before answering:\n{_log_tail(log)}")
        try:
            if httpx.get(f"{base_url}/models", timeout=2.0).is_success:
                return
        except httpx.TransportError:
            pass  # still loading the model
        time.sleep(0.25)
    pytest.fail(f"llama_cpp.server did not answer GET /v1/models within {_START_TIMEOUT_S:g} s:\n{_log_tail(log)}")


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT/v1``) of a running ``llama_cpp.server``."""
    from foreplan.llm.registry import get_model, pull

    model = pull(get_model("qwen2.5-coder-0.5b"))
    port = _free_port()
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", "2048", "--n_threads", "2"]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        base_url = f"http://127.0.0.1:{port}/v1"
        _wait_until_ready(proc, base_url, log)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
