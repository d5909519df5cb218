"""What ``foreplan serve`` costs over llama.cpp itself, and how it compares with
llama-cpp-python's own server, on the embedded Qwen 0.5B.

    FOREPLAN_THREADS=1 python bench/serve.py [--tokens 64] [--reps 5]

1. Generation tokens/s for one chat request of ``--tokens`` tokens (greedy), three ways
   in the same run, alternated request by request so they share the machine's noise:
   direct llama-cpp-python (``Llama.create_chat_completion`` in this process),
   ``foreplan serve`` over HTTP, ``python -m llama_cpp.server`` over HTTP, and foreplan's
   ``LlamaCppLLM`` in this process (to tell HTTP overhead from decoding overhead).
   Targets: foreplan / direct ≥ 0.95, foreplan / llama_cpp.server ≥ 1.0.
2. p50/p95 latency of whole requests with 1, 4 and 16 concurrent clients against both
   servers (each serves one request at a time; the others wait in its queue).

Tokens/s is completion tokens over the whole request's wall time (prompt included, as a
user sees it). All three use the same GGUF file, context size and thread count
(``FOREPLAN_THREADS``, default 1 here: the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from _results import record  # bench/_results.py: collected by bench/run_all.py

os.environ.setdefault("FOREPLAN_THREADS", "1")
THREADS = int(os.environ["FOREPLAN_THREADS"])
N_CTX = 4096  # foreplan's LlamaCppLLM default
MODEL = "qwen2.5-coder-0.5b"
PROMPT = [{"role": "user", "content": "Write a long, detailed story about a lighthouse keeper and the sea."}]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(argv: list[str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """Start a server subprocess and wait until GET /v1/models answers."""
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{argv[2]} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).is_success:
                return proc
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.25)
    proc.kill()
    sys.exit(f"{argv[2]} did not start:\n{log.read_text(errors='replace')[-3000:]}")


def http_chat(base: str, tokens: int) -> Callable[[], tuple[float, int]]:
    """One blocking chat request → (seconds, completion tokens)."""
    body = {"model": "planner", "messages": PROMPT, "max_tokens": tokens, "temperature": 0}

    def call() -> tuple[float, int]:
        started = time.perf_counter()
        r = httpx.post(f"{base}/v1/chat/completions", json=body, timeout=300)
        r.raise_for_status()
        return time.perf_counter() - started, r.json()["usage"]["completion_tokens"]

    return call


def direct_chat(path: Path, tokens: int) -> Callable[[], tuple[float, int]]:
    import llama_cpp

    llama = llama_cpp.Llama(model_path=str(path), n_ctx=N_CTX, n_threads=THREADS, n_threads_batch=THREADS,
                            verbose=False)

    def call() -> tuple[float, int]:
        started = time.perf_counter()
        out = llama.create_chat_completion(PROMPT, max_tokens=tokens, temperature=0)
        return time.perf_counter() - started, out["usage"]["completion_tokens"]

    return call


def foreplan_in_process(path: Path, tokens: int) -> Callable[[], tuple[float, int]]:
    """foreplan's LlamaCppLLM without HTTP: splits the server's cost into HTTP and decoding."""
    from foreplan.llm.base import GenerationOptions
    from foreplan.llm.llamacpp import LlamaCppLLM

    llm, options = LlamaCppLLM(path, n_ctx=N_CTX), GenerationOptions(max_tokens=tokens, temperature=0)

    def call() -> tuple[float, int]:
        started = time.perf_counter()
        out = llm.generate(PROMPT, options)
        return time.perf_counter() - started, out.usage.completion_tokens

    return call


async def _concurrent(base: str, clients: int, tokens: int) -> list[float]:
    body = {"model": "planner", "messages": PROMPT, "max_tokens": tokens, "temperature": 0}
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=600, limits=limits) as client:
        async def one() -> float:
            started = time.perf_counter()
            r = await client.post("/v1/chat/completions", json=body)
            r.raise_for_status()
            return time.perf_counter() - started

        return list(await asyncio.gather(*(one() for _ in range(clients))))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--reps", type=int, default=5, help="requests per way for tokens/s")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()

    from foreplan.llm.registry import get_model, pull

    path = pull(get_model(MODEL))
    logs = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    env_note = f"{os.cpu_count()} cores, {THREADS} llama.cpp thread(s), n_ctx {N_CTX}, {args.tokens} tokens"
    print(f"# foreplan serve bench: {MODEL} ({path.name}), {env_note}\n", flush=True)

    fp_port, lc_port = _free_port(), _free_port()
    servers = [
        start_server([sys.executable, "-m", "foreplan.cli", "serve", "--host", "127.0.0.1", "--port", str(fp_port),
                      "--model", f"planner={MODEL}", "--queue-size", "64", "--log-level", "warning"],
                     fp_port, logs / "foreplan.log"),
        start_server([sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--model_alias", "planner",
                      "--host", "127.0.0.1", "--port", str(lc_port), "--n_ctx", str(N_CTX),
                      "--n_threads", str(THREADS), "--n_threads_batch", str(THREADS)],
                     lc_port, logs / "llama_cpp_server.log"),
    ]
    try:
        fp_base, lc_base = f"http://127.0.0.1:{fp_port}", f"http://127.0.0.1:{lc_port}"
        ways = {"direct": direct_chat(path, args.tokens), "foreplan": http_chat(fp_base, args.tokens),
                "llama_cpp.server": http_chat(lc_base, args.tokens),
                "foreplan in-process": foreplan_in_process(path, args.tokens)}
        for call in ways.values():  # warm-up: load weights, cache the prompt
            call()
        seconds: dict[str, list[float]] = {name: [] for name in ways}
        rates: dict[str, list[float]] = {name: [] for name in ways}
        names = list(ways)
        for rep in range(args.reps):
            for name in names[rep % len(names):] + names[:rep % len(names)]:  # rotate the order: no way always goes first
                s, n = ways[name]()
                seconds[name].append(s)
                rates[name].append(n / s)
        tps = {name: statistics.median(r) for name, r in rates.items()}

        print("## Generation tokens/s (median of alternated single requests)\n")
        print("| way | tokens/s | ratio foreplan / way | target |")
        print("| --- | ---: | ---: | --- |")
        targets = {"direct": "≥ 0.95", "llama_cpp.server": "≥ 1.0", "foreplan": "", "foreplan in-process": "(no HTTP)"}
        for name in names:
            ratio = tps["foreplan"] / tps[name]
            print(f"| {name} | {tps[name]:.1f} | {ratio:.3f} | {targets[name]} |")
            if name in ("direct", "llama_cpp.server"):
                goal = 0.95 if name == "direct" else 1.0
                record("serve", f"generation tokens/s, foreplan serve ÷ {name}", ratio, targets[name], ratio >= goal,
                       f"{tps['foreplan']:.1f} vs {tps[name]:.1f} tok/s, {env_note}")

        print("\n## Request latency, s (p50 / p95), concurrent clients\n")
        print("| clients | foreplan p50 | foreplan p95 | llama_cpp.server p50 | llama_cpp.server p95 "
              "| ratio p50 (foreplan / llama_cpp.server) |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: |")
        for clients in args.clients:
            if clients == 1:
                lat = {"foreplan": seconds["foreplan"], "llama_cpp.server": seconds["llama_cpp.server"]}
            else:
                lat = {"foreplan": asyncio.run(_concurrent(fp_base, clients, args.tokens)),
                       "llama_cpp.server": asyncio.run(_concurrent(lc_base, clients, args.tokens))}
            f, lc = lat["foreplan"], lat["llama_cpp.server"]
            print(f"| {clients} | {pct(f, .5):.2f} | {pct(f, .95):.2f} | {pct(lc, .5):.2f} | {pct(lc, .95):.2f} "
                  f"| {pct(f, .5) / pct(lc, .5):.3f} |", flush=True)
    finally:
        for proc in servers:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
