"""Every failure of ``foreplan serve`` as an OpenAI-shaped error body.

Clients written for OpenAI read ``{"error": {"message", "type", "param", "code"}}``, so
every error answers in that shape, with the status code chosen by the exception's type:

    APIError (status, type, code)          raised by the server itself
    ├── InvalidRequestError        400     a field the server cannot honour
    ├── AuthenticationError        401     missing or wrong Bearer key
    ├── NotFoundError              404     unknown model, agent run or confirmation
    ├── ConflictError              409     a confirmation that was already answered
    ├── BodyTooLargeError          413     request body over the limit
    └── QueueFullError             429     the model's queue is full (Retry-After)

    foreplan errors (errors.py)            raised by the layers below, mapped by type:
    ConfigError 400, UnknownModelError 404, PlanInvalidError 422,
    ModelFileError / MissingExtraError 503, LLMError 502

The mapping walks the exception's MRO: llama_cpp/server/errors.py runs regexes over
error messages instead, which breaks whenever a message is reworded.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from foreplan.errors import (
    ConfigError,
    ForeplanError,
    LLMError,
    MissingExtraError,
    ModelFileError,
    PlanInvalidError,
    UnknownModelError,
)

logger = logging.getLogger("foreplan.serve")


class APIError(Exception):
    """An error the server answers with; subclasses fix the status and type."""

    status = 400
    type = "invalid_request_error"
    code: str | None = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code or type(self).code
        self.headers = headers or {}


class InvalidRequestError(APIError):
    status, code = 400, "invalid_request"


class AuthenticationError(APIError):
    status, type, code = 401, "authentication_error", "invalid_api_key"


class NotFoundError(APIError):
    status, code = 404, "not_found"


class ConflictError(APIError):
    status, code = 409, "conflict"


class BodyTooLargeError(APIError):
    status, code = 413, "request_too_large"


class QueueFullError(APIError):
    status, type, code = 429, "rate_limit_error", "queue_full"


#: foreplan's own errors: (status, type, code). Looked up along the MRO, most specific first.
_FOREPLAN_STATUS: dict[type[BaseException], tuple[int, str, str]] = {
    PlanInvalidError: (422, "invalid_request_error", "plan_invalid"),
    UnknownModelError: (404, "invalid_request_error", "model_not_found"),
    ConfigError: (400, "invalid_request_error", "invalid_request"),
    ModelFileError: (503, "server_error", "model_unavailable"),
    MissingExtraError: (503, "server_error", "missing_extra"),
    LLMError: (502, "server_error", "backend_error"),
    ForeplanError: (500, "server_error", "internal_error"),
}


def error_body(message: str, type_: str, param: str | None = None, code: str | None = None,
               **extra: Any) -> dict[str, Any]:
    """The OpenAI error object; ``extra`` adds fields next to the four standard ones."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code, **extra}}


def describe(exc: BaseException) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Status code, body and headers for any exception (unknown ones become 500).

    Also used inside SSE streams, where the status line has already been sent.
    """
    if isinstance(exc, APIError):
        return exc.status, error_body(exc.message, exc.type, exc.param, exc.code), exc.headers
    for cls in type(exc).__mro__:
        if cls in _FOREPLAN_STATUS:
            status, type_, code = _FOREPLAN_STATUS[cls]
            extra = {"problems": exc.problems} if isinstance(exc, PlanInvalidError) else {}
            return status, error_body(str(exc), type_, None, code, **extra), {}
    logger.exception("internal error", exc_info=exc)
    return 500, error_body(f"Internal error: {type(exc).__name__}. See the server log.", "server_error",
                           None, "internal_error"), {}


async def _handle(request: Request, exc: Exception) -> JSONResponse:
    status, body, headers = describe(exc)
    return JSONResponse(body, status_code=status, headers=headers)


async def _handle_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    # OpenAI answers invalid parameters with 400, not FastAPI's 422.
    errors = exc.errors()
    first = errors[0] if errors else {}
    loc = [str(part) for part in first.get("loc", ()) if part != "body"]
    message = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: {e.get('msg')}"
                        for e in errors) or "Invalid request."
    return JSONResponse(error_body(message, "invalid_request_error", ".".join(loc) or None, "invalid_request"),
                        status_code=400)


_METHODS = {"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}


def _allowed_methods(request: Request, fallback: str) -> str:
    """Every method the OpenAPI schema documents for this path.

    Starlette's router fills ``Allow`` from the first route whose path matches, so a path
    served by two routes (GET and POST /v1/agent/runs) would name only one of them.
    """
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            return ", ".join(sorted(m.upper() for m in operations if m.upper() in _METHODS))
    return fallback


async def _handle_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code)
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request, headers.get("Allow", ""))
    return JSONResponse(error_body(str(exc.detail), "invalid_request_error", None, code),
                        status_code=exc.status_code, headers=headers)


def install(app: FastAPI) -> None:
    """Answer every error of ``app`` in the OpenAI shape."""
    app.add_exception_handler(APIError, _handle)
    app.add_exception_handler(ForeplanError, _handle)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    app.add_exception_handler(Exception, _handle)
