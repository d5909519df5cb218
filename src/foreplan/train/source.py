"""Where the base model comes from: an embedded name, a GGUF file or a Hugging Face folder.

Everything here is cheap on purpose: it answers "what is this model, how big, which
modules does it have, will it fit" from file headers, so a wrong flag fails in a second
instead of after a minute of loading weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from foreplan.errors import TrainConfigError, TrainError
from foreplan.llm import registry

#: Linear layers of the decoder architectures we train (names as transformers has them).
LINEAR_MODULES = {
    arch: ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    for arch in ("qwen2", "llama", "mistral", "gemma", "gemma2", "gemma3", "gemma3_text", "qwen3")
}


@dataclass(frozen=True)
class ModelSource:
    folder: Path
    gguf_file: str | None
    """File name inside ``folder`` when the weights are a GGUF file."""
    architecture: str
    parameters: int
    name: str

    @property
    def label(self) -> str:
        return self.name


def _gguf_facts(path: Path) -> tuple[str, int]:
    from gguf import GGUFReader

    try:
        reader = GGUFReader(path)
    except (ValueError, OSError) as exc:
        raise TrainConfigError(f"{path} is not a readable GGUF file: {exc}") from exc
    field = reader.fields.get("general.architecture")
    arch = bytes(field.parts[field.data[0]]).decode() if field else "unknown"
    return arch, sum(int(t.n_elements) for t in reader.tensors)


def _hf_facts(folder: Path) -> tuple[str, int]:
    import json

    config = json.loads((folder / "config.json").read_text())
    arch = config.get("model_type", "unknown")
    size = sum(p.stat().st_size for p in folder.glob("*.safetensors")) or sum(
        p.stat().st_size for p in folder.glob("*.bin"))
    dtype_bytes = 4 if config.get("torch_dtype", config.get("dtype")) == "float32" else 2
    return arch, size // dtype_bytes


def resolve_source(spec: str) -> ModelSource:
    """``--model_name_or_path`` → a source.

    Raises:
        TrainConfigError: the spec is no embedded name, GGUF file or model folder.
    """
    if spec in registry.MODELS:
        model = registry.get_model(spec)
        path = registry.pull(model) if not registry.is_pulled(model) else registry.model_path(model)
        arch, params = _gguf_facts(path)
        return ModelSource(path.parent, path.name, arch, params, spec)
    path = Path(spec).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        arch, params = _gguf_facts(path)
        return ModelSource(path.parent, path.name, arch, params, path.stem)
    if path.is_dir() and (path / "config.json").exists():
        arch, params = _hf_facts(path)
        return ModelSource(path, None, arch, params, path.name)
    known = ", ".join(registry.MODELS)
    raise TrainConfigError(f"Unknown model {spec!r}: give an embedded model ({known}), a .gguf file or a "
                           "Hugging Face model folder (with config.json). No model hub is reached.")


def check_targets(source: ModelSource, targets: list[str] | str) -> None:
    """Fail before loading when a LoRA target is no module of this architecture."""
    if targets == "all":
        return
    modules = LINEAR_MODULES.get(source.architecture)
    if modules is None:
        return  # unknown architecture: checked against the loaded model instead
    missing = [t for t in targets if t not in modules]
    if missing:
        raise TrainConfigError(f"--lora_target {','.join(missing)}: no such module in {source.architecture}; "
                               f"it has {', '.join(modules)} (or use 'all').")


def estimate_bytes(parameters: int, finetuning_type: str, batch: int, cutoff_len: int, cuda: bool = False,
                   checkpointing: bool = False) -> int:
    """Peak memory for training, roughly: weights, trainable state, activations.

    On the CPU it is process memory, on CUDA the GPU's: there QLoRA's weights are 4-bit
    (NF4 plus the bf16 embeddings) and activations take about half the CPU's bytes;
    gradient checkpointing keeps a small part of them."""
    weights = parameters * 2  # bf16
    if finetuning_type == "full":
        weights = parameters * 4 * 4  # fp32 weights, grads, two AdamW moments
    elif finetuning_type == "freeze":
        weights = parameters * 2 + parameters // 4 * 12
    elif finetuning_type == "qlora" and cuda:
        weights = parameters * 3 // 4
    # Activations kept for backward, per token per parameter: measured ~1e-2 bytes on Qwen 0.5B on
    # the CPU (LoRA on all linear layers, bf16 weights, fp32 adapters): 4.7-8 GB at ~450 tokens; on
    # an H200 4.9e-3 (0.5B) and 3.0e-3 (1.5B) at 4 x 512 tokens (bench/qlora_memory.py). 4e-3 keeps
    # the 0.5B estimate just above its peak (5.7 vs 5.5 GiB) and the 1.5B one at 16.6 vs 11.7 GiB.
    hidden_per_param = 4.0e-3 if cuda else 1.0e-2
    if checkpointing:  # a 1.5B QLoRA run with it peaked at 2.8 GiB on an H200 (measured there only)
        hidden_per_param /= 8
    activations = int(batch * cutoff_len * parameters * hidden_per_param)
    return int(weights * 1.5) + activations + 600 * 2**20


def free_bytes(cuda: bool) -> int:
    """What training may take: the GPU's free memory on CUDA, else the machine's available RAM."""
    if cuda:
        import torch

        return torch.cuda.mem_get_info()[0]
    import psutil

    return psutil.virtual_memory().available


def check_memory(source: ModelSource, finetuning_type: str, batch: int, cutoff_len: int, cuda: bool = False,
                 checkpointing: bool = False) -> int:
    """The estimate, or a TrainError saying what to change when it exceeds free memory.

    ``cutoff_len`` is the longest sequence that will really be trained (the data's longest
    example, capped by ``--cutoff_len``): the estimate is checked before weights load."""
    need = estimate_bytes(source.parameters, finetuning_type, batch, cutoff_len, cuda, checkpointing)
    free = free_bytes(cuda)
    if need > free:
        gib = 2**30
        where = " on the GPU" if cuda else ""
        qlora = " or --quantization_bit 4 (QLoRA)" if cuda and finetuning_type == "lora" else ""
        raise TrainError(
            f"Training {source.name} ({source.parameters / 1e9:.2f}B parameters, {finetuning_type}) needs about "
            f"{need / gib:.1f} GiB but {free / gib:.1f} GiB is free{where}. Lower "
            f"--per_device_train_batch_size or --cutoff_len, use --finetuning_type lora instead of full{qlora}, "
            "or pick a smaller model.")
    return need
