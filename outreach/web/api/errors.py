"""Every API error is JSON: {"error": {"code": ..., "message": ..., "details": [...]}}."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from pydantic import ValidationError

from storage.failures import STORE_ERRORS, StoreFailure, classify, describe, reason

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_body",  # also "data_rejected": a value the store refused (store_error_response)
    429: "rate_limited",
    503: "store_unavailable",
}


class ApiError(Exception):
    """An answer other than success, said once, turned into the JSON error body by the middleware."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = [dict(detail) for detail in details]
        self.headers = dict(headers or {})


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    details: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = [dict(detail) for detail in details]
    return web.json_response({"error": error}, status=status, headers=headers)


def validation_details(error: ValidationError) -> list[dict[str, str]]:
    """Pydantic's errors as {"at": "questions.0.text", "message": ...}; never the input values."""
    return [
        {"at": ".".join(str(part) for part in item["loc"]) or "(body)", "message": item["msg"]}
        for item in error.errors(include_url=False, include_context=False, include_input=False)
    ]


def store_error_response(request: web.Request, error: BaseException) -> web.Response:
    """An outage is 503 (retry later); a value the store refused is 422, a duplicate of a stored
    unique value 409, with the reason (its kind, the column or constraint, the SQLSTATE; never the
    value): retrying that request would fail forever. The log says the error's class and SQLSTATE."""
    failure = classify(error)
    if failure is StoreFailure.OUTAGE:
        log.warning("API %s %s: store unavailable (%s)", request.method, request.path, describe(error))
        return error_response(503, "store_unavailable", "the store is unavailable; retry later")
    log.warning("API %s %s: the store refused a value (%s)", request.method, request.path, describe(error))
    why = reason(error)
    details = [{"at": "(body)", "message": why}]
    if failure is StoreFailure.CONFLICT:
        return error_response(409, "conflict", f"the store refused this request: {why}", details=details)
    return error_response(422, "data_rejected", f"the store refused this request: {why}", details=details)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Errors of the API sub-application, its router's 404 and 405 included, as JSON bodies."""
    try:
        return await handler(request)
    except ApiError as error:
        return error_response(error.status, error.code, error.message, details=error.details, headers=error.headers)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        headers = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        code = _CODES.get(error.status, "error")
        message = error.reason if error.status != 404 else f"no such endpoint: {request.method} {request.path}"
        return error_response(error.status, code, message, headers=headers)
    except STORE_ERRORS as error:
        return store_error_response(request, error)
    except Exception:
        log.exception("API: unexpected error on %s %s", request.method, request.path)
        return error_response(500, "internal", "unexpected error; it has been logged")
