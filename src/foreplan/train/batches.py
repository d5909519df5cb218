"""Which examples go into which step, how they are laid out, and the loss on them.

A micro-batch is a list of rows, and a row a list of example indices: one example per
row when padded, several when packed (``packing.py``). The order of micro-batches is a
pure function of the seed, so a resumed run needs only the step number to continue where
it stopped. The loss computes logits only at labelled positions, gathered across the
batch, and in chunks when there are many: on Qwen's 151k vocabulary the output layer
is a quarter of the 0.5B's weights, and its logits the largest tensor of a step.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from foreplan.errors import TrainError
from foreplan.train.mask import IGNORE_INDEX, Encoded
from foreplan.train.packing import Row, collate_packed, pack

#: Labelled positions whose logits are computed at once; more are done in chunks that are
#: recomputed in backward, so a step never holds more than this many rows of logits
#: (2,048 × 151,936 fp32 = 1.2 GiB).
LOGIT_CHUNK = 2048
#: Micro-batches whose packed rows are grouped by length (transformers uses 50 too).
GROUP_WINDOW = 50


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


def packed_micro_batches(lengths: Sequence[int], capacity: int, rows_per_batch: int, epochs: float,
                         seed: int) -> list[list[Row]]:
    """Rows of packed examples per micro-batch: each epoch packs afresh (seed + epoch).

    A micro-batch is padded to its longest row, so rows of like length go together: each
    window of ``GROUP_WINDOW`` micro-batches' rows is sorted by length before it is cut
    (transformers' ``group_by_length`` does the same with examples), and the micro-batches
    are shuffled again after.
    """
    first = pack(lengths, capacity, seed)
    wanted = max(1, math.ceil(math.ceil(len(first) / rows_per_batch) * epochs))
    batches: list[list[Row]] = []
    epoch = 0
    while len(batches) < wanted:
        rows = first if epoch == 0 else pack(lengths, capacity, seed + epoch)
        window = GROUP_WINDOW * rows_per_batch
        grouped = [row for w in range(0, len(rows), window)
                   for row in sorted(rows[w:w + window], key=lambda row: sum(lengths[i] for i in row))]
        cut = [grouped[i:i + rows_per_batch] for i in range(0, len(grouped), rows_per_batch)]
        random.Random(seed + epoch).shuffle(cut)
        batches += cut
        epoch += 1
    return batches[:wanted]


def layout(lengths: Sequence[int], batch_size: int, epochs: float, seed: int,
           packed_to: int | None) -> list[list[Row]]:
    """The run's micro-batches: packed into rows of ``packed_to`` tokens, or one example a row."""
    if packed_to:
        return packed_micro_batches(lengths, packed_to, batch_size, epochs, seed)
    return [[[i] for i in batch] for batch in micro_batches(len(lengths), batch_size, epochs, seed)]


def steps_for(n_batches: int, accumulation: int, world: int, max_steps: int) -> int:
    """Optimizer steps: all full groups of micro-batches, or ``max_steps`` when set (the
    batch order then wraps around)."""
    if max_steps > 0:
        return max_steps
    return max(1, n_batches // (accumulation * world))


def batch_for(batches: Sequence[list[Row]], step: int, accumulation_index: int, accumulation: int,
              rank: int, world: int) -> list[Row]:
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


def collate_rows(rows: Sequence[Sequence[Encoded]], pad_id: int, packed: bool) -> dict[str, Any]:
    """A micro-batch's tensors: packed rows, or one padded example per row."""
    if packed:
        return collate_packed(rows, pad_id)
    return collate([e for row in rows for e in row], pad_id)


def loss_on_labels(model: Any, batch: dict[str, Any]) -> tuple[Any, int]:
    """Mean cross-entropy over labelled tokens, and how many tokens carried a label.

    A micro-batch of one row asks the model for logits at exactly its labelled positions
    (``logits_to_keep``). With several rows, whose labels sit at different positions, the
    model runs once for its last hidden states (``logits_to_keep=1``: one logit row per
    sequence), and the output layer then runs only at the labelled positions, gathered
    across rows, in chunks of ``LOGIT_CHUNK``.
    """
    import torch.nn.functional as F

    labels = batch["labels"]
    labelled = labels[:, 1:] != IGNORE_INDEX
    count = int(labelled.sum())
    if count == 0:
        zero = sum(p.sum() for p in model.parameters() if p.requires_grad) * 0.0
        return zero, 0
    inputs = {k: batch[k] for k in ("input_ids", "attention_mask", "position_ids") if k in batch}
    if labels.shape[0] == 1:  # one row: the model's own logits_to_keep picks exactly the labelled positions
        wanted = labelled[0].nonzero().flatten()
        logits = model(**inputs, logits_to_keep=wanted, use_cache=False).logits[0].float()
        return F.cross_entropy(logits, labels[0, wanted + 1], reduction="sum") / count, count
    out = model(**inputs, output_hidden_states=True, logits_to_keep=1, use_cache=False)
    last = out.hidden_states[-1]
    head = getattr(model, "module", model).get_output_embeddings()  # under DDP, the wrapped model's
    _check_last_hidden(head, last, out.logits)
    return cross_entropy_sum(head, last[:, :-1][labelled], labels[:, 1:][labelled]) / count, count


def _check_last_hidden(head: Any, last: Any, logits: Any) -> None:
    """The loss reads the last entry of ``hidden_states`` as what the output layer sees;
    the one logit row per sequence the model computed says whether that holds for this
    architecture (a model that lists its states before the final norm would train on the
    wrong thing without a word).

    Raises:
        TrainError: it does not hold.
    """
    import torch

    with torch.no_grad():
        mine = head(last[:, -1:]).float()
    if not torch.allclose(mine, logits[:, -1:].float(), rtol=1e-2, atol=1e-2):
        raise TrainError("This model's last hidden state is not what its output layer reads, so foreplan cannot "
                         "compute the loss at labelled positions only; please report the model's architecture.")


def _chunk_loss(head: Any, hidden: Any, targets: Any) -> Any:
    import torch.nn.functional as F

    return F.cross_entropy(head(hidden).float(), targets, reduction="sum")


def cross_entropy_sum(head: Any, hidden: Any, targets: Any) -> Any:
    """Summed cross-entropy of ``head(hidden)``; beyond ``LOGIT_CHUNK`` positions, chunk by
    chunk with each chunk's logits recomputed in backward instead of kept."""
    if len(targets) <= LOGIT_CHUNK:
        return _chunk_loss(head, hidden, targets)
    from torch.utils.checkpoint import checkpoint

    return sum(checkpoint(_chunk_loss, head, h, t, use_reentrant=False)
               for h, t in zip(hidden.split(LOGIT_CHUNK), targets.split(LOGIT_CHUNK)))


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


def evaluate(model: Any, examples: Sequence[Encoded], batch_size: int, pad_id: int, device: Any,
             packed_to: int | None = None) -> float:
    """Token-weighted mean loss on held-out examples (packed as training is: it is exact)."""
    import torch

    total, tokens = 0.0, 0
    batches = layout([len(e.input_ids) for e in examples], batch_size, 1.0, 0, packed_to)
    model.eval()
    with torch.no_grad():
        for rows in batches:
            batch = collate_rows([[examples[i] for i in row] for row in rows], pad_id, packed_to is not None)
            loss, count = loss_on_labels(model, to_device(batch, device))
            total += float(loss) * count
            tokens += count
    model.train()
    return total / max(tokens, 1)
