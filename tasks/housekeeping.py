"""Periodic tasks: the reconciler that re-enqueues jobs whose message was lost.

PostgreSQL, not Redis, decides whether a job exists. A queued job older than the grace period
whose id is in no broker queue, or a running job whose lease expired (its worker died), gets a
fresh message. A queued job whose message sits only in kombu's unacked set was delivered to a
worker that never claimed it (prefetch is 1, so a live worker claims at once): that worker is
gone, and its message would only come back after the visibility timeout. Duplicates are harmless: the claim and the conditional
finish let only one execution store a result.
"""
from __future__ import annotations

import logging

import redis

from mindq import runtime
from tasks.app import app
from tasks.enqueue import enqueue_job
from tasks.routing import QUEUES

log = logging.getLogger("mindq.reconcile")

LOCK_KEY = "mindq:lock:reconcile"


def job_ids_in_queues(r) -> set[str]:
    """Job ids of messages waiting in a queue (kombu's Redis layout: one list per queue)."""
    import json

    found: set[str] = set()

    def collect(raw: bytes) -> None:
        try:
            msg = json.loads(raw)
            task_id = msg.get("headers", {}).get("id")
        except (ValueError, AttributeError, IndexError):
            return
        if task_id:
            found.add(task_id)

    for queue in QUEUES:
        # kombu keeps one list per queue and priority step: "q", "q\x06\x163", ...
        for key in r.scan_iter(match=f"{queue}*", count=1000):
            if r.type(key) == b"list":
                for raw in r.lrange(key, 0, -1):
                    collect(raw)
    return found


def reconcile_once(grace_s: float) -> int:
    service = runtime.job_service()
    stale = service.stale_jobs(grace_s)
    if not stale:
        return 0
    present = job_ids_in_queues(runtime.redis_client())
    requeued = 0
    for job in stale:
        job_id = str(job["id"])
        if job["state"] == "queued" and job_id in present:
            continue
        enqueue_job(job_id, job["queue"])
        requeued += 1
        log.warning("job re-enqueued", extra={"job_id": job_id, "tenant_id": str(job["tenant_id"]),
                                              "state": job["state"]})
    # queued ones (still waiting in a long queue, or just re-sent): look again after another grace period
    service.touch([j["id"] for j in stale if j["state"] == "queued"])
    return requeued


@app.task(name="mindq.reconcile", ignore_result=True)
def reconcile() -> int:
    s = runtime.settings()
    r = runtime.redis_client()
    # redis-py's Lock releases only a lock it still owns: a slow run cannot drop the next run's lock
    lock = r.lock(LOCK_KEY, timeout=max(int(s.reconcile_interval), 5), blocking=False)
    if not lock.acquire():
        return 0  # another reconciler is running
    try:
        return reconcile_once(s.reconcile_grace)
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            pass  # expired while we ran; the next run holds it now
