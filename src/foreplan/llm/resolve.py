"""``--model`` in, a ready backend out.

    qwen2.5-coder-0.5b                     an embedded model (assembled on first use)
    embedded-0.5b-planner                  an embedded model + a LoRA adapter shipped in the package
    qwen2.5-coder-0.5b+out/planner.gguf    any GGUF base + a GGUF LoRA adapter (foreplan export lora)
    ./models/my-planner.gguf               any GGUF file
    openai:http://127.0.0.1:8080/v1#qwen   an OpenAI-compatible server (model optional)

Resolving is cheap: files are checked here, but weights load on the first call, once
per file per process, shared by every role that names the same file (llamacpp.py).

A :class:`ModelRegistry` is the explicit state: the backends one program has resolved
(the same spec gives the same object, so roles share an HTTP client or a prefix cache)
and the server, if any, that serves embedded names. The CLI makes one per command from
``FOREPLAN_SERVER`` (e.g. ``http://127.0.0.1:8000``: embedded names are then served by
that running ``foreplan serve`` or any OpenAI-compatible server that serves models under
those names, so a CLI call loads no weights at all); ``foreplan serve`` makes one with
no server, since it serves the weights itself. :func:`resolve_model` is the one-off form
for library code.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from foreplan.errors import UnknownModelError
from foreplan.llm.adapters import ADAPTERS, adapter_path
from foreplan.llm.base import LLM
from foreplan.llm.registry import MODELS, get_model, pull, unknown_model

Progress = Callable[[str, int, int], None]


class ModelRegistry:
    """The model backends one program uses, by spec."""

    def __init__(self, server: str | None = None) -> None:
        self.server = (server or "").strip().rstrip("/") or None
        """Base URL that serves embedded names (``FOREPLAN_SERVER``); None: load them here."""
        self._backends: dict[str, LLM] = {}

    @classmethod
    def from_env(cls) -> ModelRegistry:
        """A registry whose server is ``FOREPLAN_SERVER``, read once, now."""
        return cls(os.environ.get("FOREPLAN_SERVER"))

    def resolve(self, spec: str, progress: Progress | None = None) -> LLM:
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
        spec = self.server_spec(spec.strip())
        if spec not in self._backends:
            self._backends[spec] = self._backend(spec, progress)
        return self._backends[spec]

    def server_spec(self, spec: str) -> str:
        """``openai:SERVER/v1#NAME`` for an embedded name when a server is set; any other
        spec as it is."""
        if self.server is None or (spec not in MODELS and spec not in ADAPTERS):
            return spec
        base = self.server if self.server.endswith("/v1") else f"{self.server}/v1"
        return f"openai:{base}#{spec}"

    def _backend(self, spec: str, progress: Progress | None) -> LLM:
        if spec.startswith("openai:"):
            from foreplan.llm.openai_http import parse_openai_spec

            return parse_openai_spec(spec)
        from foreplan.llm.llamacpp import LlamaCppLLM, _import_llama_cpp, check_gguf

        base_spec, plus, lora = spec.rpartition("+")
        if plus and lora.endswith(".gguf") and base_spec and not base_spec.startswith("openai:"):
            base = self.resolve(base_spec, progress)
            if not isinstance(base, LlamaCppLLM) or base.lora_path is not None:
                raise UnknownModelError(f"{spec}: a LoRA adapter goes on a plain GGUF model (embedded name or .gguf).")
            lora_file = Path(lora).expanduser()
            check_gguf(lora_file)
            return LlamaCppLLM(base.path, name=spec, lora_path=lora_file)
        if spec in ADAPTERS:
            adapter = ADAPTERS[spec]
            _import_llama_cpp()
            report = (lambda done, total: progress(adapter.base, done, total)) if progress else None
            return LlamaCppLLM(pull(get_model(adapter.base), report), name=spec, lora_path=adapter_path(adapter))
        if spec in MODELS:
            _import_llama_cpp()  # fail on a missing extra before assembling 1 GB
            report = (lambda done, total: progress(spec, done, total)) if progress else None
            return LlamaCppLLM(pull(get_model(spec), report), name=spec)
        if spec.endswith(".gguf") or Path(spec).is_file():
            path = Path(spec).expanduser()
            check_gguf(path)
            return LlamaCppLLM(path)
        raise unknown_model(spec)


def resolve_model(spec: str, progress: Progress | None = None) -> LLM:
    """The backend for one model spec, in a registry of its own that reads
    ``FOREPLAN_SERVER`` now (see :meth:`ModelRegistry.resolve`). Weights are still
    loaded once per file per process."""
    return ModelRegistry.from_env().resolve(spec, progress)
