"""Reading a JSON body strictly: content type, size, syntax, then the pydantic model."""
from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from api.errors import ApiError
from core import config
from core.errors import ErrorCode

M = TypeVar("M", bound=BaseModel)
MAX_DEPTH = 32  # no request of ours nests deeper than a few levels; a deep one only costs stack


def json_body(mimetypes: tuple[str, ...] = ("application/json",)) -> Any:
    if request.mimetype not in mimetypes:
        raise ApiError(415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, f"Send the body as {' or '.join(mimetypes)}.",
                       {"content_type": request.mimetype or None})
    limit = config.settings().max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, ErrorCode.PAYLOAD_TOO_LARGE, f"The body exceeds {limit} bytes.", {"limit": limit})
    raw = request.get_data(cache=True)  # werkzeug enforces MAX_CONTENT_LENGTH on chunked bodies too
    try:
        body = json.loads(raw)
    except RecursionError:  # a few KB of brackets exhaust the parser's stack
        raise _too_deep() from None
    except (UnicodeDecodeError, ValueError) as exc:
        details = {"line": exc.lineno, "column": exc.colno} if isinstance(exc, json.JSONDecodeError) else {}
        raise ApiError(400, ErrorCode.INVALID_JSON, "The body is not valid JSON.", details) from None
    if _depth_exceeds(body, MAX_DEPTH):
        raise _too_deep()
    return body


def _too_deep() -> ApiError:
    return ApiError(400, ErrorCode.INVALID_JSON, f"The body nests deeper than {MAX_DEPTH} levels.",
                    {"max_depth": MAX_DEPTH})


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` (iterative: no recursion to exhaust)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def validation_details(exc: ValidationError) -> dict:
    # never echo input values back (or into logs): they may be patient text
    return {"errors": [{"loc": [str(p) for p in e["loc"]], "type": e["type"], "msg": e["msg"]}
                       for e in exc.errors(include_url=False, include_input=False, include_context=False)]}


def parse(model: type[M], data: Any) -> M:
    if not isinstance(data, dict):
        raise ApiError(422, ErrorCode.VALIDATION_ERROR, "The body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, ErrorCode.VALIDATION_ERROR, "The request body is invalid.", validation_details(exc)) from None
