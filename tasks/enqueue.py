"""Sending job messages: the only place that knows the task name and message shape."""
from __future__ import annotations

import uuid

from tasks.app import app

RUN_JOB = "mindq.run_job"


def enqueue_job(job_id: uuid.UUID | str, queue: str, producer=None) -> None:
    # the task id is the job id: revoke(job_id) and the reconciler's broker scan find it
    app.send_task(RUN_JOB, args=[str(job_id)], queue=queue, task_id=str(job_id), producer=producer)


def enqueue_jobs(jobs: list[dict]) -> None:
    """Many jobs over one broker connection, their messages in one Redis pipeline (kombu's
    producer batch) rather than a round trip each."""
    with app.producer_or_acquire() as producer:
        if len(jobs) == 1:
            enqueue_job(jobs[0]["id"], jobs[0]["queue"], producer=producer)
            return
        with producer.batch():
            for job in jobs:
                enqueue_job(job["id"], job["queue"], producer=producer)


def revoke_job(job_id: uuid.UUID | str) -> None:
    app.control.revoke(str(job_id))
