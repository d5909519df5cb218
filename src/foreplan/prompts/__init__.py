"""Prompts are data: Jinja templates in ``prompts/``, rendered with StrictUndefined.

A template that names a variable nobody passed fails loudly instead of sending the
model an empty hole. Static text comes first in every template and the task last, so
the rendered prefix is byte-identical across calls (what a KV-cache can reuse).
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from typing import Any

from jinja2 import Environment, StrictUndefined, Template


@lru_cache(maxsize=None)
def _template(name: str) -> Template:
    source = files(__name__).joinpath(f"{name}.jinja").read_text(encoding="utf-8")
    env = Environment(undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
    return env.from_string(source)


def render(template: str, /, **variables: Any) -> str:
    """Render ``prompts/<template>.jinja``."""
    return _template(template).render(**variables).strip() + "\n"
