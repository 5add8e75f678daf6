"""The stable error codes of the API and the workers: one enum, so a code is never spelt two
ways (a job failed in a worker shows its code through the same API as a refused request).

A ``StrEnum``: each member is its own string in JSON bodies, logs and comparisons.
"""
from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    # the request as a whole
    BAD_REQUEST = "BAD_REQUEST"
    INVALID_JSON = "INVALID_JSON"
    INVALID_RESOURCE = "INVALID_RESOURCE"  # not a valid FHIR resource of the expected type
    VALIDATION_ERROR = "VALIDATION_ERROR"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    HTTP_ERROR = "HTTP_ERROR"
    URI_TOO_LONG = "URI_TOO_LONG"
    HEADERS_TOO_LARGE = "HEADERS_TOO_LARGE"
    NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
    # who is asking
    UNAUTHENTICATED = "UNAUTHENTICATED"
    INVALID_API_KEY = "INVALID_API_KEY"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    # what a job asks for (refused at submission, or found by the worker)
    UNKNOWN_ANALYSIS_TYPE = "UNKNOWN_ANALYSIS_TYPE"
    INVALID_OPTION = "INVALID_OPTION"
    MISSING_TEXT = "MISSING_TEXT"
    TEXT_TOO_LONG = "TEXT_TOO_LONG"
    MISSING_PAYLOAD = "MISSING_PAYLOAD"
    INVALID_SERIES = "INVALID_SERIES"
    INVALID_CALLBACK_URL = "INVALID_CALLBACK_URL"
    INVALID_IDEMPOTENCY_KEY = "INVALID_IDEMPOTENCY_KEY"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    INVALID_LAST_EVENT_ID = "INVALID_LAST_EVENT_ID"
    JOB_FINISHED = "JOB_FINISHED"
    # journals and their re-analysis runs
    JOURNAL_ENTRY_CONFLICT = "JOURNAL_ENTRY_CONFLICT"
    INVALID_CRON = "INVALID_CRON"
    RUN_FINISHED = "RUN_FINISHED"
    # how a job failed in a worker
    INPUT_TOO_LONG = "INPUT_TOO_LONG"
    INFERENCE_TIMEOUT = "INFERENCE_TIMEOUT"
    DECRYPTION_FAILED = "DECRYPTION_FAILED"
    # the platform itself
    INTERNAL_ERROR = "INTERNAL_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
