"""PEFT LoRA adapter → GGUF LoRA adapter, the file llama.cpp loads with ``lora_path``.

What llama.cpp expects (src/llama-adapter.cpp, ``llama_adapter_lora_init_impl``):

    general.type = "adapter", adapter.type = "lora", adapter.lora.alpha = alpha
    general.architecture = the base model's
    <base tensor>.lora_a   ne = [in, r]     (numpy (r, in): PEFT's lora_A as is)
    <base tensor>.lora_b   ne = [r, out]    (numpy (out, r): PEFT's lora_B as is)

and it applies ``scale = alpha / r`` (``lora_scale`` times that), with r read from
lora_b. Where PEFT's own scale differs (rsLoRA, alpha/rank patterns) the difference is
folded into lora_b, so the file reproduces PEFT's output whatever the config.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from foreplan.export.adapter import LoraAdapter, read_adapter
from foreplan.export.base import BaseGGUF, ExportError, open_base, permute_rows

#: Called with (step, done, total) as work proceeds.
Report = Callable[[str, int, int], None]


@dataclass(frozen=True)
class MappedPair:
    """A LoRA pair under its GGUF tensor name, with B's rows in GGUF order."""

    name: str
    a: np.ndarray
    b: np.ndarray
    scale: float


def map_pairs(adapter: LoraAdapter, base: BaseGGUF) -> list[MappedPair]:
    """Give every adapted module its base tensor name and check the shapes against it.

    Raises:
        ExportError: a module that does not map to a base tensor, or A/B shapes that do
            not fit that tensor (the adapter was trained on another model).
    """
    mapped = []
    for pair in adapter.pairs:
        name = base.gguf_name(pair.module)
        rows, cols = base.shape(name)
        if pair.a.shape[1] != cols or pair.b.shape[0] != rows:
            raise ExportError(
                f"{pair.module}: the adapter maps {pair.a.shape[1]} → {pair.b.shape[0]} features but "
                f"{name} in {base.path.name} maps {cols} → {rows}. The adapter was trained on another "
                "model; export it with that model as --base."
            )
        b = pair.b
        permutation = base.row_permutation(name)
        if permutation is not None:
            b = permute_rows(b, permutation[0])
        mapped.append(MappedPair(name=name, a=pair.a, b=b, scale=pair.scale))
    return mapped


@dataclass(frozen=True)
class LoraExport:
    path: Path
    tensors: int
    size: int
    alpha: float


def export_lora(adapter_dir: str | Path, base_spec: str | Path | BaseGGUF, out: str | Path,
                report: Report | None = None, outtype: str = "f16") -> LoraExport:
    """Write a PEFT adapter folder as a GGUF LoRA adapter for ``base_spec``.

    Args:
        adapter_dir: the folder PEFT's ``save_pretrained`` wrote.
        base_spec: the base model: a ``.gguf`` path, an embedded model name, or an opened base.
        out: the adapter file to write (replaced atomically).
        report: progress callback (step, done, total).
        outtype: ``f16`` (half the size, as llama.cpp's converter writes by default) or ``f32``.

    Raises:
        ExportError: bad adapter, mismatched base, or a base that is not GGUF.
    """
    import gguf

    if outtype not in ("f16", "f32"):
        raise ExportError(f"--outtype {outtype}: use f16 or f32.")
    dtype = np.float16 if outtype == "f16" else np.float32
    adapter = read_adapter(adapter_dir)
    base = base_spec if isinstance(base_spec, BaseGGUF) else open_base(base_spec)
    pairs = map_pairs(adapter, base)
    out = Path(out).expanduser()
    tmp = out.with_name(out.name + ".part")
    writer = gguf.GGUFWriter(tmp, base.arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, adapter.alpha)
    for i, pair in enumerate(pairs):
        llama_scale = adapter.alpha / pair.a.shape[0] if adapter.alpha else 1.0  # llama-adapter.h get_scale
        b = pair.b if pair.scale == llama_scale else pair.b * np.float32(pair.scale / llama_scale)
        writer.add_tensor(pair.name + ".lora_a", np.ascontiguousarray(pair.a, dtype=dtype))
        writer.add_tensor(pair.name + ".lora_b", np.ascontiguousarray(b, dtype=dtype))
        if report:
            report("writing adapter", i + 1, len(pairs))
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    os.replace(tmp, out)
    return LoraExport(path=out, tensors=len(pairs), size=out.stat().st_size, alpha=adapter.alpha)
