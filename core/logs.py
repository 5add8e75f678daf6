"""Structured JSON logs with job id and tenant from context; never any text content.

The context lives in contextvars, so it follows a job through threads that copy it, Celery task
threads and gevent greenlets alike.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
from collections.abc import Iterator, Mapping
from types import MappingProxyType

from pythonjsonlogger.json import JsonFormatter

# never mutated: log_context sets a new dict, so a read-only empty default is safe to share
_EMPTY: Mapping[str, object] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, object]] = contextvars.ContextVar("mindq_log_context", default=_EMPTY)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            setattr(record, key, value)
        return True


@contextlib.contextmanager
def log_context(**fields: object) -> Iterator[None]:
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def configure_logging(level: str = "INFO", service: str = "mindq") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"},
        static_fields={"service": service}))
    handler.addFilter(_ContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # third-party loggers that would otherwise print request bodies or noise
    for noisy in ("urllib3", "filelock", "transformers", "pgserver"):
        logging.getLogger(noisy).setLevel("WARNING")
