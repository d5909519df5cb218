"""``foreplan train`` flags: the seed's command verbatim, YAML, typos, flags that cannot apply."""

from __future__ import annotations

import pytest

from foreplan.errors import TrainConfigError
from foreplan.train.args import build_args, notices

SEED = ("--stage sft --model_name_or_path M --do_train --dataset D --template alpaca --finetuning_type lora "
        "--lora_target q_proj,v_proj --output_dir O --overwrite_cache --per_device_train_batch_size 1 "
        "--gradient_accumulation_steps 4 --lr_scheduler_type cosine --logging_steps 10 --save_steps 1000 "
        "--learning_rate 5e-6 --num_train_epochs 4.0 --plot_loss --flash_attn").split()


def test_the_seeds_command_parses_verbatim():
    args = build_args(SEED)
    assert args.model_name_or_path == "M" and args.datasets == ["D"] and args.template == "alpaca"
    assert args.targets == ["q_proj", "v_proj"] and args.gradient_accumulation_steps == 4
    assert args.learning_rate == 5e-6 and args.num_train_epochs == 4.0 and args.plot_loss and args.do_train
    assert args.flash_attn == "fa2" and args.overwrite_cache and args.save_steps == 1000


def test_equals_form_and_explicit_booleans():
    args = build_args(["--model_name_or_path=M", "--dataset=a, b", "--output_dir", "O", "--plot_loss", "false",
                       "--lora_rank", "16"])
    assert args.datasets == ["a", "b"] and not args.plot_loss and args.lora_rank == 16 and args.alpha == 32


def test_yaml_file_then_flags_override(tmp_path):
    config = tmp_path / "sft.yaml"
    config.write_text("model_name_or_path: M\ndataset: D\noutput_dir: O\nlearning_rate: 1.0e-4\nlora_target: all\n")
    args = build_args([str(config), "--learning_rate", "2e-4"])
    assert args.learning_rate == 2e-4 and args.targets == "all" and args.model_name_or_path == "M"


def test_unknown_flag_suggests_the_closest():
    with pytest.raises(TrainConfigError, match="--learning_rat.*Did you mean --learning_rate"):
        build_args(SEED + ["--learning_rat", "1"])


def test_unknown_yaml_key_is_an_error(tmp_path):
    config = tmp_path / "sft.yaml"
    config.write_text("model_name_or_path: M\ndataset: D\noutput_dir: O\nlora_rnak: 8\n")
    with pytest.raises(TrainConfigError, match="Did you mean --lora_rank"):
        build_args([str(config)])


def test_bad_values_name_the_flag():
    with pytest.raises(TrainConfigError, match="--finetuning_type"):
        build_args(["--model_name_or_path", "M", "--dataset", "D", "--output_dir", "O", "--finetuning_type", "dora"])
    with pytest.raises(TrainConfigError, match="--lora_rank"):
        build_args(["--model_name_or_path", "M", "--dataset", "D", "--output_dir", "O", "--lora_rank", "0"])
    with pytest.raises(TrainConfigError, match="needs a value"):
        build_args(["--model_name_or_path"])


def test_llamafactory_qlora_spelling_becomes_qlora():
    args = build_args(["--model_name_or_path", "M", "--dataset", "D", "--output_dir", "O", "--quantization_bit", "4"])
    assert args.finetuning_type == "qlora"


def test_flags_that_cannot_apply_on_the_cpu_are_said_once():
    said = notices(build_args(SEED + ["--fp16", "--finetuning_type", "qlora"]), cuda=False)
    assert sum("flash_attn" in s for s in said) == 1
    assert any("QLoRA" in s and "bf16" in s for s in said) and any("--fp16" in s for s in said)


def test_precision_and_attention_flags_say_what_is_applied_on_cuda():
    said = notices(build_args(SEED + ["--fp16", "--bf16"]), cuda=True)
    assert [s.split(":")[0] for s in said if s.startswith(("--bf16", "--fp16", "--flash_attn"))] == [
        "--bf16", "--fp16", "--flash_attn fa2"]
    assert any(s.startswith("--bf16: applied") for s in said)
    assert any(s.startswith("--fp16: not applied") for s in said)
    assert any(s.startswith("--flash_attn fa2: not applied") for s in said)
    assert not any(s.startswith(("--bf16", "--fp16", "--flash_attn")) for s in notices(build_args(SEED[:-1]), cuda=True))


def test_deepspeed_auto_batch_settings_are_filled_in(tmp_path):
    import json

    from foreplan.train.distributed import deepspeed_config

    ds = tmp_path / "ds_z2.json"
    ds.write_text(json.dumps({"train_batch_size": "auto", "train_micro_batch_size_per_gpu": "auto",
                              "gradient_accumulation_steps": "auto", "bf16": {"enabled": "auto"},
                              "zero_optimization": {"stage": 2}}))
    args = build_args(SEED + ["--deepspeed", str(ds)])
    config = deepspeed_config(args, world=6)
    assert config["train_batch_size"] == 24 and config["train_micro_batch_size_per_gpu"] == 1
    assert config["gradient_accumulation_steps"] == 4 and config["bf16"]["enabled"] is True
    assert config["zero_optimization"] == {"stage": 2}
    with pytest.raises(TrainConfigError, match="cannot read"):
        deepspeed_config(build_args(SEED + ["--deepspeed", str(tmp_path / "none.json")]), world=1)
