"""Named chat templates: the one source of truth for training, serving and inference.

A GGUF file carries its model's template and inference renders that one; training has to
produce exactly the same text, so ``--template qwen`` is the Qwen2.5 template itself (as
Qwen ships it) and ``--template default`` means "whatever the model carries". The others
(alpaca, gemma, llama2) follow LLaMA-Factory's formats so its users' data and flags carry
over unchanged.
"""

from __future__ import annotations

from importlib import resources

from foreplan.errors import ConfigError
from foreplan.llm.chat_template import ChatTemplate

#: Template name → the Jinja file under ``llm/templates/``; aliases share a file.
TEMPLATES = {
    "alpaca": "alpaca.jinja",
    "qwen": "qwen.jinja",
    "chatml": "qwen.jinja",
    "gemma": "gemma.jinja",
    "llama2": "llama2.jinja",
}

#: Tokens each template writes itself, used to tell whether a template fits a tokenizer.
MARKERS = {
    "qwen": ("<|im_start|>", "<|im_end|>"),
    "chatml": ("<|im_start|>", "<|im_end|>"),
    "gemma": ("<start_of_turn>", "<end_of_turn>"),
    "llama2": (),
    "alpaca": (),
}


def template_source(name: str) -> str:
    """The Jinja source of a named template.

    Raises:
        ConfigError: the name is not one of ``TEMPLATES``.
    """
    try:
        filename = TEMPLATES[name]
    except KeyError as exc:
        known = ", ".join(sorted(TEMPLATES))
        raise ConfigError(f"Unknown chat template {name!r}; known templates: {known}, or 'default' "
                          "for the template the model carries.") from exc
    return resources.files("foreplan.llm").joinpath("templates", filename).read_text()


def named_template(name: str, bos_token: str = "", eos_token: str = "") -> ChatTemplate:
    """A compiled named template with the model's BOS/EOS strings."""
    return ChatTemplate(template_source(name), bos_token=bos_token, eos_token=eos_token)
