"""GGUF adapter writing and the checks before it, on adapters and bases built in the test."""

from __future__ import annotations

import math

import numpy as np
import pytest

from foreplan.export.adapter import read_adapter
from foreplan.export.base import ExportError, open_base, permute_rows
from foreplan.export.lora import export_lora, map_pairs

from tests.export.conftest import gguf, lora_pair, write_adapter

Q0, V1 = "model.layers.0.self_attn.q_proj", "model.layers.1.self_attn.v_proj"


@pytest.fixture
def pairs():
    rng = np.random.default_rng(1)
    return {Q0: lora_pair(rng, 16, 32), V1: lora_pair(rng, 8, 16)}


def test_module_names_map_to_the_base_tensors(tiny_base, tmp_path, pairs):
    base = open_base(tiny_base())
    mapped = map_pairs(read_adapter(write_adapter(tmp_path / "ad", pairs)), base)
    assert [m.name for m in mapped] == ["blk.0.attn_q.weight", "blk.1.attn_v.weight"]


def test_written_adapter_has_llama_cpp_names_shapes_and_keys(tiny_base, tmp_path, pairs):
    result = export_lora(write_adapter(tmp_path / "ad", pairs), tiny_base(), tmp_path / "ad.gguf", outtype="f32")
    reader = gguf.GGUFReader(result.path)
    fields = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    assert fields == {"general.architecture": "qwen2", "general.type": "adapter",
                      "adapter.type": "lora", "adapter.lora.alpha": 4.0}
    # GGUF lists dimensions fastest-first: lora_a is [in, r], lora_b is [r, out] (llama-adapter.cpp)
    shapes = {t.name: [int(x) for x in t.shape] for t in reader.tensors}
    assert shapes == {"blk.0.attn_q.weight.lora_a": [32, 2], "blk.0.attn_q.weight.lora_b": [2, 16],
                      "blk.1.attn_v.weight.lora_a": [16, 2], "blk.1.attn_v.weight.lora_b": [2, 8]}
    a = next(t for t in reader.tensors if t.name == "blk.0.attn_q.weight.lora_a")
    np.testing.assert_array_equal(np.asarray(a.data), pairs[Q0][0])


def test_default_outtype_is_f16_half_the_size(tiny_base, tmp_path, pairs):
    folder = write_adapter(tmp_path / "ad", pairs)
    half = export_lora(folder, tiny_base(), tmp_path / "h.gguf")
    full = export_lora(folder, tiny_base(), tmp_path / "f.gguf", outtype="f32")
    a = next(t for t in gguf.GGUFReader(half.path).tensors if t.name == "blk.0.attn_q.weight.lora_a")
    assert a.tensor_type == gguf.GGMLQuantizationType.F16
    np.testing.assert_array_equal(np.asarray(a.data), pairs[Q0][0].astype(np.float16))
    assert half.size < full.size
    with pytest.raises(ExportError, match="use f16 or f32"):
        export_lora(folder, tiny_base(), tmp_path / "x.gguf", outtype="q8_0")


def test_rslora_scale_is_folded_into_b(tiny_base, tmp_path, pairs):
    folder = write_adapter(tmp_path / "ad", {Q0: pairs[Q0]}, use_rslora=True, lora_alpha=8)
    assert read_adapter(folder).pairs[0].scale == pytest.approx(8 / math.sqrt(2))
    reader = gguf.GGUFReader(export_lora(folder, tiny_base(), tmp_path / "ad.gguf", outtype="f32").path)
    b = next(t for t in reader.tensors if t.name.endswith("lora_b"))
    # llama.cpp applies alpha / r = 4; PEFT applies 8 / sqrt(2)
    np.testing.assert_allclose(np.asarray(b.data) * 4, pairs[Q0][1] * 8 / math.sqrt(2), rtol=1e-6)


def test_bf16_adapter_reads_as_float32(tmp_path, pairs):
    pair = read_adapter(write_adapter(tmp_path / "ad", {Q0: pairs[Q0]}, bf16=True)).pairs[0]
    assert pair.a.dtype == np.float32
    np.testing.assert_allclose(pair.a, pairs[Q0][0], rtol=1e-2)


def test_llama_rows_of_b_follow_the_q_permutation():
    rng = np.random.default_rng(2)
    a, b, w = rng.standard_normal((2, 8)), rng.standard_normal((16, 2)), rng.standard_normal((16, 8))
    permuted_w = w.reshape(4, 2, 2, 8).swapaxes(1, 2).reshape(16, 8)  # convert_hf_to_gguf LlamaModel.permute
    np.testing.assert_allclose(permute_rows(w + b @ a, 4), permuted_w + permute_rows(b, 4) @ a)


def test_llama_base_permutes_q_but_not_v(tiny_base, tmp_path, pairs):
    mapped = map_pairs(read_adapter(write_adapter(tmp_path / "ad", pairs)), open_base(tiny_base("llama")))
    np.testing.assert_array_equal(mapped[0].b, permute_rows(pairs[Q0][1], 4))
    np.testing.assert_array_equal(mapped[1].b, pairs[V1][1])


@pytest.mark.parametrize(("module", "shapes", "match"), [
    ("model.layers.0.self_attn.q_proj", (16, 16), "maps 16 → 16 features but blk.0.attn_q.weight"),
    ("model.layers.7.self_attn.q_proj", (16, 32), "has no GGUF tensor name|has no tensor"),
    ("model.layers.0.mlp.down_proj", (16, 32), "has no tensor 'blk.0.ffn_down.weight'"),
    ("model.layers.0.self_attn.rotary_thing", (16, 32), "no GGUF tensor name"),
])
def test_modules_that_do_not_fit_the_base_are_refused(tiny_base, tmp_path, module, shapes, match):
    pair = lora_pair(np.random.default_rng(3), shapes[0], shapes[1])
    with pytest.raises(ExportError, match=match):
        export_lora(write_adapter(tmp_path / "ad", {module: pair}), tiny_base(), tmp_path / "x.gguf")
    assert not (tmp_path / "x.gguf").exists()
