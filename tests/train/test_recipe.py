"""The SFT recipe on a tiny real model: it learns, saves a PEFT folder, resumes after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from foreplan.errors import DatasetError, TrainConfigError, TrainError
from foreplan.train.args import build_args
from foreplan.train.recipe import run_training
from foreplan.train.source import estimate_bytes


def _argv(model: Path, data: Path, out: Path, *extra: str) -> list[str]:
    return ["--model_name_or_path", str(model), "--dataset", "sums", "--dataset_dir", str(data), "--template", "qwen",
            "--output_dir", str(out), "--lora_target", "q_proj,v_proj", "--learning_rate", "5e-2",
            "--logging_steps", "1", "--per_device_train_batch_size", "2", *extra]


def test_lora_learns_and_saves_a_standard_peft_folder(tiny_model, alpaca_dir, tmp_path):
    out = tmp_path / "out"
    result = run_training(build_args(_argv(tiny_model, alpaca_dir, out, "--max_steps", "12", "--save_steps", "5",
                                           "--lora_target", "all",
                                           "--plot_loss", "--val_size", "2")), say=lambda m: None, progress=False)
    losses = [r["loss"] for r in result.history]
    assert len(losses) == 12 and sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.05, losses
    assert "eval_loss" in result.history[-1]
    assert {"adapter_config.json", "adapter_model.safetensors", "train_log.jsonl", "training_loss.png",
            "training_eval_loss.png", "checkpoint-5", "checkpoint-10", "checkpoint-12"} <= {p.name for p in out.iterdir()}
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    loaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model), out)
    assert "down_proj" in loaded.peft_config["default"].target_modules
    logged = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged] == list(range(1, 13)) and all(r["tokens_per_s"] > 0 for r in logged)


@pytest.mark.parametrize("kind", ["full", "freeze"])
def test_full_and_freeze_train_plain_weights(tiny_model, alpaca_dir, tmp_path, kind):
    out = tmp_path / kind
    result = run_training(build_args(_argv(tiny_model, alpaca_dir, out, "--max_steps", "6", "--finetuning_type", kind,
                                           "--freeze_trainable_layers", "1", "--learning_rate", "1e-2")),
                          say=lambda m: None, progress=False)
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert (out / "config.json").exists() and (out / "model.safetensors").exists()


def test_resume_after_kill_9_continues_the_same_loss_curve(tiny_model, alpaca_dir, tmp_path):
    def command(out: Path, *extra: str) -> list[str]:
        return [sys.executable, "-m", "foreplan.cli.train", *_argv(tiny_model, alpaca_dir, out, "--max_steps", "60",
                                                                  "--save_steps", "10", "--lora_dropout", "0.1",
                                                                  "--cutoff_len", "96", *extra)]  # packed rows

    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    straight = tmp_path / "straight"
    subprocess.run(command(straight), check=True, capture_output=True, env=env, timeout=300)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(command(killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 240
    while not (killed / "checkpoint-20").exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (killed / "checkpoint-20").exists() and not (killed / "checkpoint-60").exists(), "killed too late"
    subprocess.run(command(killed, "--resume_from_checkpoint", "true"), check=True, capture_output=True, env=env,
                   timeout=300)

    def curve(out: Path) -> list[float]:
        return [json.loads(line)["loss"] for line in (out / "train_log.jsonl").read_text().splitlines()]

    assert len(curve(killed)) == 60
    assert curve(killed) == pytest.approx(curve(straight), abs=1e-4)


def test_bad_setups_fail_before_any_weights_load(tiny_model, alpaca_dir, tmp_path):
    out = tmp_path / "exists"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(TrainConfigError, match="exists and is not empty"):
        run_training(build_args(_argv(tiny_model, alpaca_dir, out)), say=lambda m: None, progress=False)
    assert (out / "keep.txt").read_text() == "mine"
    with pytest.raises(TrainConfigError, match="no such module in qwen2; it has q_proj"):
        run_training(build_args(_argv(tiny_model, alpaca_dir, tmp_path / "a", "--lora_target", "query_key_value")),
                     say=lambda m: None, progress=False)
    with pytest.raises(TrainConfigError, match="--template gemma does not match"):
        run_training(build_args(_argv(tiny_model, alpaca_dir, tmp_path / "b") + ["--template", "gemma"]),
                     say=lambda m: None, progress=False)
    with pytest.raises(TrainConfigError, match="Unknown model"):
        run_training(build_args(_argv(tmp_path / "nothing", alpaca_dir, tmp_path / "c")), say=lambda m: None)
    (alpaca_dir / "sums.json").write_text("[]")
    with pytest.raises(DatasetError, match="is empty"):
        run_training(build_args(_argv(tiny_model, alpaca_dir, tmp_path / "d")), say=lambda m: None)


def test_memory_estimate_names_what_to_change(monkeypatch, tiny_model):
    import psutil

    from foreplan.train.source import check_memory, resolve_source

    assert estimate_bytes(500_000_000, "full", 1, 512) > 4 * estimate_bytes(500_000_000, "lora", 1, 512) / 2
    monkeypatch.setattr(psutil, "virtual_memory", lambda: type("M", (), {"available": 2**20})())
    with pytest.raises(TrainError, match="Lower --per_device_train_batch_size or --cutoff_len"):
        check_memory(resolve_source(str(tiny_model)), "lora", 8, 4096)


def test_memory_on_a_gpu_is_the_gpus_and_qlora_is_named(monkeypatch, tiny_model):
    import torch

    from foreplan.train.source import check_memory, resolve_source

    saved = estimate_bytes(1_500_000_000, "lora", 4, 512, cuda=True) - estimate_bytes(1_500_000_000, "qlora", 4, 512,
                                                                                      cuda=True)
    assert saved > 2.5e9  # 2 bytes a weight become about 0.75
    # on the CPU, QLoRA trains LoRA on bf16 weights: the same memory
    assert estimate_bytes(500_000_000, "qlora", 1, 512) == estimate_bytes(500_000_000, "lora", 1, 512)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda: (2**20, 80 * 2**30))
    with pytest.raises(TrainError, match=r"GiB is free on the GPU.*--quantization_bit 4 \(QLoRA\)"):
        check_memory(resolve_source(str(tiny_model)), "lora", 8, 4096, cuda=True)


def test_truncation_is_counted_never_silent(tiny_model, alpaca_dir, tmp_path):
    said: list[str] = []
    result = run_training(build_args(_argv(tiny_model, alpaca_dir, tmp_path / "t", "--max_steps", "1",
                                           "--cutoff_len", "38")), say=said.append, progress=False)
    assert result.truncated > 0 and any("truncated" in s and "--cutoff_len 38" in s for s in said)


def test_cli_reports_a_typo_without_a_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "foreplan.cli", "train", "--model_name_or_path", "M",
                           "--dataset", "D", "--output_dir", str(tmp_path), "--num_train_epoch", "3"],
                          capture_output=True, text=True)
    assert done.returncode == 1 and "Did you mean --num_train_epochs" in done.stderr
    assert "Traceback" not in done.stderr


def test_runs_under_accelerate_launch_with_two_cpu_processes(tiny_model, alpaca_dir, tmp_path):
    """DDP over gloo: both processes train, only the main one writes."""
    out = tmp_path / "ddp"
    # On a machine without CUDA, accelerate's --multi_gpu launcher runs MULTI_CPU (gloo); --cpu would
    # silently start a single process. CUDA is hidden: two processes on one GPU is not this test.
    done = subprocess.run(["accelerate", "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                           "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "foreplan.cli.train",
                           *_argv(tiny_model, alpaca_dir, out, "--max_steps", "4")],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""})
    assert done.returncode == 0, done.stderr[-2000:]
    logged = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged] == [1, 2, 3, 4]  # one writer: no duplicated lines
    # The 12 examples pack into one row, one micro-batch per epoch; two processes take two per step.
    assert "packing: 12 examples in 1 row " in done.stdout + done.stderr
    assert [r["epoch"] for r in logged] == pytest.approx([2.0, 4.0, 6.0, 8.0], abs=1e-3)
    assert (out / "adapter_model.safetensors").exists()


def test_gradient_checkpointing_trains_and_recomputes_quietly(tiny_model, alpaca_dir, tmp_path):
    """Warnings are errors in this suite: torch's "pass use_reentrant explicitly" would fail it."""
    result = run_training(build_args(_argv(tiny_model, alpaca_dir, tmp_path / "gc", "--max_steps", "2",
                                           "--gradient_checkpointing", "true")), say=lambda m: None, progress=False)
    assert [r["step"] for r in result.history] == [1, 2]


def test_a_checkpoint_keeps_every_random_generator():
    import torch

    from foreplan.train.checkpoint import rng_state

    state = rng_state()
    assert {"python", "numpy", "torch", "cuda"} <= state.keys()
    assert (state["cuda"] is None) == (not torch.cuda.is_available())


def test_parameter_counts_come_from_peft_for_an_adapter(tiny_model):
    from foreplan.train.setup import load_model, make_trainable, trainable_summary
    from foreplan.train.source import resolve_source

    base = load_model(resolve_source(str(tiny_model)), cuda=False, quantize_4bit=False)
    plain_total = sum(p.numel() for p in base.parameters())
    model = make_trainable(base, build_args(_argv(tiny_model, tiny_model, tiny_model)))
    trainable, total = trainable_summary(model)
    adapter = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == adapter > 0 and total == plain_total + adapter
