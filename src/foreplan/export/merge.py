"""Merge a LoRA adapter into its base GGUF and quantize the result, with no HF converter.

    base.gguf ──GGUFReader──► adapted tensors: dequantize ─► W + scale·B@A ─► F32 ┐
        │                     other tensors and all metadata: copied byte for byte ├─► merged.part
        └──────────────────────────────────────────────────────────────────────────┘
    merged.part ──llama_model_quantize(ftype, allow_requantize)──► out.gguf

Unchanged tensors keep their quantized bytes; llama.cpp requantizes them (through f32)
only when the target type differs, as ``llama-quantize --allow-requantize`` does.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from foreplan.export.adapter import read_adapter
from foreplan.export.base import BaseGGUF, ExportError, open_base
from foreplan.export.lora import MappedPair, Report, map_pairs

#: ``--quant`` names and the llama_ftype each one asks llama_model_quantize for.
QUANT_TYPES = {
    "F32": 0, "F16": 1, "Q4_0": 2, "Q8_0": 7, "Q5_0": 8, "Q2_K": 10, "Q3_K_M": 12,
    "Q4_K_S": 14, "Q4_K_M": 15, "Q5_K_S": 16, "Q5_K_M": 17, "Q6_K": 18, "BF16": 32,
}


@dataclass(frozen=True)
class MergeExport:
    path: Path
    quant: str
    merged_tensors: int
    size: int
    parameters: int

    @property
    def bits_per_weight(self) -> float:
        """Whole-file bits per parameter (metadata and tokenizer included)."""
        return self.size * 8 / self.parameters


def merged_tensor(tensor: Any, pair: MappedPair) -> np.ndarray:
    """``W + scale * B @ A`` in float32, for one base tensor (any ggml type gguf can dequantize)."""
    import gguf

    try:
        w = gguf.quants.dequantize(tensor.data, tensor.tensor_type)
    except NotImplementedError as exc:
        raise ExportError(f"The gguf package cannot dequantize {tensor.name} ({tensor.tensor_type.name}); "
                          "merge into a base quantized differently, or export the adapter with `export lora`.") from exc
    w = np.asarray(w, dtype=np.float32).reshape(pair.b.shape[0], pair.a.shape[1])
    return w + np.float32(pair.scale) * (pair.b @ pair.a)


def _copy_metadata(base: BaseGGUF, writer: Any) -> None:
    """Every KV of the base except the reader's pseudo-keys, strings kept as raw bytes."""
    import gguf

    VT = gguf.GGUFValueType
    for name, f in base.reader.fields.items():
        if name.startswith("GGUF.") or name == gguf.Keys.General.ARCHITECTURE:
            continue
        main = f.types[0]
        if main == VT.ARRAY:
            sub = f.types[-1]
            if len(f.types) != 2:
                raise ExportError(f"{base.path.name}: metadata {name} is a nested array, which this merge cannot copy.")
            value = [bytes(f.parts[i]) for i in f.data] if sub == VT.STRING else f.contents()
            writer.add_key_value(name, value, main, sub_type=sub)
        elif main == VT.STRING:
            writer.add_key_value(name, bytes(f.parts[-1]), main)
        else:
            writer.add_key_value(name, f.contents(), main)
    alignment = base.field(gguf.Keys.General.ALIGNMENT)
    if alignment:
        writer.data_alignment = int(alignment)


def write_merged(base: BaseGGUF, pairs: list[MappedPair], path: Path, report: Report | None = None) -> None:
    """Write the base with the adapted tensors replaced by merged float32 ones."""
    import gguf

    by_name = {p.name: p for p in pairs}
    writer = gguf.GGUFWriter(path, base.arch)
    _copy_metadata(base, writer)
    for t in base.reader.tensors:
        if t.name in by_name:
            rows, cols = base.shape(t.name)
            writer.add_tensor_info(t.name, (rows, cols), np.dtype(np.float32), rows * cols * 4,
                                   raw_dtype=gguf.GGMLQuantizationType.F32)
        else:
            writer.add_tensor_info(t.name, t.data.shape, t.data.dtype, t.data.nbytes, raw_dtype=t.tensor_type)
    total = len(base.reader.tensors)
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for i, t in enumerate(base.reader.tensors):  # same order as the infos above
            data = merged_tensor(t, by_name[t.name]) if t.name in by_name else t.data
            writer.write_tensor_data(data)
            if report:
                report("merging and writing tensors", i + 1, total)
    finally:
        writer.close()


def quantize(src: Path, out: Path, quant: str) -> None:
    """Quantize a GGUF model file with llama.cpp's own quantizer.

    Raises:
        ExportError: an unknown type name, or llama.cpp refused.
        MissingExtraError: llama-cpp-python is not installed.
    """
    from foreplan.llm.llamacpp import _import_llama_cpp

    llama_cpp = _import_llama_cpp()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = QUANT_TYPES[quant]
    params.allow_requantize = True  # the base's own tensors are already quantized
    params.nthread = os.cpu_count() or 1
    log = logging.getLogger("llama-cpp-python")  # llama.cpp logs every tensor otherwise
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        rc = llama_cpp.llama_model_quantize(str(src).encode(), str(out).encode(), params)
    finally:
        log.setLevel(level)
    if rc != 0:
        raise ExportError(f"llama.cpp could not quantize {src.name} to {quant} (code {rc}). "
                          "Try another --quant (Q8_0 always works for a valid model).")


def export_merged(adapter_dir: str | Path, base_spec: str | Path | BaseGGUF, out: str | Path,
                  quant: str = "Q8_0", report: Report | None = None) -> MergeExport:
    """Merge a PEFT LoRA adapter into a GGUF base and quantize the result.

    Args:
        adapter_dir: the folder PEFT's ``save_pretrained`` wrote.
        base_spec: a ``.gguf`` path, an embedded model name, or an opened base.
        out: the merged model file to write (replaced atomically).
        quant: one of :data:`QUANT_TYPES`.
        report: progress callback (step, done, total); total 0 means "no known end".

    Raises:
        ExportError: bad adapter, mismatched base, unknown quant type, quantizer failure.
    """
    quant = quant.upper()
    if quant not in QUANT_TYPES:
        raise ExportError(f"Unknown quantization {quant!r}. Choose one of: {', '.join(QUANT_TYPES)}.")
    adapter = read_adapter(adapter_dir)
    base = base_spec if isinstance(base_spec, BaseGGUF) else open_base(base_spec)
    pairs = map_pairs(adapter, base)
    out = Path(out).expanduser()
    merged = out.with_name(out.name + ".merged-f32.part")
    quantized = out.with_name(out.name + ".part")
    try:
        write_merged(base, pairs, merged, report)
        if report:
            report(f"quantizing to {quant}", 0, 0)
        quantize(merged, quantized, quant)
        os.replace(quantized, out)
    finally:
        for leftover in (merged, quantized):
            leftover.unlink(missing_ok=True)
    if report:
        report(f"quantizing to {quant}", 1, 1)
    parameters = sum(int(t.n_elements) for t in base.reader.tensors)
    return MergeExport(path=out, quant=quant, merged_tensors=len(pairs), size=out.stat().st_size,
                       parameters=parameters)
