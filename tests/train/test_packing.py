"""Packing is exact: the same loss and gradients as padded batches, on a real (tiny) Qwen2."""

from __future__ import annotations

import pytest

from foreplan.train import batches as B
from foreplan.train.args import build_args
from foreplan.train.mask import IGNORE_INDEX, Encoded
from foreplan.train.packing import collate_packed, pack, packing_is_exact, real_share
from foreplan.train.recipe import run_training


def _examples(n: int, seed: int = 0) -> list[Encoded]:
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        prompt = [rng.randrange(100, 5000) for _ in range(rng.randrange(5, 30))]
        answer = [rng.randrange(100, 5000) for _ in range(rng.randrange(2, 12))]
        out.append(Encoded(prompt + answer, [IGNORE_INDEX] * len(prompt) + answer, 0))
    return out


def test_pack_places_every_example_once_within_capacity_and_is_seeded():
    lengths = [37, 5, 60, 12, 64, 1, 33, 30, 2, 64, 20]
    rows = pack(lengths, 64, seed=3)
    assert sorted(i for row in rows for i in row) == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in row) <= 64 for row in rows)
    assert len(rows) == 6  # 328 tokens need at least ceil(328 / 64) = 6 rows
    assert pack(lengths, 64, seed=3) == rows and pack(lengths, 64, seed=4) != rows


def test_packed_layout_computes_fewer_padding_tokens():
    lengths = [len(e.input_ids) for e in _examples(40)]
    packed = B.layout(lengths, 2, 1.0, 0, packed_to=64)
    padded = B.layout(lengths, 2, 1.0, 0, packed_to=None)
    assert sorted(i for rows in packed for row in rows for i in row) == list(range(40))
    assert real_share(packed, lengths) > real_share(padded, lengths)
    assert len(packed) < len(padded)


def test_collate_resets_positions_and_never_trains_across_a_boundary():
    a = Encoded([1, 2, 3], [IGNORE_INDEX, 2, 3], 0)
    b = Encoded([4, 5], [4, 5], 0)  # train_on_prompt: its first token is labelled
    batch = collate_packed([[a, b], [b]], pad_id=0)
    assert batch["input_ids"].tolist() == [[1, 2, 3, 4, 5], [4, 5, 0, 0, 0]]
    assert batch["position_ids"].tolist() == [[0, 1, 2, 0, 1], [0, 1, 0, 1, 2]]
    # The 4 would be predicted from a's last token: no label there, and none on padding.
    assert batch["labels"].tolist() == [[IGNORE_INDEX, 2, 3, IGNORE_INDEX, 5], [IGNORE_INDEX, 5] + [IGNORE_INDEX] * 3]
    assert "attention_mask" not in batch


def _lora_model(tiny_model):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32)
    model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"],
                                            init_lora_weights=False))  # non-zero B: LoRA shapes the output
    return model


def _loss_and_grads(model, batch):
    loss, count = B.loss_on_labels(model, batch)
    model.zero_grad(set_to_none=True)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return float(loss.detach()), count, grads


def test_packed_loss_and_gradients_equal_the_padded_ones(tiny_model):
    model = _lora_model(tiny_model)
    examples = _examples(7)
    padded = _loss_and_grads(model, B.collate(examples, pad_id=0))
    rows = [[examples[i] for i in row] for row in pack([len(e.input_ids) for e in examples], 64, seed=1)]
    assert any(len(row) > 1 for row in rows)
    packed = _loss_and_grads(model, collate_packed(rows, pad_id=0))
    assert packed[1] == padded[1]
    assert packed[0] == pytest.approx(padded[0], rel=1e-5)
    for name, grad in padded[2].items():
        assert packed[2][name] == pytest.approx(grad, abs=1e-6), name
    # all of them in one row: the model's own logits_to_keep path, the same loss and gradients
    one_row = _loss_and_grads(model, collate_packed([examples], pad_id=0))
    assert one_row[1] == padded[1] and one_row[0] == pytest.approx(padded[0], rel=1e-5)
    for name, grad in padded[2].items():
        assert one_row[2][name] == pytest.approx(grad, abs=1e-6), name


def test_chunked_cross_entropy_equals_the_whole(tiny_model, monkeypatch):
    model = _lora_model(tiny_model)
    batch = B.collate(_examples(5), pad_id=0)
    whole = _loss_and_grads(model, batch)
    monkeypatch.setattr(B, "LOGIT_CHUNK", 4)
    assert whole[1] > 4 * 3  # several chunks
    chunked = _loss_and_grads(model, batch)
    assert chunked[0] == pytest.approx(whole[0], rel=1e-6)
    for name, grad in whole[2].items():
        assert chunked[2][name] == pytest.approx(grad, abs=1e-6), name


class _ForgetsPositions:
    """A model whose attention would mix packed examples: it drops the reset positions."""

    def __init__(self, model):
        self.model = model
        self.training = False

    def __call__(self, input_ids, position_ids=None, **kwargs):
        return self.model(input_ids=input_ids, **kwargs)

    def eval(self):
        self.model.eval()

    def train(self, mode=True):
        self.model.train(mode)


def test_the_exactness_check_tells_a_model_that_mixes_examples(tiny_model):
    model = _lora_model(tiny_model)
    examples = _examples(2)
    assert packing_is_exact(model, examples, "cpu")
    assert not packing_is_exact(_ForgetsPositions(model), examples, "cpu")


def test_packing_is_said_and_can_be_turned_off(tiny_model, alpaca_dir, tmp_path):
    base = ["--model_name_or_path", str(tiny_model), "--dataset", "sums", "--dataset_dir", str(alpaca_dir),
            "--template", "qwen", "--lora_target", "q_proj,v_proj", "--per_device_train_batch_size", "2",
            "--num_train_epochs", "1", "--cutoff_len", "96"]
    said: list[str] = []
    packed = run_training(build_args([*base, "--output_dir", str(tmp_path / "p")]), say=said.append, progress=False)
    assert any(line.startswith("packing: 12 examples in ") for line in said), said
    said.clear()
    padded = run_training(build_args([*base, "--output_dir", str(tmp_path / "u"), "--packing", "false"]),
                          say=said.append, progress=False)
    assert not any(line.startswith("packing") for line in said)
    assert padded.steps == 6 and packed.steps < padded.steps


def test_neat_packing_is_packing_and_cannot_be_turned_off_at_once():
    common = ["--model_name_or_path", "m", "--dataset", "d", "--output_dir", "o"]
    assert build_args([*common, "--neat_packing"]).neat_packing
    from foreplan.errors import TrainConfigError

    with pytest.raises(TrainConfigError, match="neat_packing"):
        build_args([*common, "--neat_packing", "--packing", "false"])


class _PreNormStates:
    """A model that lists its hidden states before the final norm (the loss would read the wrong ones)."""

    def __init__(self, model):
        self.model = model

    def __call__(self, **kwargs):
        out = self.model(**kwargs)
        out.hidden_states = (*out.hidden_states[:-1], out.hidden_states[-2])
        return out

    def get_output_embeddings(self):
        return self.model.get_output_embeddings()

    def parameters(self):
        return self.model.parameters()


def test_a_model_whose_last_state_is_not_what_its_head_reads_is_refused(tiny_model):
    from foreplan.errors import TrainError

    model = _lora_model(tiny_model)
    batch = B.collate(_examples(2), pad_id=0)
    B.loss_on_labels(model, batch)  # Qwen2: fine
    with pytest.raises(TrainError, match="last hidden state is not what its output layer reads"):
        B.loss_on_labels(_PreNormStates(model), batch)
