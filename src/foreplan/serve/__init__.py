"""``foreplan serve``: an OpenAI-compatible HTTP server plus agent runs.

Needs the ``serve`` extra (FastAPI, uvicorn, pydantic-settings); importing this package
without it raises :class:`~foreplan.errors.MissingExtraError` naming the pip install.
"""

from __future__ import annotations

try:
    import fastapi  # noqa: F401
    import pydantic_settings  # noqa: F401
except ImportError as exc:  # one clear message instead of a deep ImportError
    from foreplan.errors import MissingExtraError

    raise MissingExtraError(exc.name or "fastapi", "serve") from exc

from foreplan.serve.app import create_app
from foreplan.serve.settings import ServeSettings

__all__ = ["ServeSettings", "create_app"]
