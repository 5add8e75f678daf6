"""The base class of job tasks: claim with a lease, log context, metrics, conditional finish.

A task only ever receives a job id. It claims the job (conditional UPDATE: not terminal, lease
free or expired), keeps the lease alive while it runs (tasks.leases), and finishes with a
conditional write, so a redelivered message (killed worker, Redis restart, reconciler) ends in
exactly one terminal state and one result.
"""
from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from celery import Task
from prometheus_client import Counter, Histogram

from core import failures
from core.errors import ErrorCode
from core.logs import log_context
from jobstore import runtime
from jobstore.crypto import DecryptionError
from jobstore.lifecycle import JobLifecycle
from jobstore.pg import Row
from tasks.callbacks import notify
from tasks.contract import Handler, JobCancelled, JobContext, JobError, RetryLater
from tasks.leases import leases

log = logging.getLogger("mindq.tasks")

JOBS_DONE = Counter("mindq_worker_jobs_total", "Jobs finished by this worker", ["type", "state"])
JOB_SECONDS = Histogram("mindq_worker_job_seconds", "Job run time in the worker", ["type"],
                        buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900))


class JobTask(Task):
    """Base for ``run_job``: everything around the handler that every job needs."""

    abstract = True
    handler_for: Callable[[str], Handler]

    def execute_job(self, job_id: str) -> str:
        """Run one job to its end; returns how it ended. Raises RetryLater when it cannot run now."""
        lifecycle, held = runtime.job_lifecycle(), leases()
        owner = f"{self.request.hostname}:{self.request.id}:{uuid.uuid4().hex[:8]}"
        claim = lifecycle.claim(job_id, owner, held.lease_s)
        if claim.status in ("terminal", "missing"):
            log.info("job skipped", extra={"job_id": job_id, "reason": claim.status})
            return claim.status
        if claim.status == "leased" or claim.job is None:
            # another execution holds a live lease; if it died the lease expires and we take over
            raise RetryLater(claim.retry_in)
        job = claim.job
        with log_context(job_id=job_id, tenant_id=str(job["tenant_id"]), job_type=job["type"],
                         attempt=claim.attempt):
            held.hold(job_id, owner)
            started = time.perf_counter()
            try:
                return self._run(lifecycle, job, claim.attempt, owner)
            finally:
                held.release(job_id)
                JOB_SECONDS.labels(job["type"]).observe(time.perf_counter() - started)

    def _run(self, lifecycle: JobLifecycle, job: Row, attempt: int, owner: str) -> str:
        job_id = str(job["id"])
        log.info("job started")
        try:
            try:
                payload = lifecycle.payload(job)
            except DecryptionError:
                raise JobError(ErrorCode.DECRYPTION_FAILED, "the job input cannot be decrypted with the "
                               "configured keys (was a key removed from MINDQ_ENCRYPTION_KEYS?)") from None
            ctx = JobContext(job=job, payload=payload, attempt=attempt, lifecycle=lifecycle,
                             watch_cancel=leases().on_lost)
            outcome = self.handler_for(job["type"])(ctx)
        except JobCancelled:
            log.info("job cancelled while running")
            JOBS_DONE.labels(job["type"], "cancelled").inc()
            return "cancelled"
        except JobError as exc:
            if lifecycle.fail(job_id, exc.code, exc.message, exc.details):
                notify(job)
            log.info("job failed", extra={"error_code": exc.code})
            JOBS_DONE.labels(job["type"], "failed").inc()
            return "failed"
        except Exception as exc:
            # the exception message may quote input: log only its type and where it happened
            log.error("job crashed", extra={"error_type": type(exc).__name__, "where": failures.where(exc)})
            if attempt < 3 and failures.is_transient(exc):
                lifecycle.release_lease(job_id, owner)  # the retry must not wait for our own lease
                raise RetryLater(2 ** attempt) from None
            if lifecycle.fail(job_id, ErrorCode.INTERNAL_ERROR,
                              f"the job failed unexpectedly ({type(exc).__name__})"):
                notify(job)
            JOBS_DONE.labels(job["type"], "failed").inc()
            return "failed"
        if lifecycle.succeed(job_id, outcome.result, model_id=outcome.model_id,
                            prompt_version=outcome.prompt_version):
            log.info("job succeeded")
            notify(job)
            JOBS_DONE.labels(job["type"], "succeeded").inc()
            return "succeeded"
        log.info("job finished elsewhere or was cancelled; result discarded")
        return "discarded"
