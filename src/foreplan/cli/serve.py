"""``foreplan serve``: the models over an OpenAI-compatible HTTP API, plus agent runs.

    foreplan serve --model planner=qwen2.5-coder-1.5b --model caller=qwen2.5-coder-0.5b
"""

from __future__ import annotations

from typing import Annotated

import typer

from foreplan.cli.common import DebugOpt, errors, resolve
from foreplan.llm.registry import DEFAULT_CALLER, DEFAULT_PLANNER


def serve(
    model: Annotated[list[str] | None, typer.Option("--model", "-m", help="ALIAS=SPEC (repeatable), e.g. planner=qwen2.5-coder-1.5b; the aliases planner, caller and solver serve agent runs.")] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    api_key: Annotated[list[str] | None, typer.Option("--api-key", envvar="FOREPLAN_API_KEYS", help="Accepted Bearer key (repeatable); none means no authentication.")] = None,
    max_tokens_limit: Annotated[int, typer.Option("--max-tokens-limit", min=1, help="Largest max_tokens a request may ask for.")] = 4096,
    queue_size: Annotated[int, typer.Option("--queue-size", min=0, help="Requests that may wait per model before 429.")] = 8,
    memory: Annotated[bool, typer.Option("--memory/--no-memory", help="Store agent runs and learn from past ones (memory.py).")] = True,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
    debug: DebugOpt = False,
) -> None:
    """Serve the models over an OpenAI-compatible HTTP API, plus agent runs."""
    import logging

    with errors(False, debug):
        from foreplan.errors import ConfigError, MissingExtraError

        try:
            import fastapi  # noqa: F401
            import uvicorn
        except ImportError as exc:
            raise MissingExtraError(exc.name or "fastapi", "serve") from exc
        from foreplan.serve import ServeSettings, create_app
        from foreplan.serve.settings import parse_model_options

        try:
            models = parse_model_options(model or [f"planner={DEFAULT_PLANNER}", f"caller={DEFAULT_CALLER}"])
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        settings = ServeSettings(host=host, port=port, models=models, api_keys=api_key or [],
                                 max_tokens_limit=max_tokens_limit, queue_size=queue_size, memory=memory)
        # Resolved here: a bad spec is one CLI error, not a failed startup. The server loads
        # its own weights, so its registry has no FOREPLAN_SERVER (that would be itself).
        from foreplan.llm.resolve import ModelRegistry

        registry = ModelRegistry(server=None)
        llms = {alias: resolve(spec, registry) for alias, spec in models.items()}
        # foreplan.serve.access logs each request; uvicorn's own access log would repeat it.
        uvicorn.run(create_app(settings, llms=llms), host=host, port=port, log_level=log_level, access_log=False)
