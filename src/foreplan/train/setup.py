"""Load the base model and tokenizer, choose the template, make the trainable parts.

GGUF weights are dequantized by transformers (``gguf_file=``); the tokenizer read from a
GGUF file (slow: ~13 s) is kept in foreplan's cache folder after the first time.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

from foreplan.errors import TrainConfigError
from foreplan.llm.chat_template import ChatTemplate
from foreplan.llm.registry import cache_dir
from foreplan.llm.templates import MARKERS, named_template
from foreplan.train.args import TrainArgs
from foreplan.train.source import ModelSource


def load_tokenizer(source: ModelSource) -> Any:
    from transformers import AutoTokenizer

    if source.gguf_file is None:
        return AutoTokenizer.from_pretrained(source.folder)
    gguf = source.folder / source.gguf_file
    cached = cache_dir() / "tokenizers" / f"{gguf.stem}-{gguf.stat().st_size}"
    if (cached / "tokenizer_config.json").exists():
        return AutoTokenizer.from_pretrained(cached)
    tokenizer = AutoTokenizer.from_pretrained(source.folder, gguf_file=source.gguf_file)
    tmp = cached.with_name(cached.name + ".partial")
    tokenizer.save_pretrained(tmp)
    if cached.exists():  # another process got there first
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.replace(cached)
    return tokenizer


def choose_template(name: str, tokenizer: Any) -> ChatTemplate:
    """The named template, or the model's own for ``default``; checked against the vocabulary.

    Raises:
        TrainConfigError: the template writes tokens this tokenizer does not have, or
            ``default`` was asked of a model that carries no template.
    """
    # A template writes BOS only for models that start with it (Gemma, Llama), not Qwen.
    bos = (tokenizer.bos_token or "") if getattr(tokenizer, "add_bos_token", False) else ""
    eos = tokenizer.eos_token or ""
    if name == "default":
        if not tokenizer.chat_template:
            raise TrainConfigError("This model carries no chat template: pass --template "
                                   "(alpaca, qwen, gemma or llama2).")
        return ChatTemplate(tokenizer.chat_template, bos_token=bos, eos_token=eos)
    vocab = tokenizer.get_vocab()
    missing = [m for m in MARKERS.get(name, ()) if m not in vocab]
    if missing:
        raise TrainConfigError(f"--template {name} does not match this model: its tokenizer has no "
                               f"{', '.join(missing)} token. Use --template default (the model's own) or one "
                               "that fits (qwen for Qwen, gemma for Gemma, alpaca for base models).")
    return named_template(name, bos_token=bos, eos_token=eos)


def load_model(source: ModelSource, cuda: bool, quantize_4bit: bool) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    kwargs: dict[str, Any] = {"dtype": torch.bfloat16}
    if source.gguf_file:
        kwargs["gguf_file"] = source.gguf_file
    if quantize_4bit and cuda:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
    model = AutoModelForCausalLM.from_pretrained(source.folder, **kwargs)
    model.config.use_cache = False
    return model


def linear_names(model: Any) -> list[str]:
    import torch

    names = {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    return sorted(names - {"lm_head"})


def make_trainable(model: Any, args: TrainArgs, resume_adapter: Path | None = None) -> Any:
    """LoRA/QLoRA wrap the model with PEFT; full trains everything; freeze trains the last
    ``freeze_trainable_layers`` decoder layers."""
    if args.finetuning_type in ("lora", "qlora"):
        from peft import LoraConfig, PeftModel, get_peft_model

        available = linear_names(model)
        targets = available if args.targets == "all" else args.targets
        missing = [t for t in targets if t not in available]
        if missing:
            raise TrainConfigError(f"--lora_target {','.join(missing)}: not in this model; it has "
                                   f"{', '.join(available)}.")
        if args.finetuning_type == "qlora" and getattr(model, "is_loaded_in_4bit", False):
            from peft import prepare_model_for_kbit_training

            # --gradient_checkpointing decides, as for every other type (peft would turn it on).
            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
        config = LoraConfig(r=args.lora_rank, lora_alpha=args.alpha, lora_dropout=args.lora_dropout,
                            target_modules=list(targets), task_type="CAUSAL_LM")
        with warnings.catch_warnings():  # peft 0.21 asks transformers 5 a deprecated question
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            if resume_adapter is not None:
                return PeftModel.from_pretrained(model, resume_adapter, is_trainable=True)
            return get_peft_model(model, config)
    # Full and freeze tuning train plain weights: fp32, since bf16 AdamW updates vanish.
    model = model.float()
    if args.finetuning_type == "full":
        for p in model.parameters():
            p.requires_grad_(True)
        return model
    layers = model.model.layers
    keep = tuple(f"model.layers.{i}." for i in range(len(layers) - args.freeze_trainable_layers, len(layers)))
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith(keep))
    return model


def enable_checkpointing(model: Any) -> None:
    """Recompute activations in backward (``--gradient_checkpointing``), non-reentrant: the
    variant torch recommends, which needs no input that requires grad."""
    kwargs = {"use_reentrant": False}
    enable = getattr(model, "activation_checkpointing_enable", None)  # transformers >= 5.20
    if enable is not None:
        enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)


def trainable_summary(model: Any) -> tuple[int, int]:
    """(trainable, total) parameters; PEFT's count where it wraps the model, since it
    unpacks bitsandbytes' 4-bit weights (two to a byte) that ``numel`` counts packed."""
    if hasattr(model, "get_nb_trainable_parameters"):
        return model.get_nb_trainable_parameters()
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, total
