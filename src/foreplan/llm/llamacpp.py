"""GGUF inference through llama-cpp-python: the embedded default backend.

One ``Llama`` per model file per process, loaded lazily on the first call and shared by
every role that names the same file (planner and solver usually do). A llama.cpp
context is not thread-safe, so calls on one model take turns behind a lock; steps that
call *different* models or plain tools still run in parallel.
"""

from __future__ import annotations

import json
import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from foreplan.errors import LLMError, MissingExtraError, ModelFileError
from foreplan.llm.base import GenerationOptions, Message
from foreplan.llm.chat_template import ChatTemplate
from foreplan.llm.gbnf import check_grammar
from foreplan.types import Completion, Usage

_loaded: dict[tuple[str, int], Any] = {}
_load_lock = threading.Lock()


def _import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError:
        raise MissingExtraError("llama_cpp", "llama") from None
    return llama_cpp


def check_gguf(path: Path) -> None:
    """Refuse a missing, empty or non-GGUF file before llama.cpp gets to crash on it.

    Raises:
        ModelFileError: with what is wrong and how to fix it.
    """
    if not path.is_file():
        raise ModelFileError(f"Model file {path} does not exist.")
    with path.open("rb") as f:
        magic = f.read(4)
    if magic != b"GGUF":
        raise ModelFileError(
            f"{path} is not a GGUF file (it starts with {magic!r}). "
            "Give a .gguf file, or an embedded model name (foreplan models list)."
        )


def _load(path: Path, n_ctx: int) -> Any:
    key = (str(path.resolve()), n_ctx)
    with _load_lock:
        if key not in _loaded:
            llama_cpp = _import_llama_cpp()
            check_gguf(path)
            try:
                _loaded[key] = llama_cpp.Llama(
                    model_path=str(path), n_ctx=n_ctx, n_threads=os.cpu_count() or 1, verbose=False
                )
            except (ValueError, RuntimeError, OSError) as exc:
                raise ModelFileError(
                    f"llama.cpp could not load {path}: {exc}. The file may be partial or corrupt; "
                    "for an embedded model run: foreplan models pull NAME --force"
                ) from None
        return _loaded[key]


@lru_cache(maxsize=64)
def _grammar(source: str, kind: str, vocab: Any) -> Any:
    """A compiled-and-checked grammar; llama.cpp would crash on one that does not parse."""
    llama_cpp = _import_llama_cpp()
    try:
        if kind == "json":
            source = llama_cpp.llama_grammar.json_schema_to_gbnf(source)
    except (ValueError, RuntimeError, KeyError, TypeError) as exc:
        raise LLMError(f"llama.cpp cannot turn this JSON schema into a grammar: {exc}") from None
    check_grammar(vocab, source)
    return llama_cpp.LlamaGrammar.from_string(source, verbose=False)


class LlamaCppLLM:
    """A GGUF model run by llama.cpp on this machine."""

    supports_grammar = True

    def __init__(self, path: str | Path, name: str | None = None, n_ctx: int = 4096) -> None:
        self.path = Path(path)
        self.name = name or self.path.name
        self.n_ctx = n_ctx
        self._lock = threading.Lock()
        self._template: ChatTemplate | None = None

    @property
    def llama(self) -> Any:
        return _load(self.path, self.n_ctx)

    @property
    def template(self) -> ChatTemplate:
        if self._template is None:
            llama = self.llama
            meta = llama.metadata
            vocab = llama._model.vocab if hasattr(llama._model, "vocab") else None
            bos = llama._model.token_get_text(llama.token_bos()) if vocab is not None and llama.token_bos() >= 0 else ""
            eos = llama._model.token_get_text(llama.token_eos()) if vocab is not None and llama.token_eos() >= 0 else ""
            self._template = ChatTemplate(meta.get("tokenizer.chat_template"), bos, eos)
        return self._template

    def render(self, messages: list[Message]) -> str:
        return self.template.render(messages)

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        prompt = self.render(messages)
        grammar = None
        c = options.constraint
        if c.grammar is not None:
            grammar = _grammar(c.grammar, "gbnf", self.llama._model.vocab)
        elif c.json_schema is not None:
            grammar = _grammar(json.dumps(c.json_schema, sort_keys=True), "json", self.llama._model.vocab)
        with self._lock:
            try:
                out = self.llama.create_completion(
                    prompt,
                    max_tokens=options.max_tokens,
                    temperature=options.temperature,
                    stop=list(options.stop) or None,
                    seed=options.seed,
                    grammar=grammar,
                )
            except ValueError as exc:  # e.g. prompt longer than the context
                raise LLMError(f"{self.name}: {exc}") from None
        choice = out["choices"][0]
        usage = out.get("usage") or {}
        return Completion(
            choice["text"],
            Usage(usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0), 1),
            choice.get("finish_reason") or "stop",
        )
