"""Worker liveness in Redis: a short-lived key per worker that /health/ready and /metrics read.

Cheaper and more reliable than a Celery broadcast ``inspect`` for a readiness probe.
"""
from __future__ import annotations

import json
import os
import threading
import time

from mindq import runtime

PREFIX = "mindq:worker:"
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
                runtime.redis_client().set(key, json.dumps(_describe(kind, queues)), ex=TTL_S)
            except Exception:  # Redis restarting: the next beat retries
                pass
            if _stop.wait(INTERVAL_S):
                runtime.redis_client().delete(key)
                return

    threading.Thread(target=beat, daemon=True, name="heartbeat").start()


def stop() -> None:
    _stop.set()


def live_workers(r) -> list[dict]:
    out = []
    for key in r.scan_iter(match=PREFIX + "*", count=200):
        raw = r.get(key)
        if raw:
            info = json.loads(raw)
            info["hostname"] = key.decode()[len(PREFIX):]
            out.append(info)
    return out
