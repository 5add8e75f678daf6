"""Sending job messages: the only place that knows the task names and message shapes.

A job travels alone (``mindq.run_job``, task id = job id) unless it is a cpu job submitted
together with others: those share ``mindq.run_jobs`` messages of up to
MINDQ_CPU_JOBS_PER_MESSAGE job ids. A cpu job takes about a millisecond, as long as Celery's
own work per message in the worker (fetch, reserve, dispatch to the pool, ack, task events), so
a group of concurrent submissions costs that once per message rather than once per job. gpu
jobs always travel alone: each needs its own task thread to join the engine's batch.
"""
from __future__ import annotations

import base64
import json
import math
import uuid
from collections.abc import Iterator

from core import config
from tasks.app import app
from tasks.routing import CPU_QUEUE

RUN_JOB = "mindq.run_job"
RUN_JOBS = "mindq.run_jobs"


def enqueue_job(job_id: uuid.UUID | str, queue: str, producer=None, countdown: float | None = None) -> None:
    # the task id is the job id: revoke(job_id) and the reconciler's broker scan find it
    app.send_task(RUN_JOB, args=[str(job_id)], queue=queue, task_id=str(job_id), producer=producer,
                  countdown=countdown)


def enqueue_jobs(jobs: list[dict]) -> None:
    """Many jobs over one broker connection, their messages in one Redis pipeline (kombu's
    producer batch) rather than a round trip each; cpu jobs grouped (see the module docstring)."""
    messages = list(_messages(jobs, config.settings().cpu_jobs_per_message))
    with app.producer_or_acquire() as producer:
        if len(messages) == 1:
            _send(*messages[0], producer=producer)
            return
        with producer.batch():
            for queue, ids in messages:
                _send(queue, ids, producer=producer)


def _messages(jobs: list[dict], per_message: int) -> Iterator[tuple[str, list[str]]]:
    """(queue, job ids) per message: cpu jobs in as few messages as ``per_message`` allows, of
    even sizes (so every pool process gets a share), every other job alone."""
    cpu = [str(j["id"]) for j in jobs if j["queue"] == CPU_QUEUE]
    if cpu:
        count = math.ceil(len(cpu) / per_message)
        for i in range(count):
            yield CPU_QUEUE, cpu[i * len(cpu) // count:(i + 1) * len(cpu) // count]
    for job in jobs:
        if job["queue"] != CPU_QUEUE:
            yield job["queue"], [str(job["id"])]


def _send(queue: str, ids: list[str], producer) -> None:
    if len(ids) == 1:
        enqueue_job(ids[0], queue, producer=producer)
    else:
        app.send_task(RUN_JOBS, args=[ids], queue=queue, producer=producer)


def job_ids_in_message(message: dict) -> list[str]:
    """The job ids a raw kombu message (as stored in a Redis queue) carries."""
    headers = message.get("headers") or {}
    if headers.get("task") == RUN_JOBS:
        body = message.get("body") or ""
        if (message.get("properties") or {}).get("body_encoding") == "base64":
            body = base64.b64decode(body)
        args = json.loads(body)[0]
        return [str(job_id) for job_id in args[0]]
    return [headers["id"]] if headers.get("id") else []


def revoke_job(job_id: uuid.UUID | str) -> None:
    # reaches a job that travels alone; a grouped one is skipped by its claim instead
    app.control.revoke(str(job_id))
