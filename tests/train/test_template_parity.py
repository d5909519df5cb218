"""One chat template for training, serving and GGUF inference: the same conversation
rendered through all three gives the same text."""

from __future__ import annotations

import pytest

from foreplan.llm.templates import named_template
from foreplan.train.formats import Conversation
from foreplan.train.mask import segments
from foreplan.train.setup import choose_template

pytestmark = pytest.mark.gguf

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city.",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                          "required": ["city"]}}}]
CONVERSATION = [
    {"role": "system", "content": "You call tools when they help."},
    {"role": "user", "content": "Weather in Oslo?"},
    {"role": "assistant", "content": "", "tool_calls": [
        {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}]},
    {"role": "tool", "content": "{\"temp_c\": 3}"},
    {"role": "assistant", "content": "It is 3 °C in Oslo."},
]


def test_training_serving_and_gguf_inference_render_the_same_text(qwen_tokenizer):
    from foreplan.llm.resolve import resolve_model
    from foreplan.serve.schemas import ChatMessage
    from foreplan.serve.tool_calls import template_messages

    gguf = resolve_model("qwen2.5-coder-0.5b")
    inference = gguf.template.render(CONVERSATION, add_generation_prompt=False, tools=TOOLS)

    for template in (named_template("qwen"), choose_template("default", qwen_tokenizer)):
        trained = "".join(text for text, _ in segments(Conversation(CONVERSATION, TOOLS), template))
        assert trained == inference

    request = [ChatMessage.model_validate(m) for m in [
        CONVERSATION[0], CONVERSATION[1],
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}"}}]},
        {"role": "tool", "content": "{\"temp_c\": 3}", "tool_call_id": "call_1"},
    ]]
    served = gguf.template.render(template_messages(request), tools=TOOLS)
    assert inference.startswith(served)
    assert served.endswith("<|im_start|>assistant\n") and "<tool_call>\n{\"name\": \"get_weather\"" in served
