"""End to end on the real Gemma-3-270M: a PEFT adapter made here, exported both ways,
run by llama.cpp, and compared with what transformers + PEFT generate."""

from __future__ import annotations

import warnings

import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.gguf
torch = pytest.importorskip("torch")
pytest.importorskip("peft")
pytest.importorskip("llama_cpp")

PROMPTS = ("The capital of France is", "def fibonacci(n):", "Once upon a time, in a small village,")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(PEFT model, adapter folder, base GGUF path): LoRA r=8 on q/v with B drawn at random,
    so that the adapter visibly changes greedy output (PEFT starts B at zero)."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from foreplan.llm.registry import get_model, pull

    torch.manual_seed(0)  # PEFT draws lora_A from the global generator
    base = pull(get_model("gemma-3-270m"))
    model = AutoModelForCausalLM.from_pretrained(str(base.parent), gguf_file=base.name, dtype=torch.float32)
    with warnings.catch_warnings():
        # transformers 5 deprecates is_gradient_checkpointing, which peft 0.21 still reads;
        # the folder has no config.json for peft to compare vocabularies with
        warnings.simplefilter("ignore", FutureWarning)
        warnings.filterwarnings("ignore", "Could not find a config file", UserWarning)
        peft_model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"]))
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for name, p in peft_model.named_parameters():
                if "lora_B" in name:
                    p.copy_(torch.randn(p.shape, generator=generator) * 0.05)
        folder = tmp_path_factory.mktemp("adapter")
        peft_model.save_pretrained(folder)
    return peft_model.eval(), folder, base


def test_gguf_adapter_changes_the_output_and_matches_peft(trained, tmp_path):
    from foreplan.export.lora import export_lora
    from foreplan.export.verify import verify_lora

    peft_model, folder, base = trained
    lora = export_lora(folder, base, tmp_path / "adapter.gguf")
    assert lora.tensors == 36  # 18 blocks × (q, v)
    agreement = verify_lora(peft_model, base, lora.path, PROMPTS, n_tokens=24)
    assert agreement.changed_ratio > 0.05, agreement  # the bare base says something else
    assert agreement.ratio >= 0.9, agreement  # llama.cpp + GGUF adapter ≈ transformers + PEFT


def test_merge_to_q8_0_passes_verify(trained, tmp_path):
    _, folder, base = trained
    out = tmp_path / "merged-q8_0.gguf"
    from foreplan.cli.export import export_app

    result = CliRunner().invoke(export_app, [
        "merge", str(folder), "--base", str(base), "--quant", "Q8_0", "-o", str(out), "--verify", "--tokens", "24",
        *(arg for p in PROMPTS for arg in ("--prompt", p)),
    ])
    assert result.exit_code == 0, result.output
    assert "Q8_0" in result.output and "bits per weight" in result.output
    agreed = float(result.output.split("token agreement ")[1].split("%")[0])
    assert agreed >= 90.0, result.output  # near-ties flip even at F16 (see verify.MIN_AGREEMENT)
    assert 0.9 * base.stat().st_size < out.stat().st_size < 1.3 * base.stat().st_size  # Q8_0 of a Q4_K_M/Q8_0 mix
