"""Per-job event log in a Redis Stream: the source of the SSE feed.

Stream entry ids double as SSE event ids, so ``Last-Event-ID`` resumes with XREAD from exactly
that id: no gap and no duplicate. Events carry state, stage and progress, never text.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

import redis

from jobstore.tables import TERMINAL_STATES

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


def decode(entries: Iterable[tuple[Any, dict]]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for event_id, fields in entries:
        eid = event_id.decode() if isinstance(event_id, bytes) else event_id
        raw = fields.get(b"data", fields.get("data"))
        out.append((eid, json.loads(raw)))
    return out


def history(r: redis.Redis, job_id: str, after: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """Events strictly after ``after`` (or all of them)."""
    start = f"({after}" if after else "-"
    return decode(r.xrange(stream_key(job_id), min=start, max="+"))


def is_terminal_event(event: dict[str, Any]) -> bool:
    return event.get("state") in TERMINAL_STATES
