"""QLoRA's 4-bit NF4 path (bitsandbytes) needs a CUDA GPU: tested when one is lent.

Seen on an H200 (torch 2.11, transformers 5.17, peft 0.21.2, bitsandbytes 0.50.2): the
recipe loads the weights in 4-bit and reaches bitsandbytes' 4-bit matmul; with hidden size
16 bitsandbytes warns that the inner dimension is not a multiple of its block size (64),
so this model is 64 wide, the smallest that takes the fast kernel.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.skipif(not torch.cuda.is_available() or importlib.util.find_spec("bitsandbytes") is None,
                                reason="QLoRA needs a CUDA GPU and bitsandbytes (pip install 'foreplan[gpu]')")


@pytest.fixture(scope="module")
def aligned_model(tiny_qwen) -> Path:
    return tiny_qwen(64)


@pytest.mark.parametrize("checkpointing", ["false", "true"])
def test_qlora_trains_a_4bit_model_and_saves_a_lora_adapter(aligned_model, alpaca_dir, tmp_path, checkpointing):
    from foreplan.train.args import build_args
    from foreplan.train.recipe import run_training

    out = tmp_path / "qlora"
    args = build_args(["--model_name_or_path", str(aligned_model), "--dataset", "sums", "--dataset_dir",
                       str(alpaca_dir), "--template", "qwen", "--output_dir", str(out), "--finetuning_type", "lora",
                       "--quantization_bit", "4", "--lora_target", "all", "--max_steps", "4", "--logging_steps", "1",
                       "--gradient_checkpointing", checkpointing])
    assert args.finetuning_type == "qlora"
    said: list[str] = []
    result = run_training(args, say=said.append, progress=False)
    assert len(result.history) == 4 and (out / "adapter_model.safetensors").exists()
    assert any("on 4-bit NF4 base weights" in s for s in said), said
