"""Worker liveness in Redis: a short-lived key per worker that /health/ready and /metrics read.

Cheaper and more reliable than a Celery broadcast ``inspect`` for a readiness probe. The keys
expire on the server (no clock skew between hosts); a set names them, so a probe reads two
replies instead of SCANning a keyspace that holds every job's event stream.
"""
from __future__ import annotations

import json
import os
import threading
import time

from mindq import runtime

PREFIX = "mindq:worker:"
NAMES = "mindq:workers"
INTERVAL_S = 5.0
TTL_S = 20

_stop = threading.Event()


def _describe(kind: str, queues: list[str]) -> dict:
    info = {"kind": kind, "queues": queues, "pid": os.getpid(), "at": time.time()}
    if kind == "gpu":
        from worker import serving

        info.update(serving.describe())
    return info


def start(hostname: str, kind: str, queues: list[str]) -> None:
    def beat() -> None:
        key = PREFIX + hostname
        while True:
            try:
                pipe = runtime.redis_client().pipeline(transaction=False)
                pipe.set(key, json.dumps(_describe(kind, queues)), ex=TTL_S)
                pipe.sadd(NAMES, hostname)
                pipe.execute()
            except Exception:  # Redis restarting: the next beat retries
                pass
            if _stop.wait(INTERVAL_S):
                runtime.redis_client().delete(key)
                runtime.redis_client().srem(NAMES, hostname)
                return

    threading.Thread(target=beat, daemon=True, name="heartbeat").start()


def stop() -> None:
    _stop.set()


def live_workers(r) -> list[dict]:
    names = sorted(n.decode() for n in r.smembers(NAMES))
    if not names:
        return []
    out, gone = [], []
    for name, raw in zip(names, r.mget([PREFIX + n for n in names])):
        if raw is None:  # expired: a worker that died without saying goodbye
            gone.append(name)
            continue
        info = json.loads(raw)
        info["hostname"] = name
        out.append(info)
    if gone:
        r.srem(NAMES, *gone)
    return out
