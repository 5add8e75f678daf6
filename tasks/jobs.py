"""Task definitions: ``mindq.run_job`` (one job), ``mindq.run_jobs`` (cpu jobs that were
submitted together, see tasks.enqueue) and ``mindq.noop`` (the benchmark's raw rate)."""
from __future__ import annotations

import collections
import logging

from celery.exceptions import SoftTimeLimitExceeded

from core import failures
from tasks.app import app
from tasks.base import JobTask
from tasks.contract import RetryLater
from tasks.enqueue import enqueue_job
from tasks.handlers import handler_for
from tasks.routing import CPU_QUEUE

log = logging.getLogger("mindq.tasks")


class RunJob(JobTask):
    handler_for = staticmethod(handler_for)
    # retries wait for another execution's lease or for a transient outage; the job row, not a
    # retry counter, bounds them (a transient failure is retried at most 3 times per attempt)
    max_retries = None


@app.task(name="mindq.run_job", base=RunJob, bind=True)
def run_job(self: RunJob, job_id: str) -> str:
    try:
        return self.execute_job(job_id)
    except RetryLater as later:
        raise self.retry(countdown=later.countdown) from None


@app.task(name="mindq.run_jobs", base=RunJob, bind=True)
def run_jobs(self: RunJob, job_ids: list[str]) -> dict[str, int]:
    """Each job as ``run_job`` would run it, one after the other. A job that must wait goes back
    to the queue alone; one whose claim failed is left to the reconciler (as a failed ``run_job``
    would be), and the rest of the message still runs."""
    ended: collections.Counter[str] = collections.Counter()
    for job_id in job_ids:
        try:
            ended[self.execute_job(job_id)] += 1
        except RetryLater as later:
            _send_again(job_id, later.countdown)
            ended["retried"] += 1
        except SoftTimeLimitExceeded:
            raise  # the message's time is up: the hard limit follows, redelivery resumes the rest
        except Exception as exc:
            log.error("job not started", extra={"job_id": job_id, "error_type": type(exc).__name__,
                                                "where": failures.where(exc)})
            ended["not started"] += 1
    return dict(ended)


def _send_again(job_id: str, countdown: float) -> None:
    try:
        enqueue_job(job_id, CPU_QUEUE, countdown=countdown)
    except Exception as exc:  # the job is still queued or leased in PostgreSQL: the reconciler sends it
        log.warning("job retry not sent", extra={"job_id": job_id, "error_type": type(exc).__name__})


@app.task(name="mindq.noop")
def noop(i: int = 0) -> int:
    return i
