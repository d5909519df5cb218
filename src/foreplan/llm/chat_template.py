"""Render chat messages with the model's own chat template.

The GGUF file carries the Jinja template its model was trained with
(``tokenizer.chat_template``). Rendering it ourselves, instead of going through a chat
handler, keeps the user's text intact (llama-cpp-python's ``chatml-function-calling``
HTML-escapes it) and lets training, serving and inference share one exact string.
"""

from __future__ import annotations

from typing import Any

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from foreplan.errors import LLMError


def _raise_exception(message: str) -> None:
    raise TemplateError(message)


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
            env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
            env.globals["raise_exception"] = _raise_exception
            try:
                self._template = env.from_string(source)
            except TemplateError as exc:
                raise LLMError(f"the model's chat template does not compile: {exc}") from None

    def render(self, messages: list[dict[str, Any]], add_generation_prompt: bool = True,
               tools: list[dict[str, Any]] | tuple[dict[str, Any], ...] | None = None) -> str:
        """The prompt string for ``messages`` (ending where the assistant starts); ``tools``
        (OpenAI-style definitions) go to the template, which lists them as it was trained to."""
        if self._template is None:
            text = "\n\n".join(m["content"] for m in messages)
            return text + "\n\n" if add_generation_prompt else text
        try:
            return self._template.render(
                messages=messages,
                add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
                tools=list(tools) if tools else None,
            )
        except TemplateError as exc:
            raise LLMError(f"the model's chat template failed on these messages: {exc}") from None
