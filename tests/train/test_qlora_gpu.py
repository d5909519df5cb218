"""QLoRA's 4-bit NF4 path (bitsandbytes) needs a CUDA GPU: tested when one is lent."""

from __future__ import annotations

import importlib.util

import pytest

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.skipif(not torch.cuda.is_available() or importlib.util.find_spec("bitsandbytes") is None,
                                reason="QLoRA needs a CUDA GPU and bitsandbytes (pip install 'foreplan[gpu]')")


def test_qlora_trains_a_4bit_model_and_saves_a_lora_adapter(tiny_model, alpaca_dir, tmp_path):
    from foreplan.train.args import build_args
    from foreplan.train.recipe import run_training

    out = tmp_path / "qlora"
    args = build_args(["--model_name_or_path", str(tiny_model), "--dataset", "sums", "--dataset_dir", str(alpaca_dir),
                       "--template", "qwen", "--output_dir", str(out), "--finetuning_type", "lora",
                       "--quantization_bit", "4", "--lora_target", "all", "--max_steps", "4", "--logging_steps", "1"])
    assert args.finetuning_type == "qlora"
    result = run_training(args, say=lambda m: None, progress=False)
    assert len(result.history) == 4 and (out / "adapter_model.safetensors").exists()
