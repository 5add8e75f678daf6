"""A lean HTTP/1.1 load generator for the platform benchmarks (asyncio, keep-alive, one loop).

Written by hand rather than with httpx: the load generator shares the two cores with the stack it
measures, and httpx costs 0.7-3 ms of CPU per request (a third of what a whole job costs), which
the benchmark would otherwise book as platform slowness. This client does one write and a read of
the status line, headers and body per request, about 0.1 ms. It speaks exactly the subset the
API answers with: Content-Length bodies on a persistent connection.

Two modes:
- closed loop: ``clients`` connections each send their next request as soon as the last answer
  arrives (throughput at saturation; latency then is mostly queueing, by Little's law);
- open loop: requests are due at a fixed total rate spread over the connections, and latency
  counts from when a request was due, not when it was sent (no coordinated omission).
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)  # seconds, one per request
    ids: list[str] = field(default_factory=list)  # job ids from 202 answers
    errors: list[str] = field(default_factory=list)


class _Conn:
    def __init__(self, host: str, port: int, request: bytes) -> None:
        self.host, self.port, self.request = host, port, request
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(self.request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await self.reader.readexactly(length) if length else b""
        if b"connection: close" in head.lower():
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def _post(url: str, path: str, key: str, body: dict) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    payload = json.dumps(body).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
            f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n").encode()
    return parts.hostname, parts.port, head + payload


def _record(out: Outcome, status: int, body: bytes, latency: float) -> None:
    out.latencies.append(latency)
    if status == 202:
        out.ids.append(json.loads(body)["id"])
    else:
        out.errors.append(f"{status} {body[:200]!r}")


async def _closed(conn: _Conn, n: int, out: Outcome) -> None:
    for _ in range(n):
        t = time.perf_counter()
        status, body = await conn.send()
        _record(out, status, body, time.perf_counter() - t)


async def _open(conn: _Conn, due: list[float], out: Outcome) -> None:
    for at in due:
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        status, body = await conn.send()
        _record(out, status, body, time.perf_counter() - at)


def post_jobs(url: str, key: str, body: dict, *, n: int, clients: int, rate: float | None = None) -> Outcome:
    """POST ``body`` to /v1/jobs ``n`` times over ``clients`` keep-alive connections: closed loop,
    or open loop at ``rate`` requests/s in total when given."""
    host, port, request = _post(url, "/v1/jobs", key, body)
    out = Outcome()

    async def run() -> None:
        conns = [_Conn(host, port, request) for _ in range(clients)]
        per = [n // clients + (i < n % clients) for i in range(clients)]
        if rate is None:
            tasks = [_closed(c, k, out) for c, k in zip(conns, per, strict=True)]
        else:
            start = time.perf_counter() + 0.05
            # request j is due at start + j/rate; connection i takes every clients-th one
            tasks = [_open(c, [start + (i + clients * j) / rate for j in range(k)], out)
                     for i, (c, k) in enumerate(zip(conns, per, strict=True))]
        try:
            await asyncio.gather(*tasks)
        finally:
            for c in conns:
                c.close()

    asyncio.run(run())
    return out
