"""``foreplan train``'s settings: LLaMA-Factory's flag names, verbatim, from argv or YAML.

Users come with commands like the seed's (``--stage sft --model_name_or_path M --do_train
--dataset D --template alpaca --finetuning_type lora --lora_target q_proj,v_proj ...``)
and with LLaMA-Factory YAML files; both parse into one pydantic model, so a typo fails
before any time is spent, with the closest valid flag suggested.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from foreplan.errors import TrainConfigError


class TrainArgs(BaseModel):
    """Every flag ``foreplan train`` accepts (LLaMA-Factory's names and defaults)."""

    model_config = ConfigDict(extra="forbid")

    stage: Literal["sft"] = "sft"
    model_name_or_path: str
    do_train: bool = True
    dataset: str
    dataset_dir: str = "data"
    template: str = "default"
    finetuning_type: Literal["lora", "qlora", "full", "freeze"] = "lora"
    quantization_bit: int | None = None
    lora_target: str = "all"
    lora_rank: int = Field(8, ge=1)
    lora_alpha: int | None = None
    lora_dropout: float = Field(0.0, ge=0.0, lt=1.0)
    freeze_trainable_layers: int = Field(2, ge=1)
    output_dir: str
    overwrite_output_dir: bool = False
    overwrite_cache: bool = False
    per_device_train_batch_size: int = Field(1, ge=1)
    per_device_eval_batch_size: int = Field(1, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    learning_rate: float = Field(5e-5, gt=0)
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    lr_scheduler_type: Literal["cosine", "linear", "constant", "constant_with_warmup"] = "cosine"
    warmup_steps: int = Field(0, ge=0)
    warmup_ratio: float = Field(0.0, ge=0.0, le=1.0)
    num_train_epochs: float = Field(3.0, gt=0)
    max_steps: int = -1
    max_samples: int | None = None
    logging_steps: int = Field(10, ge=1)
    save_steps: int = Field(500, ge=1)
    eval_steps: int | None = None
    val_size: float = Field(0.0, ge=0.0)
    cutoff_len: int = Field(1024, ge=8)
    #: Pack whole examples into rows of ``cutoff_len`` tokens, none attending to another
    #: (``train/packing.py``). Unset: on wherever the loaded model proves it exact.
    packing: bool | None = None
    #: LLaMA-Factory's name for packing without cross-attention: foreplan's only kind.
    neat_packing: bool = False
    seed: int = 42
    resume_from_checkpoint: str | None = None
    train_on_prompt: bool = False
    strict: bool = False
    plot_loss: bool = False
    flash_attn: str = "auto"
    bf16: bool = False
    fp16: bool = False
    deepspeed: str | None = None
    report_to: str = "none"
    #: Recompute activations in backward. Unset: on for QLoRA, whose point is memory (on an
    #: H200 a 1.5B QLoRA run without it peaked above LoRA's: 13.6 vs 11.7 GiB), off otherwise.
    gradient_checkpointing: bool | None = None

    @model_validator(mode="after")
    def _qlora(self) -> TrainArgs:
        if self.quantization_bit is not None and self.quantization_bit not in (4, 8):
            raise ValueError("quantization_bit must be 4 or 8")
        if self.quantization_bit and self.finetuning_type == "lora":
            self.finetuning_type = "qlora"  # LLaMA-Factory spells QLoRA as lora + quantization_bit
        if self.neat_packing and self.packing is False:
            raise ValueError("neat_packing asks for packing, which --packing false turns off")
        if self.gradient_checkpointing is None:
            self.gradient_checkpointing = self.finetuning_type == "qlora"
        return self

    @property
    def alpha(self) -> int:
        return self.lora_alpha if self.lora_alpha is not None else 2 * self.lora_rank

    @property
    def datasets(self) -> list[str]:
        return [d.strip() for d in self.dataset.split(",") if d.strip()]

    @property
    def targets(self) -> list[str] | str:
        names = [t.strip() for t in self.lora_target.split(",") if t.strip()]
        return "all" if names == ["all"] else names


FIELDS = tuple(TrainArgs.model_fields)
_BOOLS = {name for name, f in TrainArgs.model_fields.items() if f.annotation in (bool, bool | None)}
#: Flags that may stand alone: bools, and flash_attn (the seed's ``--flash_attn`` means fa2).
_BARE = {**{name: True for name in _BOOLS}, "flash_attn": "fa2"}


def _unknown(key: str) -> TrainConfigError:
    close = difflib.get_close_matches(key, FIELDS, n=1, cutoff=0.6)
    hint = f" Did you mean --{close[0]}?" if close else " See: foreplan train --help."
    return TrainConfigError(f"Unknown training flag --{key}.{hint}")


def parse_flags(argv: list[str]) -> dict[str, Any]:
    """``--key value``, ``--key=value`` and bare ``--flag`` → a dict; a lone ``.yaml`` path
    loads first and the flags override it (as ``llamafactory-cli train f.yaml`` does)."""
    values: dict[str, Any] = {}
    flags: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        token = argv[i]
        if not token.startswith("--"):
            if token.endswith((".yaml", ".yml")) and not values:
                values = load_yaml(Path(token))
                i += 1
                continue
            raise TrainConfigError(f"Unexpected argument {token!r}: flags look like --name value.")
        key, eq, value = token[2:].partition("=")
        key = key.replace("-", "_")
        if key not in FIELDS:
            raise _unknown(key)
        if not eq:
            following = argv[i + 1] if i + 1 < len(argv) else None
            if key in _BARE and (following is None or following.startswith("--")):
                flags[key] = _BARE[key]
                i += 1
                continue
            if following is None:
                raise TrainConfigError(f"--{key} needs a value.")
            value = following
            i += 1
        flags[key] = value
        i += 1
    return {**values, **flags}


def load_yaml(path: Path) -> dict[str, Any]:
    """The keys of a LLaMA-Factory YAML file (unknown keys are errors, with a suggestion)."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise TrainConfigError(f"Cannot read {path}: {exc.strerror}.") from exc
    except yaml.YAMLError as exc:
        raise TrainConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise TrainConfigError(f"{path} must hold key: value pairs.")
    for key in data:
        if key not in FIELDS:
            raise _unknown(str(key))
    return data


def build_args(argv: list[str]) -> TrainArgs:
    """Parse and validate; every problem is a TrainConfigError naming the flag."""
    raw = parse_flags(argv)
    try:
        return TrainArgs.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "flags"
            problems.append(f"--{where}: {error['msg']}")
        raise TrainConfigError("Bad training flags:\n  " + "\n  ".join(problems)) from exc


def notices(args: TrainArgs, cuda: bool) -> list[str]:
    """Flags that cannot apply on this machine, each said once and then ignored."""
    said = []
    if not cuda:
        if args.flash_attn not in ("auto", "disabled", "sdpa"):
            said.append("--flash_attn needs a CUDA GPU; ignored (PyTorch's own attention is used on the CPU).")
        if args.fp16:
            said.append("--fp16 needs a GPU; ignored (the CPU trains in bf16 weights with fp32 adapters).")
        if args.deepspeed:
            said.append("--deepspeed needs GPUs; ignored (run under `accelerate launch` on a GPU box to use it).")
        if args.finetuning_type == "qlora":
            said.append("QLoRA's 4-bit weights (bitsandbytes) need a CUDA GPU; on the CPU this trains the same "
                        "LoRA adapter on bf16 weights instead (more memory, same adapter format).")
    else:  # what each precision and attention flag does on CUDA, so none is taken silently
        if args.bf16:
            said.append("--bf16: applied (it is the default on every device: bf16 weights, fp32 adapters).")
        if args.fp16:
            said.append("--fp16: not applied; weights and activations stay bf16 (fp16's speed with fp32's range, "
                        "and no loss scaling).")
        if args.flash_attn not in ("auto", "disabled", "sdpa"):
            said.append(f"--flash_attn {args.flash_attn}: not applied; attention is PyTorch's SDPA, which uses "
                        "flash kernels on CUDA where the shapes allow (flash-attn is not installed).")
    if args.overwrite_cache:
        said.append("--overwrite_cache has no effect: foreplan tokenizes datasets in memory on every run.")
    if args.report_to not in ("none", ""):
        said.append(f"--report_to {args.report_to}: foreplan logs to train_log.jsonl in the output folder instead.")
    return said
