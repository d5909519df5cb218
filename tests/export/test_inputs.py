"""Bad adapters and bases end in an ExportError that says what to do, and the CLI shows
it as one line with exit code 1."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from foreplan.cli.export import _show_agreement, export_app
from foreplan.errors import UnknownModelError, VerificationError
from foreplan.export.adapter import read_adapter
from foreplan.export.base import ExportError, open_base
from foreplan.export.lora import export_lora
from foreplan.export.merge import export_merged
from foreplan.export.verify import Agreement, PromptAgreement
from tests.export.conftest import lora_pair, write_adapter, write_safetensors

Q0 = "model.layers.0.self_attn.q_proj"


@pytest.fixture
def adapter(tmp_path):
    return write_adapter(tmp_path / "ad", {Q0: lora_pair(np.random.default_rng(0), 16, 32)})


def test_a_folder_without_adapter_config_is_not_an_adapter(tmp_path):
    with pytest.raises(ExportError, match="not a PEFT adapter folder .*save_pretrained"):
        read_adapter(tmp_path)


def test_bin_weights_ask_for_safetensors(adapter):
    (adapter / "adapter_model.safetensors").rename(adapter / "adapter_model.bin")
    with pytest.raises(ExportError, match="safe_serialization=True"):
        read_adapter(adapter)


@pytest.mark.parametrize(("config", "match"), [
    ({"use_dora": True}, "DoRA"),
    ({"peft_type": "IA3"}, "not 'LORA'"),
    ({"modules_to_save": ["lm_head"]}, "modules_to_save"),
    ({"bias": "all"}, "trained biases"),
    ({"r": 4}, "rank 2 but adapter_config.json says r=4"),
])
def test_lora_variants_that_llama_cpp_cannot_run_are_refused(tmp_path, config, match):
    folder = write_adapter(tmp_path / "ad", {Q0: lora_pair(np.random.default_rng(0), 16, 32)}, **config)
    with pytest.raises(ExportError, match=match):
        read_adapter(folder)


def test_half_a_pair_or_mismatched_ranks_are_refused(tmp_path):
    a, b = lora_pair(np.random.default_rng(0), 16, 32)
    folder = write_adapter(tmp_path / "ad", {Q0: (a, b)})
    write_safetensors(folder / "adapter_model.safetensors", {f"base_model.model.{Q0}.lora_A.weight": a})
    with pytest.raises(ExportError, match="holds only lora_A"):
        read_adapter(folder)
    write_safetensors(folder / "adapter_model.safetensors", {f"base_model.model.{Q0}.lora_A.weight": a,
                                                             f"base_model.model.{Q0}.lora_B.weight": b[:, :1]})
    with pytest.raises(ExportError, match="do not form a rank-r pair"):
        read_adapter(folder)


def test_embedding_lora_is_refused(tmp_path):
    folder = write_adapter(tmp_path / "ad", {Q0: lora_pair(np.random.default_rng(0), 16, 32)})
    write_safetensors(folder / "adapter_model.safetensors",
                      {"base_model.model.model.embed_tokens.lora_embedding_A": np.zeros((2, 3), np.float32)})
    with pytest.raises(ExportError, match="trains an embedding"):
        read_adapter(folder)


def test_a_base_that_is_not_gguf_is_refused(tmp_path, adapter):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(ExportError, match="is not a GGUF file"):
        open_base(fake)
    with pytest.raises(ExportError, match="does not exist"):
        open_base(tmp_path / "missing.gguf")
    with pytest.raises(UnknownModelError, match="No embedded model named 'llama-9000'"):
        open_base("llama-9000")


def test_an_adapter_file_is_not_a_base(tiny_base, tmp_path, adapter):
    lora = export_lora(adapter, tiny_base(), tmp_path / "lora.gguf").path
    with pytest.raises(ExportError, match="is a LoRA adapter, not a base model"):
        open_base(lora)


def test_unsupported_architectures_are_refused(tiny_base):
    with pytest.raises(ExportError, match="'gpt2' models is not supported"):
        open_base(tiny_base("gpt2"))


def test_merge_adds_the_scaled_delta_and_copies_the_rest(tiny_base, tmp_path, adapter):
    pytest.importorskip("llama_cpp")
    from tests.export.conftest import gguf

    base_path = tiny_base()
    a, b = lora_pair(np.random.default_rng(0), 16, 32)  # the pair in `adapter` (same seed)
    # F32 output keeps the arithmetic checkable; llama.cpp's quantizer still runs
    with pytest.raises(ExportError, match="Unknown quantization 'Q9'"):
        export_merged(adapter, base_path, tmp_path / "m.gguf", "q9")
    with pytest.raises(ExportError, match="could not quantize"):  # a 2-block toy has no loadable model
        export_merged(adapter, base_path, tmp_path / "m.gguf", "F32")
    from foreplan.export.merge import write_merged
    from foreplan.export.lora import map_pairs

    base = open_base(base_path)
    write_merged(base, map_pairs(read_adapter(adapter), base), tmp_path / "m.part")
    merged = gguf.GGUFReader(tmp_path / "m.part")
    tensors = {t.name: t for t in merged.tensors}
    q = gguf.quants.dequantize(base.tensors["blk.0.attn_q.weight"].data, gguf.GGMLQuantizationType.Q8_0)
    np.testing.assert_allclose(np.asarray(tensors["blk.0.attn_q.weight"].data), q + 2.0 * (b @ a), rtol=1e-5)
    assert tensors["blk.1.attn_q.weight"].tensor_type == gguf.GGMLQuantizationType.Q8_0  # untouched
    np.testing.assert_array_equal(tensors["blk.1.attn_q.weight"].data, base.tensors["blk.1.attn_q.weight"].data)
    assert merged.fields["tokenizer.ggml.tokens"].contents() == ["a", "b", "ü"]
    assert merged.fields["general.name"].contents() == "tiny"
    assert not list(tmp_path.glob("m.gguf*"))  # no partial files left behind


def test_cli_prints_the_error_without_a_traceback(tmp_path):
    result = CliRunner().invoke(export_app, ["merge", str(tmp_path), "--base", "gemma-3-270m", "-o", str(tmp_path / "x.gguf")])
    assert result.exit_code == 1
    assert "not a PEFT adapter folder" in result.output and "Traceback" not in result.output


def test_too_little_agreement_fails_verification():
    rows = (PromptAgreement(prompt="p", source_text="t", agreed=7, tokens=10, changed_by_adapter=3),)
    with pytest.raises(VerificationError, match="only 70.0% of tokens"):
        _show_agreement(Agreement(prompts=rows), 0.95, "test")
    _show_agreement(Agreement(prompts=rows), 0.7, "test")  # at the threshold: accepted
    assert json.dumps(Agreement(prompts=rows).ratio) == "0.7"


class _Logits:
    """Just enough of llama_cpp.Llama for scoring: fixed logits at every position."""

    def __init__(self, rows):
        self.scores = np.array(rows, dtype=np.float32)

    def reset(self):
        pass

    def eval(self, tokens):
        assert len(tokens) <= len(self.scores)

    def detokenize(self, tokens):
        return b"".join(b"t%d" % t for t in tokens)


def test_a_near_tie_counts_as_agreement_and_a_clear_miss_does_not():
    from foreplan.export.verify import NEAR_TIE, _score

    # prompt [0]; the source continued with tokens 1, 1, 1: the export says 1, nearly 1, then 2 by far
    export = _Logits([[0, 5, 0], [0, 5 - NEAR_TIE / 2, 5], [0, 1, 5], [0, 0, 0]])
    bare = _Logits([[0, 0, 5]] * 4)
    agreement = _score([[1, 1, 1]], [[0]], ("p",), export, bare)
    (row,) = agreement.prompts
    assert (row.agreed, row.near_ties, row.tokens, row.changed_by_adapter) == (2, 1, 3, 3)
