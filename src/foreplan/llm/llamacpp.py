"""GGUF inference through llama-cpp-python: the embedded default backend.

One ``Llama`` per model file per process, loaded lazily on the first call and shared by
every role that names the same file (planner and solver usually do). A llama.cpp
context is not thread-safe, so calls on one model take turns behind a lock; steps that
call *different* models or plain tools still run in parallel.

Decoding runs in foreplan's own loops (decode.py), which stream each token's text to
``GenerationOptions.on_text`` and count usage exactly; sampling takes temperature,
``top_p``, ``top_k`` and ``seed``, and temperature 0 is greedy.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from foreplan.errors import LLMError, MissingExtraError, ModelFileError, PromptTooLongError
from foreplan.llm.base import GenerationOptions, Message
from foreplan.llm.chat_template import ChatTemplate
from foreplan.llm.decode import (
    evaluate_prompt,
    greedy_decode,
    lookup_decode,
    prompt_tokens,
    sample_decode,
)
from foreplan.llm.disk_cache import disk_states_for
from foreplan.llm.gbnf import check_grammar
from foreplan.llm.prefix_cache import PrefixCache
from foreplan.types import Completion, Usage


@dataclass
class LoadedModel:
    """One llama.cpp model in memory, shared by every backend object naming its file."""

    llama: Any
    cache: PrefixCache = field(default_factory=PrefixCache)


_loaded: dict[tuple[str, int, str], LoadedModel] = {}
_load_lock = threading.Lock()
#: One llama.cpp computation at a time in this process, whatever the model (see _threads).
_compute_lock = threading.Lock()


def _import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise MissingExtraError("llama_cpp", "llama") from exc
    _quiet_llama_log(llama_cpp)
    return llama_cpp


#: llama.cpp notices that are not problems: a LoRA tensor on a repacked CPU buffer falls
#: back to the plain CPU buffer (every adapter on this CPU says so, once per tensor).
_HARMLESS = (b"cannot use buft",)
_log_callback: Any = None


def _quiet_llama_log(llama_cpp: Any) -> None:
    """Route llama.cpp's log through llama-cpp-python's filter, minus harmless notices."""
    global _log_callback
    if _log_callback is not None:
        return
    from llama_cpp import _logger

    @llama_cpp.llama_log_callback
    def callback(level: int, text: bytes, user_data: Any) -> None:
        if text and any(h in text for h in _HARMLESS):
            return
        _logger.llama_log_callback(level, text, user_data)

    _log_callback = callback  # kept alive: llama.cpp holds only the C pointer
    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))


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


@atexit.register
def _close_all() -> None:
    """Free models before interpreter shutdown; llama-cpp-python's ``__del__`` fails
    noisily once module globals are gone ("'NoneType' object is not callable")."""
    with _load_lock:
        for model in _loaded.values():
            model.llama.close()
        _loaded.clear()


def _threads() -> tuple[int, int]:
    """Threads for generating and for prompt batches (``FOREPLAN_THREADS`` overrides both).

    All cores: measured here (2 cores, idle), 1.5B generation runs at 13.3 tokens/s with
    2 threads against 6.9 with 1 (0.5B: 29.5 against 15.9). But llama.cpp's threads spin
    while they wait for each other, so two computations sharing the cores slow to seconds
    per token (3.1 s per token measured with 2 threads while another process held a core).
    Hence :data:`_compute_lock`: inside foreplan, one llama.cpp computation runs at a
    time; on a machine shared with other busy processes, set ``FOREPLAN_THREADS=1``.
    """
    cores = os.cpu_count() or 1
    env = os.environ.get("FOREPLAN_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env), int(env)
    return cores, cores


def _warm_up(llama: Any) -> None:
    """Run one token through every layer at load, as llama-server does at start: the
    weights are memory-mapped, so the first computation would also page them in (about
    a second for the 1.5B here) and start the thread pool; no request should pay that."""
    bos = llama.token_bos()
    llama.eval([max(bos, 0)])
    llama.reset()


def _load(path: Path, n_ctx: int, lora: Path | None = None) -> LoadedModel:
    key = (str(path.resolve()), n_ctx, str(lora) if lora else "")
    with _load_lock:
        if key not in _loaded:
            llama_cpp = _import_llama_cpp()
            check_gguf(path)
            try:
                threads, batch_threads = _threads()
                loaded = LoadedModel(llama_cpp.Llama(
                    model_path=str(path), n_ctx=n_ctx, n_threads=threads, n_threads_batch=batch_threads,
                    lora_path=str(lora) if lora else None, verbose=False,
                ))
                loaded.cache.disk = disk_states_for(path, n_ctx, lora)
                _warm_up(loaded.llama)
                _loaded[key] = loaded
            except (ValueError, RuntimeError, OSError) as exc:
                if lora:
                    raise ModelFileError(f"llama.cpp could not apply the LoRA adapter {lora} to {path}: {exc}. "
                                         "Was it exported for this base model (foreplan export lora)?") from exc
                raise ModelFileError(
                    f"llama.cpp could not load {path}: {exc}. The file may be partial or corrupt; "
                    "for an embedded model run: foreplan models pull NAME --force"
                ) from exc
        return _loaded[key]


def anchored(schema: Any, keep_patterns: bool = True) -> Any:
    """``schema`` with each string ``pattern`` anchored at both ends, keeping its meaning
    (or, without ``keep_patterns``, with the patterns left out).

    A JSON Schema pattern matches anywhere in the string (``^https?://`` means "starts
    with http:// or https://"); llama.cpp's converter only takes patterns that match the
    whole string and fails an assertion on any other, which failed every step whose tool
    has such an argument. So ``p`` becomes ``^.*(p)`` / ``p.*$`` where it is not anchored.
    """
    if isinstance(schema, list):
        return [anchored(item, keep_patterns) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: anchored(value, keep_patterns) for key, value in schema.items() if key != "pattern"}
    pattern = schema.get("pattern")
    if isinstance(pattern, str) and keep_patterns:
        start = pattern if pattern.startswith("^") else f"^.*({pattern})"
        out["pattern"] = start if start.endswith("$") and not start.endswith("\\$") else f"{start}.*$"
    elif "pattern" in schema and not isinstance(pattern, str):  # a property named "pattern"
        out["pattern"] = anchored(pattern, keep_patterns)
    return out


@lru_cache(maxsize=64)
def _gbnf(source: str, kind: str, vocab: Any) -> str:
    """GBNF source that llama.cpp has compiled once (it would crash on one that does not).

    A JSON schema whose patterns llama.cpp's converter cannot read (it takes a subset of
    regular expressions) is decoded without them: the tool's own model still checks
    each value against its pattern before the tool runs.
    """
    llama_cpp = _import_llama_cpp()
    if kind == "json":
        schema = json.loads(source)
        for keep_patterns in (True, False):
            try:
                source = llama_cpp.llama_grammar.json_schema_to_gbnf(json.dumps(anchored(schema, keep_patterns)))
                break
            except (AssertionError, ValueError, RuntimeError, KeyError, TypeError) as exc:
                error = exc
        else:
            raise LLMError(f"llama.cpp cannot turn this JSON schema into a grammar: {error}") from error
    check_grammar(vocab, source)
    return source


#: Contexts grow in steps of this many tokens (each size is loaded once, and kept).
CONTEXT_STEP = 4096
#: The least room a reply must have for a prompt to be worth running.
MIN_REPLY_TOKENS = 16


class LlamaCppLLM:
    """A GGUF model run by llama.cpp on this machine."""

    supports_grammar = True

    def __init__(self, path: str | Path, name: str | None = None, n_ctx: int = 4096, fast_grammar: bool = True,
                 prefix_cache: bool = True, lora_path: str | Path | None = None) -> None:
        self.path = Path(path)
        self.lora_path = Path(lora_path) if lora_path else None
        """A GGUF LoRA adapter applied on top of the model (a separate load of the base)."""
        self.fast_grammar = fast_grammar
        """Greedy constrained decoding checks the best token first (see fast_grammar.py)."""
        self.prefix_cache = prefix_cache
        """Reuse saved KV states of earlier prompts that share a prefix (prefix_cache.py)."""
        self.name = name or self.path.name
        self.n_ctx = n_ctx
        self._template: ChatTemplate | None = None

    @property
    def loaded(self) -> LoadedModel:
        return _load(self.path, self.n_ctx, self.lora_path)

    @property
    def llama(self) -> Any:
        return self.loaded.llama

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

    def render(self, messages: list[Message], tools: tuple[dict[str, Any], ...] | None = None) -> str:
        return self.template.render(messages, tools=tools)

    def generate(self, messages: list[Message], options: GenerationOptions) -> Completion:
        prompt = self.render(messages, options.tools)
        tokens = prompt_tokens(self.llama, prompt)  # the vocabulary's work: no context needed
        self._fit(len(tokens), options.max_tokens)  # before a grammar is compiled or a token evaluated
        gbnf = self._constraint_gbnf(options)
        loaded = self.loaded
        llama = loaded.llama
        with _compute_lock:  # also serves one completion per context at a time
            try:
                reused = evaluate_prompt(llama, tokens, loaded.cache if self.prefix_cache else None)
            except ValueError as exc:  # e.g. prompt longer than the context
                raise LLMError(f"{self.name}: {exc}") from exc
            # Whatever options.on_text raises (a client that left) passes through unwrapped.
            if gbnf is not None and options.temperature == 0 and self.fast_grammar:
                out = greedy_decode(llama, tokens, gbnf, options.max_tokens, options.stop, options.on_text,
                                    options.constraint.choices)
            elif gbnf is None and options.temperature == 0 and options.prompt_lookup:
                out = lookup_decode(llama, tokens, options.max_tokens, options.stop, options.on_text)
            else:
                grammar = _import_llama_cpp().LlamaGrammar.from_string(gbnf, verbose=False) if gbnf else None
                out = sample_decode(llama, tokens, options.max_tokens, temperature=options.temperature,
                                    top_p=options.top_p, top_k=options.top_k, seed=options.seed,
                                    grammar=grammar, stop=options.stop, on_text=options.on_text)
        usage = Usage(out.prompt_tokens, out.completion_tokens, 1, cached_tokens=reused)
        return Completion(out.text, usage, out.finish_reason)

    def _fit(self, n_prompt: int, max_tokens: int) -> None:
        """Grow the context to hold the prompt and its reply (up to the model's trained
        context, in steps of CONTEXT_STEP tokens; the next call loads the model with it),
        or fail at once with what to do.

        Raises:
            PromptTooLongError: even the trained context cannot hold the prompt.
        """
        needed = n_prompt + max_tokens
        if needed <= self.n_ctx:
            return
        trained = self.llama._model.n_ctx_train() or self.n_ctx
        if n_prompt + MIN_REPLY_TOKENS > trained:
            raise PromptTooLongError(
                f"{self.name}: the prompt has {n_prompt} tokens, and this model reads at most {trained}. "
                "Give the agent fewer tools (tool retrieval shows the planner only those matching the task "
                "unless --all-tools is given; a toolkit file can list fewer), shorten the instruction, or use a "
                "model with a longer context.")
        self.n_ctx = min(trained, -(-needed // CONTEXT_STEP) * CONTEXT_STEP)

    def _constraint_gbnf(self, options: GenerationOptions) -> str | None:
        c = options.constraint
        if c.grammar is not None:
            return _gbnf(c.grammar, "gbnf", self.llama._model.vocab)
        if c.json_schema is not None:
            return _gbnf(json.dumps(c.json_schema, sort_keys=True), "json", self.llama._model.vocab)
        return None
