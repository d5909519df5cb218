"""The chat template renders the string the model was trained on, tools included."""

from __future__ import annotations

import pytest

from foreplan.llm.chat_template import ChatTemplate
from foreplan.llm.templates import template_source

TOOL = {"type": "function", "function": {
    "name": "compare", "description": "Is a < b & b > c? Returns 'yes' or 'no'.",
    "parameters": {"type": "object", "properties": {"b": {"type": "integer"}, "a": {"type": "integer"}},
                   "required": ["b", "a"]}}}
CONVERSATION = [
    {"role": "user", "content": "Is 2 < 3?"},
    {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "compare", "arguments": {"b": 3, "a": "<2>"}}}]},
    {"role": "tool", "content": "yes"},
]


def test_tools_keep_their_key_order_and_characters():
    prompt = ChatTemplate(template_source("qwen")).render(CONVERSATION, tools=[TOOL])
    assert '{"type": "function", "function": {"name": "compare", "description": "Is a < b & b > c? ' in prompt
    assert '"properties": {"b": {"type": "integer"}, "a": {"type": "integer"}}' in prompt
    assert '"arguments": {"b": 3, "a": "<2>"}' in prompt
    assert "\\u003c" not in prompt and "\\u0027" not in prompt


def test_same_string_as_transformers():
    chat_template_utils = pytest.importorskip("transformers.utils.chat_template_utils")
    source = template_source("qwen")
    ours = ChatTemplate(source).render(CONVERSATION, tools=[TOOL])
    (theirs,), _ = chat_template_utils.render_jinja_template(
        [CONVERSATION], tools=[TOOL], chat_template=source, add_generation_prompt=True)
    assert ours == theirs


def test_a_final_assistant_message_is_continued():
    template = ChatTemplate(template_source("qwen"))
    messages = [{"role": "user", "content": "Count to three."}, {"role": "assistant", "content": "One, two,"}]
    assert template.render(messages) == ("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a "
                                         "helpful assistant.<|im_end|>\n<|im_start|>user\nCount to three.<|im_end|>\n"
                                         "<|im_start|>assistant\nOne, two,")
    closed = template.render(messages, add_generation_prompt=False)
    assert closed.endswith("One, two,<|im_end|>\n")
    empty = [messages[0], {"role": "assistant", "content": ""}]
    assert template.render(empty) == template.render(messages[:1])


def test_a_base_model_continues_the_text():
    template = ChatTemplate(None)
    assert template.render([{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A:"}]) == "Q\n\nA:"
    assert template.render([{"role": "user", "content": "Q"}]) == "Q\n\n"


def test_a_final_assistant_tool_call_is_closed_not_continued():
    template = ChatTemplate(template_source("qwen"))
    called = CONVERSATION[:2]
    assert template.render(called) == template.render(called, add_generation_prompt=False) + "<|im_start|>assistant\n"
    assert '"arguments": {"b": 3, "a": "<2>"}' in template.render(called)
