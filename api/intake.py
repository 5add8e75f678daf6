"""Group commit of job submissions: the submissions a web process receives while it is writing
the previous ones are written together, one INSERT statement for their job and audit rows and one
Redis pipeline for their Celery messages.

On two cores a submission's round trips to PostgreSQL and Redis cost more than the rest of the
request. A lone submission is written on its own, at no added delay: nothing waits for a batch
to fill, a batch is simply whatever queued up meanwhile. Each request still answers only once its
own row is committed and its message sent.

One writer thread per process (a greenlet under gevent) takes the queue; request threads wait
on their own event.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import threading

import kombu.exceptions
import redis

from jobstore.jobs import JobService, NewJob
from tasks.enqueue import enqueue_jobs

log = logging.getLogger("mindq.api")
MAX_BATCH = 200
WAIT_S = 60.0  # a request never outlives a stuck writer by more than this


@dataclasses.dataclass
class _Submission:
    new: NewJob
    actor: str
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    job: dict | None = None  # None with no error: its Idempotency-Key was taken
    error: BaseException | None = None


class Intake:
    def __init__(self, service_factory):
        self._service = service_factory
        self._pending: list[_Submission] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._owner_pid: int | None = None  # the writer thread does not survive a fork

    def submit(self, new: NewJob, actor: str) -> tuple[dict, bool]:
        """Write one job and send its message; returns (row, created) like JobService.create.
        Raises what the write raised (IdempotencyConflict, database errors)."""
        item = _Submission(new, actor)
        with self._lock:
            self._pending.append(item)
        if self._owner_pid != os.getpid():
            self._start()
        self._wake.set()
        if not item.done.wait(WAIT_S):
            raise TimeoutError("job intake writer did not answer")
        if item.error is not None:
            raise item.error
        if item.job is None:  # its Idempotency-Key was taken: the earlier job, or a conflict
            return self._service().existing(new), False
        return item.job, True

    def _start(self) -> None:
        with self._lock:
            if self._owner_pid == os.getpid():
                return
            self._owner_pid = os.getpid()
        threading.Thread(target=self._run, daemon=True, name="job-intake").start()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            while True:
                with self._lock:
                    batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                if not batch:
                    break
                self._write(batch)

    def _write(self, batch: list[_Submission]) -> None:
        try:
            service: JobService = self._service()
            rows = service.create_many([(s.new, s.actor) for s in batch])
            for item, row in zip(batch, rows):
                item.job = row
            enqueue_or_defer([row for row in rows if row is not None])
        except Exception as exc:  # each waiting request answers with it (503 for an outage)
            for item in batch:
                item.error = exc
        finally:  # every waiting request must hear back, whatever happened
            for item in batch:
                item.done.set()


def enqueue_or_defer(created: list[dict]) -> None:
    """Send the jobs' messages; if Redis is down, leave them to the reconciler."""
    if not created:
        return
    try:
        enqueue_jobs(created)
    except (redis.RedisError, OSError, kombu.exceptions.KombuError) as exc:
        # the jobs are durable in PostgreSQL; the reconciler sends them once Redis is back
        log.warning("enqueue deferred to the reconciler",
                    extra={"job_ids": [str(j["id"]) for j in created], "error_type": type(exc).__name__})
