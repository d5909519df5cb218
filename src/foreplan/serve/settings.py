"""What ``foreplan serve`` is configured with, as one typed object.

Values come from keyword arguments (the CLI builds them from its options) or from
``FOREPLAN_SERVE_*`` environment variables, e.g.
``FOREPLAN_SERVE_MODELS='{"planner": "qwen2.5-coder-1.5b"}'`` and
``FOREPLAN_SERVE_API_KEYS='["secret"]'`` (pydantic-settings reads JSON for dicts and lists).
"""

from __future__ import annotations

from fastapi import Request
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROLES = ("planner", "caller", "solver")
"""Aliases the agent endpoint looks for; caller and solver are optional."""


class ServeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FOREPLAN_SERVE_", extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    models: dict[str, str] = Field(default_factory=dict)
    """Alias → model spec (embedded name, GGUF path, ``openai:URL#MODEL``)."""
    api_keys: list[str] = Field(default_factory=list)
    """Accepted Bearer keys; empty means no authentication."""
    max_body_bytes: int = Field(default=1_000_000, ge=1)
    """Larger request bodies are refused with 413."""
    max_tokens_limit: int = Field(default=4096, ge=1)
    """A ``max_tokens`` above this is refused with 400."""
    default_max_tokens: int = Field(default=512, ge=1)
    """``max_tokens`` when a request leaves it out (capped by the limit)."""
    concurrency: int = Field(default=1, ge=1)
    """Requests one model generates for at the same time (llama.cpp runs one anyway)."""
    queue_size: int = Field(default=8, ge=0)
    """Requests that may wait per model; one more is answered 429 with Retry-After."""
    retry_after_s: int = Field(default=1, ge=0)
    max_runs: int = Field(default=100, ge=1)
    """Agent runs kept for GET /v1/agent/runs/{id}; the oldest finished ones go first."""
    confirm_timeout_s: float = Field(default=300.0, gt=0)
    """How long a side-effect call of a ``confirm`` run waits for its answer before it is declined."""
    memory: bool = True
    """Agent runs go to the run store (memory.py; ``$FOREPLAN_MEMORY`` names its file) and learn
    from it: the same task reuses its plan, similar ones lend theirs as examples."""

    @field_validator("models")
    @classmethod
    def _check_models(cls, value: dict[str, str]) -> dict[str, str]:
        for alias, spec in value.items():
            if not alias.strip() or not spec.strip():
                raise ValueError(f"model alias {alias!r} → {spec!r}: neither may be empty")
        return value


def parse_model_options(values: list[str]) -> dict[str, str]:
    """``["planner=qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"]`` → alias → spec.

    A value without ``=`` is served under its own name.

    Raises:
        ValueError: an empty alias or spec, or an alias given twice.
    """
    models: dict[str, str] = {}
    for value in values:
        alias, sep, spec = value.partition("=")
        if not sep:
            alias, spec = value, value
        alias, spec = alias.strip(), spec.strip()
        if not alias or not spec:
            raise ValueError(f"--model {value!r}: write ALIAS=SPEC, e.g. planner=qwen2.5-coder-1.5b")
        if alias in models:
            raise ValueError(f"--model: alias {alias!r} is given twice")
        models[alias] = spec
    return models


def get_settings(request: Request) -> ServeSettings:
    """The app's settings (a FastAPI dependency)."""
    return request.app.state.settings
