"""Builders for the export tests: PEFT-style adapter folders and tiny GGUF bases written
in the test, so that name mapping, shapes and bad inputs are checked in milliseconds."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf", reason="the export tests need the train extra (pip install 'foreplan[train]')")

HIDDEN, HEADS, BLOCKS = 16, 4, 2


def write_safetensors(path: Path, tensors: dict[str, np.ndarray], bf16: bool = False) -> None:
    """A safetensors file by its spec: u64 header length, JSON header, raw little-endian data."""
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        blob = (arr.view(np.uint32) >> 16).astype(np.uint16).tobytes() if bf16 else arr.tobytes()
        header[name] = {"dtype": "BF16" if bf16 else "F32", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    head = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def write_adapter(folder: Path, pairs: dict[str, tuple[np.ndarray, np.ndarray]], bf16: bool = False,
                  **config) -> Path:
    """A PEFT LoRA folder: ``pairs`` maps module names (model.layers.0.self_attn.q_proj) to (A, B)."""
    folder.mkdir(parents=True, exist_ok=True)
    rank = next(iter(pairs.values()))[0].shape[0] if pairs else 8
    cfg = {"peft_type": "LORA", "r": rank, "lora_alpha": 2 * rank, "target_modules": ["q_proj", "v_proj"],
           "bias": "none", "use_dora": False, "use_rslora": False, "fan_in_fan_out": False,
           "modules_to_save": None, "rank_pattern": {}, "alpha_pattern": {}} | config
    (folder / "adapter_config.json").write_text(json.dumps(cfg))
    tensors = {}
    for module, (a, b) in pairs.items():
        tensors[f"base_model.model.{module}.lora_A.weight"] = a
        tensors[f"base_model.model.{module}.lora_B.weight"] = b
    write_safetensors(folder / "adapter_model.safetensors", tensors, bf16=bf16)
    return folder


def lora_pair(rng: np.random.Generator, out: int, inp: int, rank: int = 2) -> tuple[np.ndarray, np.ndarray]:
    return (rng.standard_normal((rank, inp)).astype(np.float32),
            rng.standard_normal((out, rank)).astype(np.float32))


@pytest.fixture
def tiny_base(tmp_path: Path):
    """Write a 2-block base GGUF (q: 16→16, v: 16→8; F32 and Q8_0 tensors) for ``arch``."""

    def build(arch: str = "qwen2") -> Path:
        rng = np.random.default_rng(0)
        path = tmp_path / f"tiny-{arch}.gguf"
        w = gguf.GGUFWriter(path, arch)
        w.add_block_count(BLOCKS)
        w.add_head_count(HEADS)
        w.add_head_count_kv(HEADS // 2)
        w.add_string("general.name", "tiny")
        w.add_array("tokenizer.ggml.tokens", ["a", "b", "ü"])
        w.add_tensor("token_embd.weight", rng.standard_normal((3, HIDDEN)).astype(np.float32))
        for i in range(BLOCKS):
            q = rng.standard_normal((HIDDEN, 32)).astype(np.float32)  # Q8_0 wants rows of 32
            w.add_tensor(f"blk.{i}.attn_q.weight", gguf.quants.quantize(q, gguf.GGMLQuantizationType.Q8_0),
                         raw_dtype=gguf.GGMLQuantizationType.Q8_0)
            w.add_tensor(f"blk.{i}.attn_v.weight", rng.standard_normal((HIDDEN // 2, HIDDEN)).astype(np.float32))
            w.add_tensor(f"blk.{i}.attn_norm.weight", np.ones(HIDDEN, dtype=np.float32))
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
        w.close()
        return path

    return build
