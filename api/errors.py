"""Every error is ``{"error": {"code", "message", "details"}}`` with the right status.

Unknown routes, wrong methods, oversized bodies and unexpected exceptions are all turned into
that body here, so a client never sees an HTML page or a stack trace.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from core import failures
from core.errors import ErrorCode

log = logging.getLogger("mindq.api")

_HTTP_CODES = {
    400: (ErrorCode.BAD_REQUEST, "The request is malformed."),
    401: (ErrorCode.UNAUTHENTICATED, "A valid API key is required."),
    403: (ErrorCode.FORBIDDEN, "This API key may not do that."),
    404: (ErrorCode.NOT_FOUND, "No such resource."),
    405: (ErrorCode.METHOD_NOT_ALLOWED, "This method is not allowed on this resource."),
    406: (ErrorCode.NOT_ACCEPTABLE, "The requested representation is not available."),
    409: (ErrorCode.CONFLICT, "The request conflicts with the current state."),
    413: (ErrorCode.PAYLOAD_TOO_LARGE, "The request body is too large."),
    415: (ErrorCode.UNSUPPORTED_MEDIA_TYPE, "Send the body as application/json."),
    422: (ErrorCode.VALIDATION_ERROR, "The request body is invalid."),
    429: (ErrorCode.RATE_LIMITED, "Too many requests; slow down."),
    500: (ErrorCode.INTERNAL_ERROR, "An unexpected error occurred."),
    503: (ErrorCode.SERVICE_UNAVAILABLE, "A dependency is unavailable; retry later."),
}


class ApiError(Exception):
    def __init__(self, status: int, code: ErrorCode, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or {}
        self.headers = headers or {}


def error_response(status: int, code: ErrorCode, message: str, details: dict | None = None, headers=None):
    resp = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    resp.status_code = status
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def install(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code, message = _HTTP_CODES.get(exc.code or 500, (ErrorCode.HTTP_ERROR, "HTTP error."))
        details: dict[str, Any] = {}
        headers = {}
        allowed = sorted(getattr(exc, "valid_methods", None) or ())  # werkzeug's MethodNotAllowed
        if exc.code == 405 and allowed:
            details["allowed"] = allowed
            headers["Allow"] = ", ".join(allowed)
        return error_response(exc.code or 500, code, message, details, headers)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # log the type and place only: exception messages may quote request content
        if failures.is_transient(exc):
            log.error("dependency unavailable", extra={"error_type": type(exc).__name__,
                                                       "where": failures.where(exc)})
            return error_response(503, ErrorCode.SERVICE_UNAVAILABLE, _HTTP_CODES[503][1], headers={"Retry-After": "5"})
        log.error("unhandled error", extra={"error_type": type(exc).__name__, "where": failures.where(exc)})
        return error_response(500, ErrorCode.INTERNAL_ERROR, _HTTP_CODES[500][1])
