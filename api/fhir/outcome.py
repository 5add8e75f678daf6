"""Errors as OperationOutcome: FHIR's issue type for each status, mindq's stable error code in
``details``; the message never quotes the request (it may hold patient text)."""
from __future__ import annotations

from typing import Any

from fhir.resources.R4B.operationoutcome import OperationOutcome

from api.fhir import codes
from core.errors import ErrorCode

ISSUE_TYPE = {400: "structure", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
              406: "not-supported", 409: "conflict", 410: "deleted", 413: "too-costly", 415: "not-supported",
              422: "processing", 429: "throttled", 500: "exception", 503: "transient"}


class FhirProblem(Exception):
    """A request the facade refuses: its status, stable code, message and where (FHIRPath)."""

    def __init__(self, status: int, code: ErrorCode, message: str, expression: list[str] | None = None,
                 details: dict[str, Any] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.expression = expression or []
        self.details = details or {}
        self.headers = headers or {}


def operation_outcome(status: int, code: str, message: str, expression: list[str] | None = None,
                      diagnostics: str | None = None, severity: str = "error") -> dict[str, Any]:
    issue: dict[str, Any] = {
        "severity": severity, "code": ISSUE_TYPE.get(status, "processing"),
        "details": {"coding": [{"system": codes.ERROR_CODE, "code": str(code)}], "text": message},
    }
    if diagnostics:
        issue["diagnostics"] = diagnostics
    if expression:
        issue["expression"] = expression
    return OperationOutcome.model_validate({"resourceType": "OperationOutcome", "issue": [issue]}).model_dump(
        mode="json", exclude_none=True)


def fhirpath(loc: tuple[str | int, ...] | list[str | int], root: str = "Task") -> str:
    """A pydantic error location as a FHIRPath expression: ('input', 0, 'valueAttachment') ->
    Task.input[0].valueAttachment."""
    out = root
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out
