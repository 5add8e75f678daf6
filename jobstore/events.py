"""Per-job event log in a Redis Stream: the source of the SSE feed.

Stream entry ids double as SSE event ids, so ``Last-Event-ID`` resumes with XREAD from exactly
that id: no gap and no duplicate. Events carry state, stage and progress, never text.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from typing import Any, cast

import redis

from core.background import BackgroundThread, Mailbox
from jobstore.tables import TERMINAL_STATES

log = logging.getLogger("mindq.events")

STREAM_MAXLEN = 2000
STREAM_TTL_S = 7 * 24 * 3600


def stream_key(job_id: str) -> str:
    return f"mindq:events:{job_id}"


def publish(r: redis.Redis | redis.client.Pipeline, job_id: str, event: dict[str, Any]) -> str | None:
    """Append an event; returns its stream id (None when ``r`` is a pipeline the caller runs)."""
    key = stream_key(job_id)
    pipe = r if isinstance(r, redis.client.Pipeline) else r.pipeline(transaction=False)
    pipe.xadd(key, {"data": json.dumps(event, separators=(",", ":"), default=str)},
              maxlen=STREAM_MAXLEN, approximate=True)
    pipe.expire(key, STREAM_TTL_S)
    if pipe is r:
        return None
    event_id, _ = pipe.execute()
    return event_id.decode() if isinstance(event_id, bytes) else event_id


class EventBuffer:
    """A worker process's outgoing events: a non-terminal event (running, a stage, token progress)
    waits up to ``linger_s`` and leaves in one pipeline with whatever follows it; a terminal event
    leaves at once, behind everything still waiting.

    A short job's running and terminal events then cost one Redis round trip instead of two, and
    the many jobs of a gpu worker share theirs. Order is kept: one FIFO, sent under one lock. An
    event still waiting when the process dies is lost, as one whose XADD failed would be: the SSE
    feed takes the terminal state from PostgreSQL.
    """

    def __init__(self, r: redis.Redis, linger_s: float) -> None:
        self.redis = r
        self.linger_s = linger_s
        self._pending: Mailbox[tuple[str, dict[str, Any]]] = Mailbox()
        self._send_lock = threading.Lock()  # one pipeline at a time: events leave in order
        self._flusher = BackgroundThread("event-flusher", self._flush_quietly, linger=linger_s)

    def add(self, job_id: str, event: dict[str, Any]) -> None:
        if self._pending.put((job_id, event)):
            self._flusher.wake()  # the first waiting event sets the deadline for those behind it

    def send(self, job_id: str, event: dict[str, Any]) -> None:
        """Send now, after every waiting event. Raises redis.RedisError (those events are lost too)."""
        self._send_pending([(job_id, event)])

    def flush(self) -> None:
        self._send_pending([])

    def _send_pending(self, then: list[tuple[str, dict[str, Any]]]) -> None:
        """Every waiting event, then ``then``, in one pipeline."""
        with self._send_lock:
            batch = self._pending.take() + then
            if not batch:
                return
            pipe = self.redis.pipeline(transaction=False)
            for job_id, event in batch:
                publish(pipe, job_id, event)
            pipe.execute()

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except redis.RedisError as exc:
            log.warning("events not published", extra={"error_type": type(exc).__name__})


def decode(entries: Iterable[tuple[Any, dict]]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for event_id, fields in entries:
        eid = event_id.decode() if isinstance(event_id, bytes) else event_id
        raw = fields.get(b"data", fields.get("data"))
        if raw is not None:  # an entry not written by publish(): not an event
            out.append((eid, json.loads(raw)))
    return out


def history(r: redis.Redis, job_id: str, after: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Events strictly after ``after`` (or all of them)."""
    start = f"({after}" if after else "-"
    return decode(cast(list, r.xrange(stream_key(job_id), min=start, max="+")))


def stream_has_ended(r: redis.Redis, job_id: str) -> bool:
    """Whether the job's stream ends with its terminal event (the last entry is terminal)."""
    last = decode(cast(list, r.xrevrange(stream_key(job_id), "+", "-", count=1)))
    return bool(last) and is_terminal_event(last[0][1])


def is_terminal_event(event: dict[str, Any]) -> bool:
    return event.get("state") in TERMINAL_STATES
