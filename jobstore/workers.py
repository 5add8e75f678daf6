"""The worker registry in Redis: a short-lived key per worker that /health/ready and /metrics read.

Cheaper and more reliable than a Celery broadcast ``inspect`` for a readiness probe. The keys
expire on the server (no clock skew between hosts); a set names them, so a probe reads two
replies instead of SCANning a keyspace that holds every job's event stream.
"""
from __future__ import annotations

import json
from typing import Any

import redis

PREFIX = "mindq:worker:"
NAMES = "mindq:workers"
TTL_S = 20


def announce(r: redis.Redis, hostname: str, info: dict[str, Any]) -> None:
    """Say this worker is alive for the next TTL_S seconds."""
    pipe = r.pipeline(transaction=False)
    pipe.set(PREFIX + hostname, json.dumps(info), ex=TTL_S)
    pipe.sadd(NAMES, hostname)
    pipe.execute()


def withdraw(r: redis.Redis, hostname: str) -> None:
    """A clean shutdown: leave the registry now rather than after TTL_S."""
    pipe = r.pipeline(transaction=False)
    pipe.delete(PREFIX + hostname)
    pipe.srem(NAMES, hostname)
    pipe.execute()


def live_workers(r: redis.Redis) -> list[dict[str, Any]]:
    names = sorted(n.decode() for n in r.smembers(NAMES))  # type: ignore[union-attr]
    if not names:
        return []
    out, gone = [], []
    for name, raw in zip(names, r.mget([PREFIX + n for n in names]), strict=True):  # type: ignore[arg-type]
        if raw is None:  # expired: a worker that died without saying goodbye
            gone.append(name)
            continue
        info = json.loads(raw)
        info["hostname"] = name
        out.append(info)
    if gone:
        r.srem(NAMES, *gone)
    return out
