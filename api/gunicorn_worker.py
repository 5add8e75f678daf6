"""gunicorn's gevent worker, with the API's JSON error body for requests gunicorn refuses itself.

A request that never reaches Flask (a header past gunicorn's limits, NUL or a bare LF in a header,
Content-Length with Transfer-Encoding, a garbled request line) was answered by gunicorn's
``util.write_error``: an HTML page whose message quotes the offending bytes, and a log line that
quotes them too. Here the answer is ``{"error": {"code", "message", "details"}}`` with a fixed
message per kind of fault, and the log line names the fault, never the bytes.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import ssl
import time
from typing import Any

from gunicorn import util
from gunicorn.http import errors as http_errors
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers.ggevent import GeventWorker

from core.errors import ErrorCode

log = logging.getLogger("mindq.api")

Kinds = type[BaseException] | tuple[type[BaseException], ...]
# (status, reason, code, message) by the exception gunicorn's parser raised; first match wins
_REFUSALS: tuple[tuple[Kinds, int, str, ErrorCode, str], ...] = (
    (http_errors.LimitRequestLine, 414, "URI Too Long", ErrorCode.URI_TOO_LONG,
     "The request line is too long."),
    (http_errors.LimitRequestHeaders, 431, "Request Header Fields Too Large", ErrorCode.HEADERS_TOO_LARGE,
     "The request headers are too large or too many."),
    (http_errors.UnsupportedTransferCoding, 501, "Not Implemented", ErrorCode.NOT_IMPLEMENTED,
     "Only the chunked transfer coding is supported."),
    (http_errors.ForbiddenProxyRequest, 403, "Forbidden", ErrorCode.FORBIDDEN,
     "This proxy may not forward requests."),
    (http_errors.ConfigurationProblem, 500, "Internal Server Error", ErrorCode.INTERNAL_ERROR,
     "An unexpected error occurred."),
    (http_errors.InvalidRequestMethod, 400, "Bad Request", ErrorCode.BAD_REQUEST,
     "The request method is malformed."),
    (http_errors.InvalidHTTPVersion, 400, "Bad Request", ErrorCode.BAD_REQUEST,
     "The HTTP version is malformed or unsupported."),
    (http_errors.InvalidRequestLine, 400, "Bad Request", ErrorCode.BAD_REQUEST,
     "The request line is malformed."),
    ((http_errors.InvalidHeader, http_errors.InvalidHeaderName, http_errors.ObsoleteFolding,
      http_errors.InvalidSchemeHeaders), 400, "Bad Request", ErrorCode.BAD_REQUEST,
     "A request header is malformed or ambiguous."),
    ((http_errors.ParseException, http_errors.InvalidChunkSize, http_errors.ChunkMissingTerminator,
      ssl.SSLError), 400, "Bad Request", ErrorCode.BAD_REQUEST,
     "The request is malformed."),
)
_INTERNAL = (500, "Internal Server Error", ErrorCode.INTERNAL_ERROR, "An unexpected error occurred.")


def refusal(exc: BaseException) -> tuple[int, str, ErrorCode, str]:
    """Status, reason phrase, error code and fixed message for an exception gunicorn hands over."""
    for kinds, status, reason, code, message in _REFUSALS:
        if isinstance(exc, kinds):
            return status, reason, code, message
    return _INTERNAL


def error_bytes(status: int, reason: str, code: ErrorCode, message: str) -> bytes:
    """A whole HTTP/1.1 response carrying the API's error body; the connection closes after it,
    since the request's framing can no longer be trusted."""
    body = json.dumps({"error": {"code": code, "message": message, "details": {}}}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n")
    return head.encode("latin-1") + body


class JsonErrorWorker(GeventWorker):
    """The web role's worker class (mindq.cli.gunicorn_cmd)."""

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        started = dt.datetime.now()
        status, reason, code, message = refusal(exc)
        if status >= 500:
            log.error("request failed in gunicorn", extra={"error_type": type(exc).__name__})
        else:  # a client's fault: the exception's text quotes its bytes, so only its kind is logged
            log.warning("request refused by gunicorn", extra={"error_type": type(exc).__name__, "status": status})
        req = req if req is not None else getattr(exc, "req", None)
        if req is not None:
            try:
                environ = default_environ(req, client, self.cfg)
                environ["REMOTE_ADDR"] = (addr or ("", -1))[0]
                environ["PATH_INFO"] = getattr(req, "path", None)
                resp = Response(req, client, self.cfg)
                resp.status, resp.status_code = f"{status} {reason}", status
                self.log.access(resp, req, environ, dt.datetime.now() - started)
            except Exception:  # a request too broken to describe still gets its answer
                pass
        try:
            util.write_nonblock(client, error_bytes(status, reason, code, message))
        except Exception:
            self.log.debug("Failed to send error message.")
            return
        try:
            _linger(client)
        except OSError:  # the client went, or kept sending past the moment: the answer is out
            pass


LINGER_S = 1.0
LINGER_BYTES = 1 << 20


def _linger(client: socket.socket) -> None:
    """Half-close, then read and drop what the client is still sending, for a moment: closing a
    socket with unread input sends a reset, and the client's kernel may discard our answer with it
    (a long request line is refused after its first 4 KB, with the rest still on its way)."""
    client.shutdown(socket.SHUT_WR)
    client.settimeout(LINGER_S)
    deadline, drained = time.monotonic() + LINGER_S, 0
    while drained < LINGER_BYTES and time.monotonic() < deadline:
        chunk = client.recv(65536)
        if not chunk:
            return
        drained += len(chunk)
