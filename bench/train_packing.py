"""Training tokens/s on the real planner data: packed rows vs padded batches vs plain peft.

    python bench/train_packing.py [--model qwen2.5-coder-0.5b] [--batch 4] [--examples 24]
    python bench/train_packing.py --shape 1.5b --tokenizer DIR --batch 16   # a GPU, random weights

Every loop trains the same LoRA model (the shipped planner's recipe: r=8 on every linear
layer, AdamW, one step per micro-batch) on the same examples from ``data/plans`` (the
planner adapter's training set, encoded by the recipe's own ``encode_all``):

- *transformers + peft*: padded batches, ``labels=`` to the model (logits everywhere);
- *foreplan, padded*: the recipe before packing: padded batches, logits at every column
  that holds a label in some row (``logits_to_keep``);
- *foreplan, packed*: the recipe now: packed rows, logits only at labelled positions.

Tokens/s counts real tokens (not padding). The share of peak divides 4·N·T per second
(LoRA: forward and the activations' backward, no weight gradients; 6·N·T with
``--gradient_checkpointing``, which runs the forward twice; N the weights of every
linear layer, the output layer's included) by a bf16 matmul's FLOP/s measured in this process. On a CUDA machine
the loops run on the GPU; ``--shape`` builds a Qwen2.5 of that size with random weights
(speed depends on the shape, not the values), so only the tokenizer has to travel. Prints the ratio packed / padded (target ≥ 1.5) and
packed / plain (≥ 1.0).
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from _results import record  # bench/_results.py: collected by bench/run_all.py

ROOT = Path(__file__).resolve().parents[1]


def matmul_peak(device: str) -> float:
    """bf16 FLOP/s of one matmul, best of 20: 1024 × 896 × 4864 (the 0.5B's MLP shape) on
    the CPU, 8192³ on a GPU."""
    import torch

    m, k, n = (8192, 8192, 8192) if device == "cuda" else (1024, 896, 4864)
    a = torch.randn(m, k, dtype=torch.bfloat16, device=device)
    b = torch.randn(k, n, dtype=torch.bfloat16, device=device)
    best = float("inf")
    for _ in range(20):
        t = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * m * k * n / best


def sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def old_loss(model, batch):
    """The recipe's loss before packing: logits at the union of labelled columns."""
    import torch.nn.functional as F

    from foreplan.train.mask import IGNORE_INDEX

    labels = batch["labels"]
    wanted = (labels[:, 1:] != IGNORE_INDEX).any(dim=0).nonzero().flatten()
    count = int((labels[:, 1:] != IGNORE_INDEX).sum())
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], logits_to_keep=wanted,
                   use_cache=False).logits.float()
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels[:, wanted + 1].reshape(-1),
                           ignore_index=IGNORE_INDEX, reduction="sum")
    return loss / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--config", default=str(ROOT / "configs" / "planner-0.5b.yaml"))
    parser.add_argument("--batch", type=int, default=4, help="Examples (padded) or rows (packed) per micro-batch.")
    parser.add_argument("--examples", type=int, default=24)
    parser.add_argument("--shape", help="Random weights of a Qwen2.5 shape (0.5b, 1.5b, 3b, 7b) instead of --model.")
    parser.add_argument("--tokenizer", help="Tokenizer folder for --shape.")
    parser.add_argument("--gradient-checkpointing", action="store_true", help="Recompute activations in backward.")
    opts = parser.parse_args()

    import torch

    from foreplan.train import batches as B
    from foreplan.train.args import build_args
    from foreplan.train.datasets import load_datasets
    from foreplan.train.recipe import encode_all
    from foreplan.train.setup import choose_template, enable_checkpointing, load_model, load_tokenizer, make_trainable
    from foreplan.train.source import resolve_source

    device = "cuda" if torch.cuda.is_available() else "cpu"
    model_name = opts.model
    if opts.shape:
        import tempfile

        from qlora_memory import random_model

        if not opts.tokenizer:
            parser.error("--shape needs --tokenizer")
        folder = Path(tempfile.mkdtemp(prefix="foreplan-bench-")) / f"qwen2.5-{opts.shape}-random"
        model_name = str(random_model(opts.shape, opts.tokenizer, folder, device))
    args = build_args([opts.config, "--model_name_or_path", model_name, "--dataset_dir", str(ROOT / "data" / "plans"),
                       "--gradient_checkpointing", str(opts.gradient_checkpointing).lower()])
    source = resolve_source(args.model_name_or_path)
    tokenizer = load_tokenizer(source)
    data = load_datasets(args.datasets, Path(args.dataset_dir), False, None)
    conversations = random.Random(0).sample(data.conversations, opts.examples)
    examples = encode_all(conversations, choose_template(args.template, tokenizer), tokenizer, args)
    lengths = [len(e.input_ids) for e in examples]
    real = sum(lengths)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    torch.manual_seed(0)
    model = make_trainable(load_model(source, cuda=device == "cuda", quantize_4bit=False), args).to(device)
    if args.gradient_checkpointing:
        enable_checkpointing(model)
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    # N counts the weights a token is multiplied with: every linear layer's, the output layer's
    # too (tied to the input embedding or not), but not the embedding lookup.
    n_params = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))

    def padded() -> list[dict]:
        return [B.collate([examples[i] for row in rows for i in row], pad_id)
                for rows in B.layout(lengths, opts.batch, 1.0, 0, None)]

    def packed() -> list[dict]:
        return [B.collate_packed([[examples[i] for i in row] for row in rows], pad_id)
                for rows in B.layout(lengths, opts.batch, 1.0, 0, args.cutoff_len)]

    loops = {
        "transformers + peft (padded, labels=)": (padded, lambda batch: model(**batch, use_cache=False).loss),
        "foreplan before (padded, logits at labelled columns)": (padded, lambda batch: old_loss(model, batch)),
        "foreplan now (packed, logits at labelled positions)": (packed, lambda batch: B.loss_on_labels(model, batch)[0]),
    }
    results = {}
    for name, (layout, loss_of) in loops.items():
        batches = [B.to_device(b, device) for b in layout()]
        computed = sum(int(b["input_ids"].numel()) for b in batches)
        for batch in batches[:1]:  # warm-up
            loss_of(batch).backward()
            optimizer.zero_grad(set_to_none=True)
        sync(device)
        t = time.perf_counter()
        for batch in batches:
            loss_of(batch).backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        sync(device)
        seconds = time.perf_counter() - t
        results[name] = (seconds, len(batches), computed)
        print(f"  {name}: {seconds:.1f} s", flush=True)

    peak = matmul_peak(device)
    where = torch.cuda.get_device_name() if device == "cuda" else f"CPU, torch threads {torch.get_num_threads()}"
    print(f"\n{opts.shape + ' (random weights)' if opts.shape else opts.model} ({n_params / 1e6:.0f}M weights in linear layers), LoRA r={args.lora_rank} on {args.lora_target}, "
          f"{opts.examples} planner examples ({real:,} tokens, {min(lengths)}–{max(lengths)} each), micro-batches of "
          f"{opts.batch}, rows of {args.cutoff_len}; {where}; bf16 matmul "
          f"{peak / 1e9:.0f} GFLOP/s\n")
    flops = 6 if args.gradient_checkpointing else 4  # per weight and token: forward, backward (and the recompute)
    print(f"| loop | micro-batches | tokens computed (real share) | s | real tokens/s | share of peak ({flops}·N·T) |")
    print("|---|---|---|---|---|---|")
    for name, (seconds, n, computed) in results.items():
        rate = real / seconds
        print(f"| {name} | {n} | {computed:,} ({100 * real / computed:.0f}%) | {seconds:.1f} | {rate:.0f} | "
              f"{100 * flops * n_params * rate / peak:.1f}% |")
    rates = {name: real / seconds for name, (seconds, _, _) in results.items()}
    plain, before, now = rates.values()
    vs_before, vs_plain = now / before, now / plain
    print(f"\npacked / padded recipe tokens/s: {vs_before:.2f} (target >= 1.5); packed / plain: {vs_plain:.2f} "
          "(target >= 1.0)")
    detail = f"{opts.shape or opts.model} on {where}, {opts.examples} planner examples, micro-batches of {opts.batch}"
    record("train_packing", "tokens/s, packed ÷ padded recipe", vs_before, "≥ 1.5", vs_before >= 1.5, detail)
    record("train_packing", "tokens/s, packed ÷ transformers + peft", vs_plain, "≥ 1.0", vs_plain >= 1.0, detail)


if __name__ == "__main__":
    main()
