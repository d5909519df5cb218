"""The SFT recipe, top to bottom: config → setup → loop → save.

    flags ─► checks (model, targets, memory, data, output folder) ─► tokenizer + template
          ─► encode + mask ─► model + LoRA ─► loop (accumulate, clip, step, log, checkpoint)
          ─► adapter folder + train_log.jsonl + training_loss.png

Everything that can be wrong with the flags or the data fails before the model loads.
Runs as one process or under ``accelerate launch`` (each process takes its share of a
step's micro-batches; only the main process writes).
"""

from __future__ import annotations

import json
import shutil
from contextlib import nullcontext
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from foreplan.errors import TrainConfigError, TrainError
from foreplan.train import batches as B
from foreplan.train.args import TrainArgs, notices
from foreplan.train.checkpoint import resolve_resume, restore, save_checkpoint, save_weights
from foreplan.train.datasets import load_datasets
from foreplan.train.formats import flatten_tool_calls
from foreplan.train.mask import IGNORE_INDEX, Encoded, encode
from foreplan.train.setup import (choose_template, enable_checkpointing, load_model, load_tokenizer, make_trainable,
                                  trainable_summary)
from foreplan.train.source import check_memory, check_targets, resolve_source

Say = Callable[[str], None]


@dataclass
class TrainResult:
    output_dir: Path
    steps: int
    history: list[dict[str, Any]] = field(default_factory=list)
    skipped_rows: int = 0
    truncated: int = 0


def _output_dir(args: TrainArgs) -> Path:
    out = Path(args.output_dir)
    if out.exists() and any(out.iterdir()) and not args.overwrite_output_dir and not args.resume_from_checkpoint:
        raise TrainConfigError(f"Output folder {out} exists and is not empty: pass --overwrite_output_dir, "
                               "or --resume_from_checkpoint true to continue it, or choose another --output_dir.")
    return out


def _scheduler(args: TrainArgs, optimizer: Any, steps: int) -> Any:
    from transformers import get_scheduler

    warmup = args.warmup_steps or int(args.warmup_ratio * steps)
    return get_scheduler(args.lr_scheduler_type, optimizer, num_warmup_steps=warmup, num_training_steps=steps)


def encode_all(conversations: list[Any], template: Any, tokenizer: Any, args: TrainArgs) -> list[Encoded]:
    """Token ids and loss labels of every conversation, as the template renders it (tool
    calls flattened to text for a template that has no tool syntax)."""
    tool_aware = "tool_calls" in (template.source or "")
    return [encode(c if tool_aware else flatten_tool_calls(c), template,
                   lambda t: tokenizer.encode(t, add_special_tokens=False), args.train_on_prompt, args.cutoff_len)
            for c in conversations]


def _packing(args: TrainArgs, model: Any, train_set: list[Encoded], talk: Say) -> int | None:
    """The row length to pack to, or None for padded batches.

    Packing is on unless ``--packing false``, and only where the loaded model proves it
    exact; asked for explicitly on a model that fails the check, it is an error.
    """
    from foreplan.train.packing import packing_is_exact, real_share

    if args.packing is False:
        return None
    device = next(model.parameters()).device
    if not packing_is_exact(model, train_set, device):
        if args.packing or args.neat_packing:
            raise TrainError("--packing: this model's attention does not restart at each example's first "
                             "position, so packed examples would see each other; pass --packing false.")
        talk("note: packing is off: this model's attention does not keep packed examples apart, so every "
             "micro-batch is padded to its longest example instead.")
        return None
    lengths = [len(e.input_ids) for e in train_set]
    size = args.per_device_train_batch_size
    packed = B.layout(lengths, size, 1.0, args.seed, args.cutoff_len)
    padded = B.layout(lengths, size, 1.0, args.seed, None)
    rows = sum(len(b) for b in packed)
    talk(f"packing: {len(train_set)} examples in {rows} row{'s' if rows != 1 else ''} of up to {args.cutoff_len} "
         f"tokens, {100 * real_share(packed, lengths):.0f}% of computed tokens real (padded batches of {size}: "
         f"{100 * real_share(padded, lengths):.0f}%); a micro-batch is {size} row{'s' if size > 1 else ''}; "
         "--packing false pads examples instead")
    return args.cutoff_len


def run_training(args: TrainArgs, say: Say = print, progress: bool = True) -> TrainResult:
    import torch

    from foreplan.train.distributed import make_accelerator

    # ── config: everything checkable without loading weights ─────────────────────────────
    cuda = torch.cuda.is_available()
    accelerator = make_accelerator(args, cuda)
    main = accelerator.is_main_process
    talk: Say = say if main else (lambda _m: None)
    for notice in notices(args, cuda):
        talk(f"note: {notice}")
    out = _output_dir(args)
    resume_from = resolve_resume(args.resume_from_checkpoint, out)
    source = resolve_source(args.model_name_or_path)
    check_targets(source, args.targets)
    data = load_datasets(args.datasets, Path(args.dataset_dir), args.strict, args.max_samples)
    for line in data.skipped[:20]:
        talk(f"skipped {line}")
    if len(data.skipped) > 20:
        talk(f"... and {len(data.skipped) - 20} more bad rows skipped")

    # ── setup: tokenizer, template, examples, model ──────────────────────────────────────
    tokenizer = load_tokenizer(source)
    template = choose_template(args.template, tokenizer)
    examples = encode_all(data.conversations, template, tokenizer, args)
    truncated = [e for e in examples if e.truncated]
    if truncated:
        talk(f"{len(truncated)} of {len(examples)} examples were longer than --cutoff_len {args.cutoff_len} and were "
             f"truncated ({sum(e.truncated for e in truncated)} tokens cut); raise --cutoff_len to keep them whole.")
    kept = [e for e in examples if any(label != IGNORE_INDEX for label in e.labels)]
    if len(kept) < len(examples):
        talk(f"{len(examples) - len(kept)} examples lost every response token to truncation and are left out.")
    examples = kept
    if not examples:
        raise TrainError("No example keeps a response token after truncation: raise --cutoff_len.")
    train_ids, val_ids = B.split_validation(len(examples), args.val_size, args.seed)
    train_set = [examples[i] for i in train_ids]
    val_set = [examples[i] for i in val_ids]
    lengths = [len(e.input_ids) for e in train_set]
    longest = args.cutoff_len if args.packing is not False else max(lengths)
    need = check_memory(source, args.finetuning_type, args.per_device_train_batch_size, longest, cuda,
                        bool(args.gradient_checkpointing))
    talk(f"{source.name}: {source.parameters / 1e6:.0f}M parameters ({source.architecture}); {len(train_set)} "
         f"training examples, {len(val_set)} validation; estimated peak memory {need / 2**30:.1f} GiB")

    torch.manual_seed(args.seed)
    model = make_trainable(load_model(source, cuda, args.finetuning_type == "qlora"), args)
    if args.gradient_checkpointing:
        enable_checkpointing(model)
    trainable, total = trainable_summary(model)
    nf4 = " on 4-bit NF4 base weights" if getattr(model, "is_loaded_in_4bit", False) else ""
    talk(f"trainable parameters: {trainable:,} of {total:,} ({100 * trainable / total:.3f}%){nf4}")
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                  lr=args.learning_rate, weight_decay=args.weight_decay)
    world, rank = accelerator.num_processes, accelerator.process_index
    packed_to = _packing(args, model, train_set, talk)
    order = B.layout(lengths, args.per_device_train_batch_size, args.num_train_epochs, args.seed, packed_to)
    steps = B.steps_for(len(order), args.gradient_accumulation_steps, world, args.max_steps)
    scheduler = _scheduler(args, optimizer, steps)
    start, history = 0, []
    if resume_from is not None:
        resumed = restore(resume_from, model, optimizer, scheduler)
        start, history = resumed.step, resumed.history
        talk(f"resumed from {resume_from} at step {start}")
    model, optimizer = accelerator.prepare(model, optimizer)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    if main:
        if out.exists() and args.overwrite_output_dir and resume_from is None:
            shutil.rmtree(out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "foreplan_train.json").write_text(json.dumps(
            {"args": args.model_dump(), "source": source.name, "architecture": source.architecture,
             "examples": len(train_set), "validation": len(val_set), "steps": steps}, indent=2))

    # ── loop ──────────────────────────────────────────────────────────────────────────────
    from foreplan.train.progress import TrainProgress

    log_path = out / "train_log.jsonl"
    if main and resume_from is not None:  # drop lines written after that checkpoint, before the crash
        log_path.write_text("".join(json.dumps(r) + "\n" for r in history))
    window_loss, window_tokens, window_start = 0.0, 0, time.perf_counter()
    model.train()
    with TrainProgress(steps, start, enabled=progress and main) as bar:
        for step in range(start, steps):
            step_loss = 0.0
            for a in range(args.gradient_accumulation_steps):
                rows = [[train_set[i] for i in row]
                        for row in B.batch_for(order, step, a, args.gradient_accumulation_steps, rank, world)]
                batch = B.to_device(B.collate_rows(rows, pad_id, packed_to is not None), accelerator.device)
                sync = a == args.gradient_accumulation_steps - 1
                with accelerator.no_sync(model) if not sync else nullcontext():
                    loss, count = B.loss_on_labels(model, batch)
                    accelerator.backward(loss / args.gradient_accumulation_steps)
                step_loss += float(loss.detach()) / args.gradient_accumulation_steps
                window_tokens += sum(len(e.input_ids) for row in rows for e in row)
            accelerator.clip_grad_norm_(model.parameters(), args.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            done = step + 1
            window_loss += step_loss
            bar.advance(step_loss, scheduler.get_last_lr()[0])
            if done % args.logging_steps == 0 or done == steps:
                seconds = time.perf_counter() - window_start
                n = done % args.logging_steps or args.logging_steps
                record = {"step": done, "loss": round(window_loss / n, 6), "lr": scheduler.get_last_lr()[0],
                          "epoch": round(done * args.gradient_accumulation_steps * world / max(len(order), 1)
                                         * args.num_train_epochs, 4),
                          "tokens_per_s": round(window_tokens * world / seconds, 1), "seconds": round(seconds, 3)}
                if val_set and (done == steps or done % (args.eval_steps or args.save_steps) == 0):
                    record["eval_loss"] = round(B.evaluate(model, val_set, args.per_device_eval_batch_size,
                                                           pad_id, accelerator.device, packed_to), 6)
                history.append(record)
                bar.log(record)
                if main:
                    with log_path.open("a") as log:
                        log.write(json.dumps(record) + "\n")
                window_loss, window_tokens, window_start = 0.0, 0, time.perf_counter()
            if main and done % args.save_steps == 0 and done < steps:
                save_checkpoint(out, done, accelerator.unwrap_model(model), optimizer, scheduler, history)
            accelerator.wait_for_everyone()

    # ── save ──────────────────────────────────────────────────────────────────────────────
    if main:
        unwrapped = accelerator.unwrap_model(model)
        save_checkpoint(out, steps, unwrapped, optimizer, scheduler, history)
        save_weights(unwrapped, out)
        if args.plot_loss:
            from foreplan.train.plot import plot_history

            for path in plot_history(history, out):
                talk(f"wrote {path}")
        talk(f"saved the {'adapter' if hasattr(unwrapped, 'peft_config') else 'model'} to {out}")
    accelerator.wait_for_everyone()
    return TrainResult(out, steps, history, len(data.skipped), len(truncated))

