"""Packing: several examples share one row, and none of them sees another.

Padding a micro-batch to its longest example computes tokens that teach nothing; on a
CPU that is pure lost time. Packed, a row holds whole examples back to back up to
``cutoff_len`` tokens. Each example's position ids start again at 0, which is how
transformers (5.x) recognises a packed row: its causal mask becomes block-diagonal, so
attention never crosses from one example into the next (LLaMA-Factory's
``neat_packing``, TRL's padding-free collator). The first token of each example carries
no label, so the last token of one example is never trained to predict the next.

``packing_is_exact`` checks that promise on the loaded model before the first step:
a model whose attention ignores the reset positions falls back to padded batches.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from foreplan.train.mask import IGNORE_INDEX, Encoded

Row = list[int]
"""Indices of the examples that share one row, in order."""


def pack(lengths: Sequence[int], capacity: int, seed: int) -> list[Row]:
    """Best-fit decreasing: longest first, each into the fullest row it still fits.

    Ties are broken by a seeded shuffle and the rows come out shuffled, so the order is
    a pure function of the seed, as the unpacked order is. An example longer than
    ``capacity`` gets a row of its own (truncation happened before, at ``cutoff_len``).
    """
    order = list(range(len(lengths)))
    random.Random(seed).shuffle(order)
    order.sort(key=lambda i: -lengths[i])  # stable: equal lengths keep the shuffled order
    rows: list[Row] = []
    free: list[int] = []
    for i in order:
        fits = [r for r, room in enumerate(free) if room >= lengths[i]]
        if fits:
            r = min(fits, key=lambda r: free[r])
            rows[r].append(i)
            free[r] -= lengths[i]
        else:
            rows.append([i])
            free.append(capacity - lengths[i])
    random.Random(seed + 1).shuffle(rows)
    return rows


def real_share(batches: Sequence[Sequence[Row]], lengths: Sequence[int]) -> float:
    """Share of the computed token slots that hold a real token, when each micro-batch is
    padded to its longest row."""
    real = computed = 0
    for rows in batches:
        sizes = [sum(lengths[i] for i in row) for row in rows]
        real += sum(sizes)
        computed += max(sizes) * len(sizes)
    return real / max(1, computed)


def collate_packed(rows: Sequence[Sequence[Encoded]], pad_id: int) -> dict[str, Any]:
    """Rows of examples → ``input_ids``, ``labels``, ``position_ids`` (reset per example).

    There is no ``attention_mask``: transformers derives the block-diagonal mask from the
    positions. A short row is filled with pad tokens that form a block of their own and
    carry no label.
    """
    import torch

    flat_ids, flat_labels, flat_pos = [], [], []
    for row in rows:
        ids: list[int] = []
        labels: list[int] = []
        pos: list[int] = []
        for e in row:
            ids += e.input_ids
            labels += [IGNORE_INDEX] + e.labels[1:]
            pos += range(len(e.input_ids))
        flat_ids.append(ids)
        flat_labels.append(labels)
        flat_pos.append(pos)
    length = max(len(ids) for ids in flat_ids)
    for ids, labels, pos in zip(flat_ids, flat_labels, flat_pos):
        pad = length - len(ids)
        ids += [pad_id] * pad
        labels += [IGNORE_INDEX] * pad
        pos += range(pad)
    return {"input_ids": torch.tensor(flat_ids), "labels": torch.tensor(flat_labels),
            "position_ids": torch.tensor(flat_pos)}


def packing_is_exact(model: Any, examples: Sequence[Encoded], device: Any, tokens: int = 32) -> bool:
    """Do two examples packed in one row get the logits they get alone?

    Runs the first ``tokens`` tokens of two examples both ways, without gradients, and
    compares the second example's logits. On Qwen2.5-0.5B in bf16 they are identical;
    attention that crosses the boundary moves them by 1.6 on average (55% of their mean
    size), so 1% is a wide margin for rounding.
    """
    import torch

    if len(examples) < 2:
        return True
    first, second = (Encoded(e.input_ids[:tokens], e.labels[:tokens], 0) for e in examples[:2])
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            batch = collate_packed([[first, second]], pad_id=0)
            packed = model(input_ids=batch["input_ids"].to(device), position_ids=batch["position_ids"].to(device),
                           use_cache=False).logits[0, len(first.input_ids):].float()
            alone = model(input_ids=torch.tensor([second.input_ids], device=device),
                          use_cache=False).logits[0].float()
    finally:
        model.train(was_training)
    return float((packed - alone).abs().mean()) <= 0.01 * float(alone.abs().mean())
