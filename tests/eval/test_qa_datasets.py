"""The loaders read the real shared files as they are."""

from __future__ import annotations

import pytest

from foreplan.errors import ConfigError
from foreplan.eval.datasets import load_examples


@pytest.mark.parametrize(("dataset", "count"), [("gsm8k", 1319), ("hotpotqa", 100), ("sotu", 74)])
def test_counts(data_dir, dataset, count):
    examples = load_examples(dataset, data_dir)
    assert len(examples) == count
    assert len({e.id for e in examples}) == count
    assert all(e.question and e.answer for e in examples)


def test_gsm8k_first_example(data_dir):
    first = load_examples("gsm8k", data_dir, limit=1)[0]
    assert first.id == "gsm8k-0"
    assert first.question.startswith("Janet\u2019s ducks lay 16 eggs")
    assert (first.answer, first.kind) == ("18", "gsm8k")


def test_hotpotqa_first_example(data_dir):
    first = load_examples("hotpotqa", data_dir, limit=1)[0]
    assert first.question == "Were Scott Derrickson and Ed Wood of the same nationality?"
    assert (first.answer, first.kind) == ("yes", "hotpotqa/comparison")


def test_sotu_first_example(data_dir):
    first = load_examples("sotu", data_dir, limit=1)[0]
    assert first.question.startswith("Based on State of the Union Address 2023: Is Speaker")
    assert first.answer == "No, Kevin is 58 while Nancy is 83"


def test_limit_takes_the_first_n_deterministically(data_dir):
    assert load_examples("gsm8k", data_dir, limit=5) == load_examples("gsm8k", data_dir)[:5]
    assert load_examples("sotu", data_dir, limit=0) == []


def test_unknown_dataset():
    with pytest.raises(ConfigError, match="unknown dataset 'squad'"):
        load_examples("squad")


def test_missing_folder(tmp_path):
    with pytest.raises(ConfigError, match="does not exist; point --data-dir"):
        load_examples("gsm8k", tmp_path)


def test_negative_limit(data_dir):
    with pytest.raises(ConfigError, match="limit must be 0 or more"):
        load_examples("gsm8k", data_dir, limit=-1)


def test_malformed_gsm8k_names_the_line(tmp_path):
    (tmp_path / "gsm8k").mkdir()
    (tmp_path / "gsm8k" / "test.jsonl").write_text('{"question": "q", "answer": "#### 1"}\n{"question": "q"}\n')
    with pytest.raises(ConfigError, match=r"test.jsonl, line 2: not a GSM8K record \(KeyError"):
        load_examples("gsm8k", tmp_path)


def test_sotu_without_the_columns(tmp_path):
    (tmp_path / "rewoo_sotu").mkdir()
    (tmp_path / "rewoo_sotu" / "SOTU_QA.csv").write_text("q,a\nwho?,me\n")
    with pytest.raises(ConfigError, match="expected the columns question,answer"):
        load_examples("sotu", tmp_path)


def test_hotpotqa_not_a_list(tmp_path):
    (tmp_path / "hotpotqa").mkdir()
    (tmp_path / "hotpotqa" / "hotpot_dev_distractor_sample.json").write_text('{"question": "q"}')
    with pytest.raises(ConfigError, match="is not a HotpotQA file"):
        load_examples("hotpotqa", tmp_path)
