"""``foreplan train``: LLaMA-Factory's SFT flags, verbatim, on foreplan's recipe.

    foreplan train --stage sft --model_name_or_path qwen2.5-coder-0.5b --do_train \\
        --dataset rewoo_plans --dataset_dir data/plans --template qwen --finetuning_type lora \\
        --lora_target q_proj,v_proj --output_dir out/planner --max_steps 200 --plot_loss

or ``foreplan train config.yaml [--flag value ...]``. Under several processes (DDP; gloo
on a CPU-only machine, where accelerate's ``--multi_gpu`` launcher falls back to
MULTI_CPU): ``accelerate launch --multi_gpu --num_processes 2 -m foreplan.cli.train ...``.
"""

from __future__ import annotations

import sys

import typer

from foreplan.cli.common import err, errors

HELP = """Fine-tune a model (SFT, loss on the response only) with LLaMA-Factory's flags.

Model and data: --model_name_or_path (embedded name, .gguf file or HF folder), --dataset, --dataset_dir (with dataset_info.json), --template (default, alpaca, qwen, chatml, gemma, llama2), --cutoff_len, --max_samples, --val_size, --strict, --train_on_prompt.

Method: --finetuning_type (lora, qlora, full, freeze), --lora_target, --lora_rank, --lora_alpha, --lora_dropout, --quantization_bit, --freeze_trainable_layers.

Loop: --per_device_train_batch_size, --gradient_accumulation_steps, --learning_rate, --lr_scheduler_type, --warmup_steps, --num_train_epochs, --max_steps, --seed, --logging_steps, --save_steps, --eval_steps, --deepspeed.

Output: --output_dir, --overwrite_output_dir, --resume_from_checkpoint (folder or true), --plot_loss. A YAML file with the same keys may come first; flags override it.
"""


def train_command(ctx: typer.Context) -> None:
    from foreplan.train.args import build_args

    debug = "--debug" in ctx.args
    argv = [a for a in ctx.args if a != "--debug"]
    with errors(False, debug):
        args = build_args(argv)
        try:
            from foreplan.train.recipe import run_training
        except ImportError as exc:
            from foreplan.errors import MissingExtraError

            raise MissingExtraError(exc.name or "torch", "train") from exc
        result = run_training(args, say=lambda m: err.print(m, highlight=False, markup=False))
        last = result.history[-1] if result.history else {}
        err.print(f"[green]done[/]: {result.steps} steps, last loss {last.get('loss', '-')}; "
                  f"adapter in {result.output_dir}")


def main() -> None:
    """Entry for ``accelerate launch -m foreplan.cli.train``."""
    app = typer.Typer(add_completion=False)
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, help=HELP)(train_command)
    app(sys.argv[1:], prog_name="foreplan train")


if __name__ == "__main__":
    main()
