"""One base class for job tasks: claim with a lease, log context, metrics, conditional finish.

A task only ever receives a job id. It claims the job (conditional UPDATE: not terminal, lease
free or expired), keeps the lease alive while it runs, and finishes with a conditional write, so
a redelivered message (killed worker, Redis restart, reconciler) ends in exactly one terminal
state and one result.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
import uuid
from typing import Any, Callable

from celery import Task
from prometheus_client import Counter, Histogram

from jobstore.crypto import DecryptionError
from mindq import failures, runtime
from mindq.logs import log_context

log = logging.getLogger("mindq.tasks")

# how long a silent execution keeps a job; renewed every third of it while the task runs
LEASE_S = runtime.settings().lease_seconds
JOBS_DONE = Counter("mindq_worker_jobs_total", "Jobs finished by this worker", ["type", "state"])
JOB_SECONDS = Histogram("mindq_worker_job_seconds", "Job run time in the worker", ["type"],
                        buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900))


class JobError(Exception):
    """An expected failure with a stable code; its message is safe to show (never patient text)."""

    def __init__(self, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


class JobCancelled(Exception):
    pass


class RetryLater(Exception):
    """The job cannot run now (another execution's live lease, a transient outage): send it
    again in ``countdown`` seconds."""

    def __init__(self, countdown: float):
        super().__init__(countdown)
        self.countdown = countdown


@dataclasses.dataclass
class JobContext:
    job: dict
    payload: dict
    attempt: int

    @property
    def id(self) -> str:
        return str(self.job["id"])

    @property
    def type(self) -> str:
        return self.job["type"]

    @property
    def options(self) -> dict:
        return self.job.get("options") or {}

    @property
    def priority(self) -> str:
        return self.job["priority"]

    def stage(self, stage: str, progress: int, **extra: Any) -> None:
        """Persist a stage change and stream it; raises JobCancelled if the job was cancelled."""
        if not runtime.job_service().set_stage(self.id, stage, progress, extra or None):
            raise JobCancelled(self.id)

    def on_cancel(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (from the lease thread) if the job is cancelled while it runs."""
        LEASES.on_lost(self.id, callback)

    def progress_event(self, stage: str, progress: int, **extra: Any) -> None:
        """Stream-only progress (token counts): too frequent to write to PostgreSQL each time."""
        runtime.job_service().set_stage(self.id, stage, progress, extra or None, persist=False)


@dataclasses.dataclass
class Outcome:
    result: dict
    model_id: str | None = None
    prompt_version: str | None = None


class _Leases:
    """One thread per process renews the leases of every job it runs, in one UPDATE, and tells
    a running job when it was cancelled (its lease is then no longer renewable), so no task
    thread has to poll the database for that."""

    TICK_S = min(LEASE_S / 3, 2.0)

    def __init__(self) -> None:
        self._held: dict[str, str] = {}
        self._on_lost: dict[str, Callable[[], None]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def on_lost(self, job_id: str, callback: Callable[[], None]) -> None:
        with self._lock:
            self._on_lost[job_id] = callback

    def hold(self, job_id: str, owner: str) -> None:
        with self._lock:
            self._held[job_id] = owner
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True, name="lease-renewer")
                self._thread.start()

    def release(self, job_id: str) -> None:
        with self._lock:
            self._held.pop(job_id, None)
            self._on_lost.pop(job_id, None)

    def _run(self) -> None:
        while True:
            time.sleep(self.TICK_S)
            with self._lock:
                held = list(self._held.items())
            if not held:
                continue
            try:
                renewed = runtime.job_service().renew_leases(held, LEASE_S)
            except Exception as exc:  # a failed renewal only risks a harmless duplicate run
                log.warning("lease renewal failed", extra={"error_type": type(exc).__name__})
                continue
            for job_id, _ in held:
                if job_id not in renewed:
                    with self._lock:
                        callback = self._on_lost.pop(job_id, None) if job_id in self._held else None
                    if callback is not None:
                        callback()


LEASES = _Leases()


class JobTask(Task):
    """Base for ``run_job``: everything around the handler that every job needs."""

    abstract = True
    handler_for: Callable[[str], Callable[[JobContext], Outcome]]

    def execute_job(self, job_id: str) -> str:
        """Run one job to its end; returns how it ended. Raises RetryLater when it cannot run now."""
        service = runtime.job_service()
        owner = f"{self.request.hostname}:{self.request.id}:{uuid.uuid4().hex[:8]}"
        claim = service.claim(job_id, owner, LEASE_S)
        if claim.status in ("terminal", "missing"):
            log.info("job skipped", extra={"job_id": job_id, "reason": claim.status})
            return claim.status
        if claim.status == "leased":
            # another execution holds a live lease; if it died the lease expires and we take over
            raise RetryLater(claim.retry_in)
        job = claim.job
        with log_context(job_id=job_id, tenant_id=str(job["tenant_id"]), job_type=job["type"],
                         attempt=claim.attempt):
            LEASES.hold(job_id, owner)
            started = time.perf_counter()
            try:
                return self._run(service, job, claim.attempt, owner)
            finally:
                LEASES.release(job_id)
                JOB_SECONDS.labels(job["type"]).observe(time.perf_counter() - started)

    def _run(self, service, job: dict, attempt: int, owner: str) -> str:
        job_id = str(job["id"])
        log.info("job started")
        try:
            try:
                payload = service.payload(job)
            except DecryptionError:
                raise JobError("DECRYPTION_FAILED", "the job input cannot be decrypted with the "
                               "configured keys (was a key removed from MINDQ_ENCRYPTION_KEYS?)")
            ctx = JobContext(job=job, payload=payload, attempt=attempt)
            outcome = self.handler_for(job["type"])(ctx)
        except JobCancelled:
            log.info("job cancelled while running")
            JOBS_DONE.labels(job["type"], "cancelled").inc()
            return "cancelled"
        except JobError as exc:
            if service.fail(job_id, exc.code, exc.message, exc.details):
                _notify(job)
            log.info("job failed", extra={"error_code": exc.code})
            JOBS_DONE.labels(job["type"], "failed").inc()
            return "failed"
        except Exception as exc:
            # the exception message may quote input: log only its type and where it happened
            log.error("job crashed", extra={"error_type": type(exc).__name__, "where": failures.where(exc)})
            if attempt < 3 and failures.is_transient(exc):
                service.release_lease(job_id, owner)  # the retry must not wait for our own lease
                raise RetryLater(2 ** attempt)
            if service.fail(job_id, "INTERNAL_ERROR", f"the job failed unexpectedly ({type(exc).__name__})"):
                _notify(job)
            JOBS_DONE.labels(job["type"], "failed").inc()
            return "failed"
        if service.succeed(job_id, outcome.result, model_id=outcome.model_id,
                           prompt_version=outcome.prompt_version):
            log.info("job succeeded")
            _notify(job)
            JOBS_DONE.labels(job["type"], "succeeded").inc()
            return "succeeded"
        log.info("job finished elsewhere or was cancelled; result discarded")
        return "discarded"


def _notify(job: dict) -> None:
    if job.get("callback_url"):
        from tasks.callbacks import schedule

        try:
            schedule(job)
        except Exception as exc:  # the result is stored; a lost callback must not fail the job
            log.warning("callback not scheduled", extra={"error_type": type(exc).__name__})

