"""``--model`` in, a ready backend out.

    qwen2.5-coder-0.5b                     an embedded model (assembled on first use)
    embedded-0.5b-planner                  an embedded model + a LoRA adapter shipped in the package
    qwen2.5-coder-0.5b+out/planner.gguf    any GGUF base + a GGUF LoRA adapter (foreplan export lora)
    ./models/my-planner.gguf               any GGUF file
    openai:http://127.0.0.1:8080/v1#qwen   an OpenAI-compatible server (model optional)

Resolving is cheap: files are checked here, but weights load on the first call, once
per file per process, shared by every role that names the same file. With
``FOREPLAN_SERVER`` set (e.g. ``http://127.0.0.1:8000``), embedded names are served by
that running server instead (``foreplan serve`` or any OpenAI-compatible server that
serves models under those names), so a CLI call loads no weights at all.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from foreplan.errors import UnknownModelError
from foreplan.llm.adapters import ADAPTERS, adapter_path
from foreplan.llm.base import LLM
from foreplan.llm.registry import MODELS, get_model, pull

Progress = Callable[[str, int, int], None]
_backends: dict[str, LLM] = {}


def resolve_model(spec: str, progress: Progress | None = None) -> LLM:
    """The backend for a model spec; the same spec gives the same object.

    Args:
        spec: a registry name, a ``.gguf`` path, or ``openai:BASE_URL[#MODEL]``.
        progress: called with (name, bytes done, bytes total) while an embedded model
            is being assembled.

    Raises:
        UnknownModelError: the spec is none of these.
        ModelFileError: an embedded model's chunks are missing or corrupt, or the
            file is not a GGUF.
        MissingExtraError: llama-cpp-python is not installed.
    """
    spec = server_spec(spec.strip())
    if spec in _backends:
        return _backends[spec]
    if spec.startswith("openai:"):
        from foreplan.llm.openai_http import parse_openai_spec

        backend: LLM = parse_openai_spec(spec)
    else:
        from foreplan.llm.llamacpp import LlamaCppLLM, check_gguf, _import_llama_cpp

        base_spec, plus, lora = spec.rpartition("+")
        if plus and lora.endswith(".gguf") and base_spec and not base_spec.startswith("openai:"):
            base = resolve_model(base_spec, progress)
            if not isinstance(base, LlamaCppLLM) or base.lora_path is not None:
                raise UnknownModelError(f"{spec}: a LoRA adapter goes on a plain GGUF model (embedded name or .gguf).")
            lora_file = Path(lora).expanduser()
            check_gguf(lora_file)
            backend = LlamaCppLLM(base.path, name=spec, lora_path=lora_file)
        elif spec in ADAPTERS:
            adapter = ADAPTERS[spec]
            _import_llama_cpp()
            report = (lambda done, total: progress(adapter.base, done, total)) if progress else None
            backend = LlamaCppLLM(pull(get_model(adapter.base), report), name=spec, lora_path=adapter_path(adapter))
        elif spec in MODELS:
            _import_llama_cpp()  # fail on a missing extra before assembling 1 GB
            model = get_model(spec)
            report = (lambda done, total: progress(spec, done, total)) if progress else None
            backend = LlamaCppLLM(pull(model, report), name=spec)
        elif spec.endswith(".gguf") or Path(spec).is_file():
            path = Path(spec).expanduser()
            check_gguf(path)
            backend = LlamaCppLLM(path)
        else:
            get_model(spec)  # raises UnknownModelError with the list of names
            raise UnknownModelError(spec)
    _backends[spec] = backend
    return backend


def server_spec(spec: str) -> str:
    """``openai:$FOREPLAN_SERVER/v1#NAME`` for an embedded name when ``FOREPLAN_SERVER``
    is set; any other spec as it is."""
    server = os.environ.get("FOREPLAN_SERVER", "").strip().rstrip("/")
    if not server or (spec not in MODELS and spec not in ADAPTERS):
        return spec
    base = server if server.endswith("/v1") else f"{server}/v1"
    return f"openai:{base}#{spec}"
