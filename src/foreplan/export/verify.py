"""``--verify``: does the exported model still say what its source says?

    source (HF + PEFT, or base + adapter in llama.cpp) ──greedy──► tokens t1 … tn
    export (llama.cpp)  reads prompt + t1 … tn once ──argmax at each position──► p1 … pn
    agreement = share of positions where p_i == t_i, or t_i is a near-tie: the export's
                logit for t_i is within NEAR_TIE of its top logit

The export is scored teacher-forced on the source's own continuation, so one early
near-tie does not count every later token as a disagreement (comparing two free-running
greedy texts would). A near-tie is a coin toss that quantization noise decides either
way, not a sign of a wrong export; a wrong scale or layout misses by whole logits. The same score for the bare base says how many tokens the adapter
changes at all: an adapter that changes nothing proves nothing.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_PROMPTS = (
    "The capital of France is",
    "def fibonacci(n):",
    "Plan: Find the director of Inception.\n#E1 =",
    "Once upon a time, in a small village,",
)

#: Least agreement ``--verify`` accepts by export type. Not 100% even for F16: the
#: source runs the base's 4-5 bit weights against 8-bit-quantized activations and the
#: export does not, so near-ties flip. Measured on Gemma-3-270M Q4_K_M with a random
#: r=8 q/v adapter (4 prompts × 32 tokens): merged F16 94.5%, Q8_0 96.1%, Q4_K_M 92.2%;
#: GGUF adapter vs transformers + PEFT 96.9%. A wrong scale or layout scores far lower.
MIN_AGREEMENT = {"F32": 0.9, "F16": 0.9, "BF16": 0.9, "Q8_0": 0.9, "lora": 0.9}
MIN_AGREEMENT_LOW_BIT = 0.8

#: Logits by which the export's top token may beat the source's token and still count as
#: agreement. Measured on the same model, 5 random adapters × 3 prompts × 24 tokens: every
#: strict disagreement of the GGUF adapter with transformers + PEFT was by 0.26 logits or
#: less, at positions where the source's own top two were within 0.2 of each other.
NEAR_TIE = 0.3


def min_agreement(kind: str) -> float:
    return MIN_AGREEMENT.get(kind.upper() if kind != "lora" else kind, MIN_AGREEMENT_LOW_BIT)


@dataclass(frozen=True)
class PromptAgreement:
    prompt: str
    source_text: str
    agreed: int
    tokens: int
    changed_by_adapter: int
    near_ties: int = 0  #: of ``agreed``, the positions the export missed by < NEAR_TIE logits


@dataclass(frozen=True)
class Agreement:
    prompts: tuple[PromptAgreement, ...]

    @property
    def ratio(self) -> float:
        total = sum(p.tokens for p in self.prompts)
        return sum(p.agreed for p in self.prompts) / total if total else 0.0

    @property
    def changed_ratio(self) -> float:
        """Share of the source's tokens the bare base would not have predicted."""
        total = sum(p.tokens for p in self.prompts)
        return sum(p.changed_by_adapter for p in self.prompts) / total if total else 0.0


def load_llama(path: Path, n_ctx: int, lora_path: Path | None = None) -> Any:
    """A quiet llama.cpp model that keeps the logits of every position (``scores``);
    ``n_ctx`` stays small because that array is n_ctx × vocabulary floats."""
    from foreplan.llm.llamacpp import _import_llama_cpp, _threads

    llama_cpp = _import_llama_cpp()
    kwargs = {"lora_path": str(lora_path)} if lora_path else {}
    threads, batch_threads = _threads()  # FOREPLAN_THREADS=1 on a busy machine
    return llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, n_batch=n_ctx, logits_all=True, verbose=False,
                           n_threads=threads, n_threads_batch=batch_threads, **kwargs)


def greedy_llama(llama: Any, prompt: list[int], n: int) -> list[int]:
    """Greedy continuation (argmax, no sampler) of up to ``n`` tokens, ending at EOS."""
    llama.reset()
    llama.eval(prompt)
    out: list[int] = []
    for _ in range(n):
        token = int(np.argmax(llama.scores[llama.n_tokens - 1]))
        out.append(token)
        if token == llama.token_eos():
            break
        llama.eval([token])
    return out


def greedy_hf(model: Any, prompt: list[int], n: int, eos: int) -> list[int]:
    """Greedy continuation with a transformers (or PEFT) causal LM.

    Recomputes the whole sequence each step: a few dozen short steps, and no KV-cache
    keyword, which transformers renamed between 4.x and 5.x (past_key_values → cache).
    """
    import torch

    ids = list(prompt)
    with torch.no_grad():
        for _ in range(n):
            # logits_to_keep=1: the last position only, not seq × 262k vocabulary floats
            token = int(model(input_ids=torch.tensor([ids]), logits_to_keep=1).logits[0, -1].argmax())
            ids.append(token)
            if token == eos:
                break
    return ids[len(prompt):]


def forced_gaps(llama: Any, prompt: list[int], continuation: list[int]) -> list[float]:
    """Reading the given tokens, by how many logits the model's top token beat each
    continuation token (0.0 where the model would have said it itself)."""
    llama.reset()
    llama.eval(prompt + continuation)
    start = len(prompt) - 1
    gaps = []
    for i, token in enumerate(continuation):
        logits = llama.scores[start + i]
        gaps.append(float(np.max(logits) - logits[token]))
    return gaps


def _context(prompts: list[list[int]], n_tokens: int) -> int:
    return max(len(p) for p in prompts) + n_tokens + 1


def _score(source: list[list[int]], prompts: list[list[int]], texts: tuple[str, ...], export: Any,
           bare: Any) -> Agreement:
    rows = []
    for text, prompt, cont in zip(texts, prompts, source):
        gaps = forced_gaps(export, prompt, cont)
        base_gaps = forced_gaps(bare, prompt, cont)
        rows.append(PromptAgreement(
            prompt=text, source_text=export.detokenize(cont).decode(errors="replace"), tokens=len(cont),
            agreed=sum(gap < NEAR_TIE for gap in gaps),
            near_ties=sum(0.0 < gap < NEAR_TIE for gap in gaps),
            changed_by_adapter=sum(gap >= NEAR_TIE for gap in base_gaps),
        ))
    return Agreement(prompts=tuple(rows))


def _tokenize(path: Path, prompts: tuple[str, ...]) -> list[list[int]]:
    """Token ids of the prompts (BOS as the model wants it), from the GGUF vocabulary."""
    from foreplan.llm.llamacpp import _import_llama_cpp

    vocab = _import_llama_cpp().Llama(model_path=str(path), vocab_only=True, verbose=False)
    try:
        return [vocab.tokenize(p.encode(), add_bos=True) for p in prompts]
    finally:
        vocab.close()


def verify_merged(merged: Path, base: Path, lora_gguf: Path, prompts: tuple[str, ...] = DEFAULT_PROMPTS,
                  n_tokens: int = 32) -> Agreement:
    """Score a merged model against base + GGUF adapter in llama.cpp (the source)."""
    ids = _tokenize(base, prompts)
    n_ctx = _context(ids, n_tokens)
    source_model = load_llama(base, n_ctx, lora_gguf)
    source = [greedy_llama(source_model, p, n_tokens) for p in ids]
    source_model.close()
    export, bare = load_llama(merged, n_ctx), load_llama(base, n_ctx)
    try:
        return _score(source, ids, prompts, export, bare)
    finally:
        export.close()
        bare.close()


def load_peft_model(base: Path, adapter_dir: Path) -> Any:
    """The HF model of a GGUF base (dequantized by transformers) with the PEFT adapter on."""
    from foreplan.errors import MissingExtraError

    try:
        import torch
        from peft import PeftModel
        from transformers import AutoModelForCausalLM
    except ImportError as exc:
        raise MissingExtraError(exc.name or "torch", "train") from exc
    model = AutoModelForCausalLM.from_pretrained(str(base.parent), gguf_file=base.name, dtype=torch.float32)
    with warnings.catch_warnings():
        # peft 0.21 reads transformers' deprecated is_gradient_checkpointing (FutureWarning)
        warnings.simplefilter("ignore", FutureWarning)
        return PeftModel.from_pretrained(model, str(adapter_dir)).eval()


def verify_lora(peft_model: Any, base: Path, lora_gguf: Path, prompts: tuple[str, ...] = DEFAULT_PROMPTS,
                n_tokens: int = 32) -> Agreement:
    """Score base + GGUF adapter in llama.cpp against the HF + PEFT model (the source)."""
    ids = _tokenize(base, prompts)
    n_ctx = _context(ids, n_tokens)
    export, bare = load_llama(base, n_ctx, lora_gguf), load_llama(base, n_ctx)
    try:
        source = [greedy_hf(peft_model, p, n_tokens, export.token_eos()) for p in ids]
        return _score(source, ids, prompts, export, bare)
    finally:
        export.close()
        bare.close()
