"""A PEFT LoRA adapter folder, read without torch: config, A/B pairs and their scales.

    adapter_config.json          r, lora_alpha, use_rslora, rank/alpha patterns
    adapter_model.safetensors    base_model.model.<module>.lora_A.weight  (r, in)
                                 base_model.model.<module>.lora_B.weight  (out, r)

PEFT computes ``W x + scale * B (A x)`` with ``scale = alpha / r`` (``alpha / sqrt(r)``
with rsLoRA), per module when rank_pattern / alpha_pattern say so. Anything this export
cannot reproduce exactly (DoRA, bias, extra trained modules, Conv1D layouts) is refused
with an ExportError rather than exported wrong.
"""

from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from foreplan.export.base import ExportError

_PREFIXES = ("base_model.model.",)
#: Multimodal wrappers put the text model one level down (as convert_lora_to_gguf.py strips).
_LM_PREFIXES = (("model.language_model.", "model."), ("language_model.", ""))
_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "BF16": np.uint16}


@dataclass(frozen=True)
class LoraPair:
    """One adapted linear layer: ``W + scale * b @ a``."""

    module: str
    a: np.ndarray  # (rank, in_features), float32
    b: np.ndarray  # (out_features, rank), float32
    scale: float

    @property
    def rank(self) -> int:
        return int(self.a.shape[0])


@dataclass(frozen=True)
class LoraAdapter:
    path: Path
    alpha: float
    pairs: tuple[LoraPair, ...]


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """All tensors of a safetensors file as float32 numpy arrays (BF16 included, which
    ``safetensors.numpy`` cannot read).

    Raises:
        ExportError: the file is not a safetensors file.
    """
    data = path.read_bytes()
    try:
        (n,) = struct.unpack("<Q", data[:8])
        header = json.loads(data[8:8 + n])
    except (struct.error, ValueError) as exc:
        raise ExportError(f"{path} is not a safetensors file; save the adapter again with "
                          "model.save_pretrained(folder).") from exc
    body, out = memoryview(data)[8 + n:], {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        if info["dtype"] not in _DTYPES:
            raise ExportError(f"{path.name}: tensor {key} has dtype {info['dtype']}; expected float weights.")
        start, end = info["data_offsets"]
        arr = np.frombuffer(body[start:end], dtype=_DTYPES[info["dtype"]]).reshape(info["shape"])
        if info["dtype"] == "BF16":  # bfloat16 is the high half of a float32
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        out[key] = arr.astype(np.float32)
    return out


def _pattern_value(patterns: dict[str, Any], module: str, default: Any) -> Any:
    # PEFT matches pattern keys against the end of the module name (peft.utils.other.get_pattern_key).
    for key, value in patterns.items():
        if re.match(rf"(.*\.)?({key})$", module):
            return value
    return default


def _module_name(key: str) -> tuple[str, str]:
    """(module, "A" or "B") for a PEFT tensor key, with wrapper prefixes removed."""
    name = key
    for prefix in _PREFIXES:
        name = name.removeprefix(prefix)
    for prefix, replace in _LM_PREFIXES:
        if name.startswith(prefix):
            name = replace + name[len(prefix):]
            break
    for part in ("A", "B"):
        if name.endswith(f".lora_{part}.weight"):
            return name.removesuffix(f".lora_{part}.weight"), part
    if "lora_embedding" in name:
        raise ExportError(f"The adapter trains an embedding ({key}); only LoRA on linear layers exports. "
                          "Retrain without embedding modules in target_modules.")
    raise ExportError(f"Unexpected tensor {key!r} in the adapter: not a lora_A/lora_B weight. "
                      "Retrain with bias='none' and no modules_to_save.")


def _check_config(config: dict[str, Any], folder: Path) -> None:
    problems = []
    if config.get("peft_type", "LORA") != "LORA":
        problems.append(f"peft_type is {config.get('peft_type')!r}, not 'LORA'")
    if config.get("use_dora"):
        problems.append("use_dora=True (DoRA magnitudes cannot be expressed as a llama.cpp LoRA)")
    if config.get("fan_in_fan_out"):
        problems.append("fan_in_fan_out=True (Conv1D layout)")
    if config.get("lora_bias") or config.get("bias", "none") != "none":
        problems.append("trained biases (lora_bias / bias)")
    if config.get("modules_to_save") or config.get("trainable_token_indices"):
        problems.append("fully trained extra modules (modules_to_save / trainable_token_indices)")
    if config.get("layer_replication"):
        problems.append("layer_replication")
    if problems:
        raise ExportError(f"{folder} cannot be exported as a llama.cpp LoRA: " + "; ".join(problems)
                          + ". Retrain with a plain LoRA config (foreplan's train recipe writes one).")


def read_adapter(folder: str | Path) -> LoraAdapter:
    """Read and check a PEFT LoRA adapter folder (what ``save_pretrained`` writes).

    Raises:
        ExportError: not a LoRA folder, an unsupported LoRA variant, a missing half of
            an A/B pair, or A and B whose ranks disagree.
    """
    folder = Path(folder).expanduser()
    config_path = folder / "adapter_config.json"
    if not config_path.is_file():
        raise ExportError(f"{folder} is not a PEFT adapter folder (no adapter_config.json). Give the "
                          "folder that model.save_pretrained(...) or foreplan train wrote.")
    try:
        config = json.loads(config_path.read_text())
    except ValueError as exc:
        raise ExportError(f"{config_path} is not valid JSON ({exc}).") from exc
    _check_config(config, folder)
    weights = folder / "adapter_model.safetensors"
    if not weights.is_file():
        hint = " (found adapter_model.bin: save again with safe_serialization=True)" \
            if (folder / "adapter_model.bin").is_file() else ""
        raise ExportError(f"{folder} has no adapter_model.safetensors{hint}.")
    halves: dict[str, dict[str, np.ndarray]] = {}
    for key, arr in read_safetensors(weights).items():
        module, part = _module_name(key)
        halves.setdefault(module, {})[part] = arr
    alpha = float(config.get("lora_alpha", 8))
    r_default = int(config.get("r", 8))
    pairs = []
    for module, ab in sorted(halves.items()):
        if set(ab) != {"A", "B"}:
            raise ExportError(f"{weights.name} holds only lora_{''.join(ab)} for {module}; the file is incomplete.")
        a, b = ab["A"], ab["B"]
        if a.ndim != 2 or b.ndim != 2 or a.shape[0] != b.shape[1]:
            raise ExportError(f"{module}: lora_A {list(a.shape)} and lora_B {list(b.shape)} do not form a "
                              "rank-r pair (A is (r, in), B is (out, r)). The adapter file is corrupt.")
        rank = int(a.shape[0])
        expected = int(_pattern_value(config.get("rank_pattern") or {}, module, r_default))
        if rank != expected:
            raise ExportError(f"{module}: tensors have rank {rank} but adapter_config.json says r={expected}. "
                              "The config and weights come from different trainings.")
        m_alpha = float(_pattern_value(config.get("alpha_pattern") or {}, module, alpha))
        scale = m_alpha / (math.sqrt(rank) if config.get("use_rslora") else rank)
        pairs.append(LoraPair(module=module, a=a, b=b, scale=scale))
    if not pairs:
        raise ExportError(f"{weights} holds no LoRA weights.")
    return LoraAdapter(path=folder, alpha=alpha, pairs=tuple(pairs))
