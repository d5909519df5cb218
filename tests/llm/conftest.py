"""A real llama-cpp-python server on 127.0.0.1 for the OpenAI HTTP backend's tests.

It serves the embedded Qwen2.5-Coder-0.5B, which carries a ChatML template (the Gemma
base model has none, so the server could not chat with it). The server's output goes to
a file, so a server that dies before answering fails the test with its own log.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
from servers import answers_http, free_port, stop, wait_until

_START_TIMEOUT_S = 180.0


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT/v1``) of a running ``llama_cpp.server``."""
    from foreplan.llm.registry import get_model, pull

    model = pull(get_model("qwen2.5-coder-0.5b"))
    port = free_port()
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
               "--port", str(port), "--n_ctx", "2048", "--n_threads", "2"]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        base_url = f"http://127.0.0.1:{port}/v1"
        wait_until(answers_http(f"{base_url}/models"), proc, "llama_cpp.server", log, _START_TIMEOUT_S)
        yield base_url
    finally:
        stop(proc, timeout=15)
