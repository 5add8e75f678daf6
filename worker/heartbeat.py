"""This worker's entry in the registry (jobstore.workers), refreshed every few seconds."""
from __future__ import annotations

import logging
import os
import threading
import time

import redis

from jobstore import runtime, workers

log = logging.getLogger("mindq.worker")
INTERVAL_S = 5.0

_stop = threading.Event()


def _describe(kind: str, queues: list[str]) -> dict:
    info = {"kind": kind, "queues": queues, "pid": os.getpid(), "at": time.time()}
    if kind == "gpu":
        from tasks import serving

        info.update(serving.describe())
    return info


def start(hostname: str, kind: str, queues: list[str]) -> None:
    def beat() -> None:
        failing = False
        while True:
            try:
                workers.announce(runtime.redis_client(), hostname, _describe(kind, queues))
                failing = False
            except redis.RedisError as exc:  # Redis restarting: the next beat retries
                if not failing:  # once per outage, not every beat
                    log.warning("heartbeat not written", extra={"error_type": type(exc).__name__})
                failing = True
            if _stop.wait(INTERVAL_S):
                try:
                    workers.withdraw(runtime.redis_client(), hostname)
                except redis.RedisError:
                    pass  # the key expires on its own within TTL_S
                return

    threading.Thread(target=beat, daemon=True, name="heartbeat").start()


def stop() -> None:
    _stop.set()
