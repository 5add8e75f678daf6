"""Requests gunicorn refuses before Flask sees them get the API's JSON error body, not an HTML page,
and neither the body nor the log quotes the bytes the client sent. Raw sockets against the web
role's real command line (mindq.cli.gunicorn_cmd)."""
from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest

CANARY = "Zebulon-Quartermaine-7731"  # stands for whatever a client puts in a header or a path


def _raw(base_url: str, data: bytes, timeout: float = 10) -> bytes:
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def _request(*header_lines: str, line: str = "GET /v1/jobs HTTP/1.1", body: bytes = b"") -> bytes:
    head = "\r\n".join([line, "Host: localhost", *header_lines]) + "\r\n\r\n"
    return head.encode("latin-1") + body


CASES = {
    "huge header": (_request(f"X-Note: {CANARY}" + "a" * 20_000), 431, "HEADERS_TOO_LARGE"),
    "too many headers": (_request(*(f"X-{i}: {CANARY}" for i in range(150))), 431, "HEADERS_TOO_LARGE"),
    "huge request line": (_request(line=f"GET /v1/jobs/{CANARY}{'a' * 10_000} HTTP/1.1"), 414, "URI_TOO_LONG"),
    "NUL in a header value": (_request(f"X-Note: {CANARY}\x00x"), 400, "BAD_REQUEST"),
    "bare LF inside a header block": (_request(f"X-Note: {CANARY}\nX-Other: 1"), 400, "BAD_REQUEST"),
    "CR alone in a header value": (_request(f"X-Note: {CANARY}\rX-Other: 1"), 400, "BAD_REQUEST"),
    "space in a header name": (_request(f"X Note: {CANARY}"), 400, "BAD_REQUEST"),
    "obsolete line folding": (_request("X-Note: a", f" {CANARY}"), 400, "BAD_REQUEST"),
    "Content-Length with Transfer-Encoding": (
        _request("Content-Type: application/json", "Content-Length: 4", "Transfer-Encoding: chunked",
                 line="POST /v1/jobs HTTP/1.1", body=b"0\r\n\r\n"), 400, "BAD_REQUEST"),
    "two different Content-Lengths": (
        _request("Content-Length: 2", "Content-Length: 3", line="POST /v1/jobs HTTP/1.1", body=b"{}x"),
        400, "BAD_REQUEST"),
    "non-numeric Content-Length": (_request(f"Content-Length: {CANARY}", line="POST /v1/jobs HTTP/1.1"),
                                   400, "BAD_REQUEST"),
    "unsupported transfer coding": (_request(f"Transfer-Encoding: {CANARY}", line="POST /v1/jobs HTTP/1.1"),
                                    501, "NOT_IMPLEMENTED"),
    "garbled request line": (f"{CANARY}\r\n\r\n".encode(), 400, "BAD_REQUEST"),
    "lower-case method": (_request(line="get /v1/jobs HTTP/1.1"), 400, "BAD_REQUEST"),
    "unknown HTTP version": (_request(line="GET /v1/jobs HTTP/7.1"), 400, "BAD_REQUEST"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_gunicorn_refusals_are_the_json_error_body(web_server, log_dir, name):
    data, status, code = CASES[name]
    got_status, headers, body = _parse(_raw(web_server, data))
    assert got_status == status, body[:300]
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body)
    error = json.loads(body)["error"]
    assert error["code"] == code and error["message"] and error["details"] == {}
    assert CANARY not in body.decode()
    assert CANARY not in (log_dir / "web.log").read_text(errors="replace")


def test_a_malformed_chunked_body_is_a_json_400(web_server, keys):
    """A bad chunk size surfaces while Flask reads the body (gunicorn raises an IOError there)."""
    bad = _request(f"Authorization: Bearer {keys['clinic-a']}", "Content-Type: application/json",
                   "Transfer-Encoding: chunked", line="POST /v1/jobs HTTP/1.1",
                   body=f"{CANARY}\r\n{{}}\r\n0\r\n\r\n".encode())
    status, headers, body = _parse(_raw(web_server, bad))
    assert status == 400, body[:300]
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] in ("BAD_REQUEST", "INVALID_JSON")
    assert CANARY not in body.decode()


def test_a_well_formed_request_still_works_on_the_same_server(web_server):
    status, headers, body = _parse(_raw(web_server, _request("Connection: close", line="GET /health/live HTTP/1.1")))
    assert status == 200 and json.loads(body) == {"status": "ok"}
