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
import time
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


BROKER_PAUSE_S = 2.0  # after a failed send, submissions skip the broker this long
MAX_HELD = 20_000  # jobs held for a resend; beyond that the oldest are left to the reconciler


class _Outbox:
    """Messages that Redis could not take. During an outage a submission is still accepted (its
    job is durable in PostgreSQL) and answers at once: after one failed send, the next ones skip
    the broker for BROKER_PAUSE_S instead of each waiting out kombu's retries. The jobs are held
    here and sent with the next submission, or by a retry thread once the pause is over; the
    reconciler sends any this process could not (it restarted, or held too many)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._held: dict[str, dict] = {}  # job id -> {"id", "queue"}: all a message needs
        self._retrying: threading.Thread | None = None

    def send(self, created: list[dict]) -> None:
        fresh = [{"id": j["id"], "queue": j["queue"]} for j in created]
        with self._lock:
            if time.monotonic() < self._down_until:
                self._hold(fresh)
                held = True
            else:
                batch = [*self._held.values(), *fresh]
                self._held.clear()
                held = False
        if held:
            self._ensure_retrying()
            return
        try:
            enqueue_jobs(batch)
        except Exception as exc:  # whatever it was, the batch is held again: never dropped here
            with self._lock:
                self._down_until = time.monotonic() + BROKER_PAUSE_S
                self._hold(batch)
            self._ensure_retrying()
            expected = isinstance(exc, (redis.RedisError, OSError, kombu.exceptions.KombuError))
            log.warning("enqueue deferred: broker unavailable" if expected else "enqueue deferred: send failed",
                        extra={"jobs": len(batch), "error_type": type(exc).__name__})
            return
        if len(batch) > len(fresh):
            log.info("deferred jobs sent", extra={"jobs": len(batch) - len(fresh)})

    def _hold(self, jobs: list[dict]) -> None:
        """Under the lock, which is never held across anything that may yield: in a gevent web
        process the lock may predate monkey-patching (a real lock), and a greenlet that waited on
        it while another held it across a switch would block the whole process."""
        for job in jobs:
            self._held[str(job["id"])] = job
        while len(self._held) > MAX_HELD:
            self._held.pop(next(iter(self._held)))

    def _ensure_retrying(self) -> None:
        with self._lock:
            if self._retrying is not None and self._retrying.is_alive():
                return
            self._retrying = thread = threading.Thread(target=self._retry, daemon=True, name="intake-outbox")
        thread.start()  # outside the lock: start() waits for the thread, a switch under gevent

    def _retry(self) -> None:
        """Send what is held once the broker may be back, until nothing is held."""
        while True:
            with self._lock:
                wait = max(self._down_until - time.monotonic(), 0.0) + 0.1
            time.sleep(wait)
            with self._lock:
                if not self._held:
                    self._retrying = None  # under the lock: the next hold starts a new thread
                    return
                if time.monotonic() < self._down_until:
                    continue
            try:
                self.send([])
            except Exception as exc:  # never let the thread die with jobs held; the reconciler remains
                log.warning("deferred jobs not sent", extra={"error_type": type(exc).__name__})
                time.sleep(BROKER_PAUSE_S)

    def held(self) -> int:
        with self._lock:
            return len(self._held)


_outbox = _Outbox()


def held_messages() -> int:
    """Jobs this process accepted whose messages wait for the broker (0 in normal operation)."""
    return _outbox.held()


def enqueue_or_defer(created: list[dict]) -> None:
    """Send the jobs' messages; while Redis is down, hold them for the next send that works
    (and the reconciler): a submission never waits on a dead broker."""
    if created:
        _outbox.send(created)
