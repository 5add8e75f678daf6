"""Periodic tasks: the reconciler that re-enqueues jobs whose message was lost, and the
retention purge that erases finished jobs' encrypted inputs after MINDQ_INPUT_RETENTION_DAYS.

PostgreSQL, not Redis, decides whether a job exists. A queued job older than the grace period
whose id is in no broker queue, or a running job whose lease expired (its worker died), gets a
fresh message. A queued job whose message sits only in kombu's unacked set was delivered to a
worker that never claimed it: a live worker reserves only a few messages (MINDQ_CPU_PREFETCH of
millisecond jobs, up to MINDQ_CPU_JOBS_PER_MESSAGE each; one per gpu task thread) and claims
them within the grace period, so that worker is gone, and its message would only come back after
the visibility timeout. Duplicates are
harmless: the claim and the conditional finish let only one execution store a result.
"""
from __future__ import annotations

import datetime as dt
import logging

import redis

from core import config
from jobstore import runtime
from tasks.app import app
from tasks.enqueue import enqueue_job, job_ids_in_message
from tasks.routing import QUEUES

log = logging.getLogger("mindq.reconcile")

LOCK_KEY = "mindq:lock:reconcile"


def queue_keys() -> list[str]:
    """kombu's Redis lists for our queues: one per queue and priority step ("q", "q\x06\x163", ...).
    Named from kombu's own constants rather than found by SCAN, which walks the whole keyspace
    (every job's event stream included) on every run."""
    from kombu.transport.redis import PRIORITY_STEPS, Channel

    return [name if not step else f"{name}{Channel.sep}{step}" for name in QUEUES for step in PRIORITY_STEPS]


def job_ids_in_queues(r, chunk: int = 5000) -> set[str]:
    """Job ids of messages waiting in a queue, read in chunks so a nightly batch's long queue
    never arrives as one giant reply. A message missed while the list moves between chunks only
    means one harmless duplicate message (the claim lets one execution through)."""
    import json

    found: set[str] = set()
    for key in queue_keys():
        start = 0
        while raws := r.lrange(key, start, start + chunk - 1):
            for raw in raws:
                try:
                    found.update(job_ids_in_message(json.loads(raw)))
                except (ValueError, TypeError, AttributeError, IndexError, KeyError):
                    continue  # not one of our messages
            start += chunk
    return found


def reconcile_once(grace_s: float) -> int:
    service = runtime.job_maintenance()
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
    s = config.settings()
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


PURGE_SLICE = 1000  # jobs per purge transaction


@app.task(name="mindq.purge_inputs", ignore_result=True)
def purge_inputs() -> int:
    days = config.settings().input_retention_days
    if days <= 0:
        return 0
    service, total = runtime.job_maintenance(), 0
    while True:  # in slices, so no transaction holds many rows for long
        n = service.purge_inputs(dt.timedelta(days=days), limit=PURGE_SLICE)
        total += n
        if n < PURGE_SLICE:
            break
    if total:
        log.info("job inputs erased", extra={"jobs": total, "older_than_days": days})
    return total
