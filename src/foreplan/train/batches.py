"""Which examples go into which step, how they are padded, and the loss on them.

The order of micro-batches is a pure function of the seed, so a resumed run needs only
the step number to continue where it stopped. The loss computes logits only where a
label is (``logits_to_keep``): on Qwen's 151k vocabulary that halves a CPU step.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from foreplan.train.mask import IGNORE_INDEX, Encoded


def micro_batches(n_examples: int, batch_size: int, epochs: float, seed: int) -> list[list[int]]:
    """Example indices per micro-batch: a fresh seeded shuffle per epoch, ``epochs`` may be
    fractional (4.0, 0.5)."""
    per_epoch = math.ceil(n_examples / batch_size)
    wanted = max(1, math.ceil(per_epoch * epochs))
    batches: list[list[int]] = []
    epoch = 0
    while len(batches) < wanted:
        order = list(range(n_examples))
        random.Random(seed + epoch).shuffle(order)
        batches += [order[i:i + batch_size] for i in range(0, n_examples, batch_size)]
        epoch += 1
    return batches[:wanted]


def steps_for(n_batches: int, accumulation: int, world: int, max_steps: int) -> int:
    """Optimizer steps: all full groups of micro-batches, or ``max_steps`` when set (the
    batch order then wraps around)."""
    if max_steps > 0:
        return max_steps
    return max(1, n_batches // (accumulation * world))


def batch_for(batches: Sequence[list[int]], step: int, accumulation_index: int, accumulation: int,
              rank: int, world: int) -> list[int]:
    """The micro-batch a process takes at one step: processes share a step's group."""
    index = (step * world + rank) * accumulation + accumulation_index
    return batches[index % len(batches)]


def collate(examples: Sequence[Encoded], pad_id: int) -> dict[str, Any]:
    """Right-pad to the longest example; padding is masked out of attention and loss."""
    import torch

    length = max(len(e.input_ids) for e in examples)
    ids, labels, attention = [], [], []
    for e in examples:
        pad = length - len(e.input_ids)
        ids.append(e.input_ids + [pad_id] * pad)
        labels.append(e.labels + [IGNORE_INDEX] * pad)
        attention.append([1] * len(e.input_ids) + [0] * pad)
    return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels),
            "attention_mask": torch.tensor(attention)}


def loss_on_labels(model: Any, batch: dict[str, Any]) -> tuple[Any, int]:
    """Mean cross-entropy over labelled tokens, computing logits only where they are needed;
    also returns how many tokens carried a label."""
    import torch.nn.functional as F

    labels = batch["labels"]
    wanted = (labels[:, 1:] != IGNORE_INDEX).any(dim=0).nonzero().flatten()
    count = int((labels[:, 1:] != IGNORE_INDEX).sum())
    if count == 0:
        zero = sum(p.sum() for p in model.parameters() if p.requires_grad) * 0.0
        return zero, 0
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                logits_to_keep=wanted, use_cache=False)
    logits = out.logits.float()
    targets = labels[:, wanted + 1]
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                           ignore_index=IGNORE_INDEX, reduction="sum")
    return loss / count, count


def split_validation(n: int, val_size: float, seed: int) -> tuple[list[int], list[int]]:
    """Train and validation indices; ``val_size`` < 1 is a fraction, otherwise a count."""
    if val_size <= 0:
        return list(range(n)), []
    k = int(val_size) if val_size >= 1 else max(1, round(n * val_size))
    k = min(k, n - 1)
    order = list(range(n))
    random.Random(seed).shuffle(order)
    return sorted(order[k:]), sorted(order[:k])


def to_device(batch: dict[str, Any], device: Any) -> dict[str, Any]:
    return {k: v.to(device) for k, v in batch.items()}


def evaluate(model: Any, examples: Sequence[Encoded], batch_size: int, pad_id: int, device: Any) -> float:
    """Token-weighted mean loss on held-out examples."""
    import torch

    total, tokens = 0.0, 0
    model.eval()
    with torch.no_grad():
        for i in range(0, len(examples), batch_size):
            loss, count = loss_on_labels(model, to_device(collate(examples[i:i + batch_size], pad_id), device))
            total += float(loss) * count
            tokens += count
    model.train()
    return total / max(tokens, 1)
