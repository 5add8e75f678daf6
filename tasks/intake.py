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
import threading
from collections.abc import Callable

import kombu.exceptions
import redis

from core.background import BackgroundThread, Mailbox
from jobstore.intake import JobIntake, NewJob
from tasks.enqueue import enqueue_jobs

log = logging.getLogger("mindq.intake")
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
    def __init__(self, service_factory: Callable[[], JobIntake]) -> None:
        self._service = service_factory
        self._pending: Mailbox[_Submission] = Mailbox()
        self._writer = BackgroundThread("job-intake", self._drain)

    def submit(self, new: NewJob, actor: str) -> tuple[dict, bool]:
        """Write one job and send its message; returns (row, created). Raises what the write
        raised (IdempotencyConflict, database errors)."""
        item = _Submission(new, actor)
        self._pending.put(item)
        self._writer.wake()
        if not item.done.wait(WAIT_S):
            raise TimeoutError("job intake writer did not answer")
        if item.error is not None:
            raise item.error
        if item.job is None:  # its Idempotency-Key was taken: the earlier job, or a conflict
            return self._service().existing(new), False
        return item.job, True

    def _drain(self) -> None:
        while batch := self._pending.take(MAX_BATCH):
            self._write(batch)

    def _write(self, batch: list[_Submission]) -> None:
        try:
            rows = self._service().create_many([(s.new, s.actor) for s in batch])
            for item, row in zip(batch, rows, strict=True):
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
