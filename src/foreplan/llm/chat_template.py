"""Render chat messages with the model's own chat template.

The GGUF file carries the Jinja template its model was trained with
(``tokenizer.chat_template``). Rendering it ourselves, instead of going through a chat
handler, keeps the user's text intact (llama-cpp-python's ``chatml-function-calling``
HTML-escapes it) and lets training, serving and inference share one exact string.

The string is the one the model was trained on only if the template runs as
transformers runs it: Jinja's own ``tojson`` sorts keys and HTML-escapes ``<>&'``, so a
tool listed as ``{"type": "function", "function": {"name": …}}`` would reach the model as
``{"function": {"description": …}, "type": "function"}`` with ``\\u003c`` for ``<``.
``tojson`` here is transformers' (keys in order, nothing escaped, ``indent`` honoured).
"""

from __future__ import annotations

import json
from typing import Any

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from foreplan.errors import LLMError


def _raise_exception(message: str) -> None:
    raise TemplateError(message)


def _tojson(value: Any, ensure_ascii: bool = False, indent: int | None = None,
            separators: tuple[str, str] | None = None, sort_keys: bool = False) -> str:
    """``tojson`` as transformers' chat templates have it (and so as models were trained)."""
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


class ChatTemplate:
    """A compiled chat template; ``None`` source means a base model with no template,
    rendered as plain paragraphs."""

    def __init__(self, source: str | None, bos_token: str = "", eos_token: str = "") -> None:
        self.source = source
        self.bos_token = bos_token
        self.eos_token = eos_token
        self._template = None
        if source:
            # Lenient undefined values, as transformers renders them: templates test optional
            # fields (``message.tool_calls``) that plain messages do not carry.
            env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                                extensions=["jinja2.ext.loopcontrols"])
            env.globals["raise_exception"] = _raise_exception
            env.filters["tojson"] = _tojson
            try:
                self._template = env.from_string(source)
            except TemplateError as exc:
                raise LLMError(f"the model's chat template does not compile: {exc}") from exc

    def render(self, messages: list[dict[str, Any]], add_generation_prompt: bool = True,
               tools: list[dict[str, Any]] | tuple[dict[str, Any], ...] | None = None) -> str:
        """The prompt string for ``messages`` (ending where the assistant starts); ``tools``
        (OpenAI-style definitions) go to the template, which lists them as it was trained to.

        A conversation that ends with an assistant message is a prefill: the prompt ends
        inside that message, so the model continues it (as llama-server does, and
        transformers' ``continue_final_message``), instead of closing it and starting
        another. An assistant message with tool calls is finished, never a prefill.
        """
        last = messages[-1] if messages else {}
        prefill = add_generation_prompt and last.get("role") == "assistant" and not last.get("tool_calls")
        if self._template is None:
            text = "\n\n".join(m["content"] for m in messages)
            return text + "\n\n" if add_generation_prompt and not prefill else text
        if prefill:
            return self._continue(messages, tools)
        return self._render(messages, add_generation_prompt, tools)

    def _continue(self, messages: list[dict[str, Any]], tools: Any) -> str:
        """The prompt that ends right after the final (assistant) message's content."""
        content = messages[-1].get("content") or ""
        if not content:
            return self._render(messages[:-1], True, tools)
        whole = self._render(messages, False, tools)
        end = whole.rfind(content)
        if end < 0:
            raise LLMError("the model's chat template changes the final assistant message's text, "
                           "so the model cannot continue it; send it without that message")
        return whole[: end + len(content)]

    def _render(self, messages: list[dict[str, Any]], add_generation_prompt: bool, tools: Any) -> str:
        try:
            return self._template.render(
                messages=messages,
                add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
                tools=list(tools) if tools else None,
            )
        except TemplateError as exc:
            raise LLMError(f"the model's chat template failed on these messages: {exc}") from exc
