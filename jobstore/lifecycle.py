"""The worker's state machine over a job, and cancellation: conditional writes, leases, events.

Every write after creation is conditional on the job not being terminal, so a redelivered or
duplicated task can never move a finished job or store a second result (``results.job_id`` is
the primary key, and the result insert and the terminal update are one statement). A lease
(owner token + expiry, renewed while a task runs) lets a redelivered task tell a live execution
from a dead one. Each change is announced on the job's event stream after it is written.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from typing import Any

import redis
from psycopg.types.json import Jsonb

from jobstore import events, statements
from jobstore.crypto import Cipher
from jobstore.pg import Row, Sql
from jobstore.tables import TERMINAL_STATES
from jobstore.values import as_uuid, utcnow

log = logging.getLogger("mindq.jobs")


@dataclasses.dataclass(frozen=True)
class Claim:
    status: str  # claimed | terminal | leased | missing
    retry_in: float = 0.0
    attempt: int = 0
    job: Row | None = None


class JobLifecycle:
    """``worker_sql``: the worker's writes that nobody has been told about yet (claim, stage,
    leases), on connections whose commits do not wait for the WAL flush. Safe for them: if the
    database loses such a commit in a crash, the job falls back to queued/running with an expired
    lease and the reconciler runs it again, unseen; the job itself (inserted by the API with a
    synchronous commit) is never lost. It spares a disk flush per state change. ``sql``: what is
    announced as final, committed durably before the announcement: the terminal state and its
    result (an event, a callback or a GET may report them at once, and a database crash must not
    bring such a job back to ``queued`` to run again), and cancellation."""

    def __init__(self, sql: Sql, worker_sql: Sql, r: redis.Redis, cipher: Cipher) -> None:
        self.sql = sql
        self.worker_sql = worker_sql
        self.redis = r
        self.cipher = cipher
        self._event_buffer: events.EventBuffer | None = None

    # -- events -------------------------------------------------------------------------------
    def defer_events(self, linger_s: float) -> None:
        """In a worker process: non-terminal events wait up to ``linger_s`` to share a Redis round
        trip with the next one (see events.EventBuffer); 0 sends each at once."""
        self._event_buffer = events.EventBuffer(self.redis, linger_s) if linger_s > 0 else None

    def flush_events(self) -> None:
        if self._event_buffer is not None:
            try:
                self._event_buffer.flush()
            except redis.RedisError as exc:
                log.warning("events not published", extra={"error_type": type(exc).__name__})

    def _publish_event(self, job_id: str, event: dict[str, Any], *, defer: bool = False) -> None:
        # PostgreSQL already holds the change; a lost event only delays the SSE feed, whose
        # reader falls back to the job row for the terminal state
        event = {"job_id": job_id, "at": utcnow().isoformat(), **event}
        buffer = self._event_buffer
        try:
            if buffer is None:
                events.publish(self.redis, job_id, event)
            elif defer:
                buffer.add(job_id, event)
            else:
                buffer.send(job_id, event)
        except redis.RedisError as exc:
            log.warning("event not published", extra={"job_id": job_id, "error_type": type(exc).__name__})

    # -- the worker's side --------------------------------------------------------------------
    def claim(self, job_id: str, owner: str, lease_s: float) -> Claim:
        """Take the job for this execution unless it is finished or another live execution has it."""
        now = utcnow()
        row = self.worker_sql.one(statements.CLAIM, {"job_id": as_uuid(job_id), "now": now, "owner": owner,
                                                     "expires": now + dt.timedelta(seconds=lease_s)})
        if row is None:
            held = self.worker_sql.one(statements.LEASE_STATE, {"job_id": as_uuid(job_id)})
            if held is None:
                return Claim("missing")
            if held["state"] in TERMINAL_STATES:
                return Claim("terminal")
            return Claim("leased", retry_in=max(1.0, (held["lease_expires_at"] - now).total_seconds() + 0.5))
        self._publish_event(job_id, {"state": "running", "stage": row["stage"], "progress": row["progress"],
                                     "attempt": row["attempts"]}, defer=True)
        return Claim("claimed", attempt=row["attempts"], job=row)

    def payload(self, job: Row) -> dict[str, Any]:
        return self.cipher.decrypt_json(job["input_ciphertext"])

    def renew_leases(self, held: list[tuple[str, str]], lease_s: float) -> set[str]:
        """Extend the leases of (job id, owner) pairs still owned and not terminal; returns the
        ids renewed. A held job missing from the answer was cancelled (or taken over)."""
        rows = self.worker_sql.all(statements.RENEW_LEASES, {
            "ids": [as_uuid(job_id) for job_id, _ in held], "owners": [owner for _, owner in held],
            "expires": utcnow() + dt.timedelta(seconds=lease_s)})
        return {str(r["id"]) for r in rows}

    def release_lease(self, job_id: str, owner: str) -> None:
        self.worker_sql.count(statements.RELEASE_LEASE, {"job_id": as_uuid(job_id), "owner": owner,
                                                         "now": utcnow()})

    def set_stage(self, job_id: str, stage: str, progress: int, extra: dict[str, Any] | None = None,
                  *, persist: bool = True) -> bool:
        """Record a stage/progress change; ``persist=False`` only streams it (token progress).
        False when the job is terminal (cancelled while it ran)."""
        if persist and self.worker_sql.count(statements.SET_STAGE, {
                "job_id": as_uuid(job_id), "stage": stage, "progress": progress, "now": utcnow()}) != 1:
            return False
        self._publish_event(job_id, {"state": "running", "stage": stage, "progress": progress, **(extra or {})},
                            defer=True)
        return True

    def succeed(self, job_id: str, result: dict[str, Any], *, model_id: str | None = None,
                prompt_version: str | None = None) -> bool:
        """Store the one result and finish the job, atomically and durably (a synchronous commit:
        the event below announces it); False if it was already terminal."""
        row = self.sql.one(statements.SUCCEED, {
            "job_id": as_uuid(job_id), "now": utcnow(), "ciphertext": self.cipher.encrypt_json(result),
            "model_id": model_id, "prompt_version": prompt_version})
        if row is None:
            return False
        self._publish_event(job_id, {"state": "succeeded", "stage": "done", "progress": 100})
        return True

    def fail(self, job_id: str, code: str, message: str, details: dict[str, Any] | None = None) -> bool:
        error = {"code": code, "message": message, "details": details or {}}
        if self.sql.count(statements.FAIL, {"job_id": as_uuid(job_id), "now": utcnow(),
                                            "error": Jsonb(error)}) != 1:  # durable before announced
            return False
        self._publish_event(job_id, {"state": "failed", "stage": "done", "progress": 100, "error": error})
        return True

    # -- the user's side ----------------------------------------------------------------------
    def cancel(self, job_id: uuid.UUID, tenant_id: uuid.UUID, *, actor: str) -> Row | None:
        """Cancel a non-terminal job (and audit it); returns the updated row, or None when it was
        already terminal or is not the tenant's."""
        job = self.sql.one(statements.CANCEL, {"job_id": as_uuid(job_id), "tenant_id": tenant_id,
                                               "actor": actor, "now": utcnow()})
        if job is not None:
            self._publish_event(str(job_id), {"state": "cancelled", "stage": job["stage"],
                                              "progress": job["progress"]})
        return job
