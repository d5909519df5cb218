"""The loss mask, with hand-written expected labels (real Qwen tokens at the boundary)."""

from __future__ import annotations

import pytest

from foreplan.errors import DatasetError
from foreplan.llm.chat_template import ChatTemplate
from foreplan.llm.templates import named_template
from foreplan.train.formats import Conversation
from foreplan.train.mask import IGNORE_INDEX as X
from foreplan.train.mask import encode, mask_labels, segments

# "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
SYSTEM = [151644, 8948, 198, 2610, 525, 1207, 16948, 11, 3465, 553, 54364, 14817, 13, 1446, 525, 264, 10950,
          17847, 13, 151645, 198]
USER_HI = [151644, 872, 198, 13048, 151645, 198]  # "<|im_start|>user\nHi<|im_end|>\n"
ASSISTANT = [151644, 77091, 198]  # "<|im_start|>assistant\n"
HELLO = [9707, 0, 151645, 198]  # "Hello!<|im_end|>\n": the response, its end-of-turn token included


def test_mask_labels_is_pure_and_exact():
    encoded = mask_labels([([1, 2, 3], False), ([4, 5], True), ([6], False), ([7, 8], True)])
    assert encoded.input_ids == [1, 2, 3, 4, 5, 6, 7, 8]
    assert encoded.labels == [X, X, X, 4, 5, X, 7, 8]
    assert mask_labels([([1, 2], False), ([3], True)], train_on_prompt=True).labels == [1, 2, 3]


def test_cutoff_truncates_and_counts():
    encoded = mask_labels([([1, 2, 3], False), ([4, 5, 6], True)], cutoff_len=4)
    assert encoded.input_ids == [1, 2, 3, 4] and encoded.labels == [X, X, X, 4] and encoded.truncated == 2


def _tokenize(tokenizer):
    return lambda text: tokenizer.encode(text, add_special_tokens=False)


def test_qwen_boundary_hand_written(qwen_tokenizer):
    conversation = Conversation([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}])
    encoded = encode(conversation, named_template("qwen"), _tokenize(qwen_tokenizer))
    assert encoded.input_ids == SYSTEM + USER_HI + ASSISTANT + HELLO
    assert encoded.labels == [X] * (len(SYSTEM) + len(USER_HI) + len(ASSISTANT)) + HELLO


def test_multi_turn_masks_every_non_assistant_turn(qwen_tokenizer):
    conversation = Conversation([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
                                 {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}])
    encoded = encode(conversation, named_template("qwen"), _tokenize(qwen_tokenizer))
    prompt = [X] * (len(SYSTEM) + len(USER_HI) + len(ASSISTANT))
    again = [X] * (len(USER_HI) + len(ASSISTANT))
    assert encoded.labels == prompt + HELLO + again + HELLO
    assert encode(conversation, named_template("qwen"), _tokenize(qwen_tokenizer),
                  train_on_prompt=True).labels == encoded.input_ids


def test_alpaca_boundary(qwen_tokenizer):
    template = named_template("alpaca", eos_token="<|im_end|>")
    conversation = Conversation([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}])
    pieces = segments(conversation, template)
    assert pieces[-1] == ("Hello!<|im_end|>\n\n", True)
    assert pieces[0][0].endswith("### Instruction:\nHi\n\n### Response:\n") and not pieces[0][1]
    encoded = encode(conversation, template, _tokenize(qwen_tokenizer))
    assert [t for t in encoded.labels if t != X] == [9707, 0, 151645, 271]


def test_same_text_as_the_gguf_template_for_the_planner_conversation(qwen_tokenizer):
    """Training renders exactly what inference renders from the GGUF's own template."""
    messages = [{"role": "user", "content": "Plan this."}, {"role": "assistant", "content": "Plan: x\n#E1 = f[y]"}]
    own = ChatTemplate(qwen_tokenizer.chat_template)
    assert named_template("qwen").render(messages, add_generation_prompt=False) == own.render(
        messages, add_generation_prompt=False)
    assert named_template("qwen").render(messages[:1]) == own.render(messages[:1])


def test_a_template_that_rewrites_history_is_refused():
    rewriting = ChatTemplate("{% for m in messages|reverse %}{{ m.content }}|{% endfor %}")
    conversation = Conversation([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}])
    with pytest.raises(DatasetError, match="rewrites earlier turns"):
        segments(conversation, rewriting)
