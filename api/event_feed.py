"""The follow loop every Server-Sent-Events feed shares (a job's, a re-analysis run's).

History after the client's cursor first (so a late subscriber still sees every event and the
terminal one), then live events from the process's StreamHub with heartbeat comments while idle,
and the stream closes after the terminal event, rebuilt from PostgreSQL when Redis lost it.
"""
from __future__ import annotations

import logging
import queue
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from flask import Response, current_app, request, stream_with_context

from api.errors import ApiError
from api.stream_hub import StreamHub, event_order, format_event
from core import config, failures
from core.errors import ErrorCode
from jobstore import events, runtime

log = logging.getLogger("mindq.sse")
TERMINAL_EVENT_WAIT_S = 2.0  # how long a terminal row waits for its event before it is rebuilt
UNAVAILABLE = ": the event feed is unavailable; reconnect with Last-Event-ID\n\n"
# ASCII digits, up to 19 a half: every id this admits is one Redis can resume after (below
# 2**64-1), and the OpenAPI document's pattern says exactly this (api/openapi.py EVENT_ID)
EVENT_ID = re.compile(r"([0-9]{1,19})-([0-9]{1,19})")
_ID_MAX = 2**64 - 1  # each half of a Redis stream id is an unsigned 64-bit integer


def valid_event_id(value: str) -> bool:
    """An id Redis can resume after: both halves in range, and not the very last id (nothing
    can follow it, and Redis refuses it as the exclusive start of a range)."""
    found = EVENT_ID.fullmatch(value)
    if found is None:
        return False
    ms, seq = int(found[1]), int(found[2])
    return ms <= _ID_MAX and seq <= _ID_MAX and (ms, seq) != (_ID_MAX, _ID_MAX)


def requested_cursor() -> str | None:
    """The request's Last-Event-ID header or ``last_event_id`` query: each one given must be an id
    (an empty one too); the header wins over the query."""
    header, query = request.headers.get("Last-Event-ID"), request.args.get("last_event_id")
    if any(given is not None and not valid_event_id(given) for given in (header, query)):
        raise ApiError(400, ErrorCode.INVALID_LAST_EVENT_ID, "Last-Event-ID must be an event id from this stream.")
    return header if header is not None else query


@dataclass(frozen=True)
class Source:
    """What one feed follows: its Redis stream, how to read its row once it is terminal (None
    while it is not) and how to rebuild its terminal event from that row; ``opening`` is an event
    not kept in Redis that a stream read from the start opens with (a job's ``queued``)."""

    stream_id: str
    terminal_row: Callable[[], dict | None]
    rebuilt_end: Callable[[dict], tuple[str, dict]]
    log_fields: dict[str, str]
    opening: tuple[str, dict] | None = None


def response(source: Source) -> Response:
    """The feed of ``source`` from the request's cursor, as a streamed text/event-stream."""
    last_id = requested_cursor()
    feed = follow(current_app.extensions["mindq_hub"], runtime.redis_client(), source, last_id,
                  config.settings().sse_heartbeat)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}
    return Response(stream_with_context(feed), mimetype="text/event-stream", headers=headers)


def follow(hub: StreamHub, r, source: Source, last_id: str | None, heartbeat: float) -> Iterator[str]:
    """The stream's wire text. A Redis or PostgreSQL outage ends it cleanly (never a traceback in
    the middle of a response): the client reconnects after ``retry`` with Last-Event-ID and
    resumes without a gap once the outage is over. An outage while the stream is idle does not
    end it: the hub reads again when Redis is back, from where it was."""
    try:
        yield from _follow(hub, r, source, last_id, heartbeat)
    except Exception as exc:
        if not failures.is_transient(exc):
            raise
        log.warning("event stream ended: a dependency is unavailable",
                    extra={**source.log_fields, "error_type": type(exc).__name__})
        yield UNAVAILABLE


def _follow(hub: StreamHub, r, source: Source, last_id: str | None, heartbeat: float) -> Iterator[str]:
    yield "retry: 2000\n\n"
    sid = source.stream_id
    cursor = last_id or "0-0"
    if cursor == "0-0" and source.opening is not None:
        cursor, data = source.opening
        yield format_event(cursor, data)
    for event_id, data in events.history(r, sid, cursor):
        cursor = event_id
        yield format_event(event_id, data)
        if events.is_terminal_event(data):
            return
    # it may have finished since the first read: look once more before following it live
    row = source.terminal_row()
    if row is not None:
        yield from _finish(r, source, cursor, row)
        return
    sub = hub.subscribe(sid, cursor)
    try:
        while True:
            try:
                event_id, data, text = sub.queue.get(timeout=heartbeat)
            except queue.Empty:
                yield ": heartbeat\n\n"
                row = source.terminal_row()
                if row is not None:
                    # from what this client has been sent, not from the subscription's cursor:
                    # the hub may have queued events (and moved that cursor) since the get timed out
                    yield from _finish(r, source, cursor, row)
                    return
                continue
            cursor = event_id
            yield text
            if events.is_terminal_event(data):
                return
    finally:
        hub.unsubscribe(sub)


def _finish(r, source: Source, cursor: str, row: dict) -> Iterator[str]:
    """The source is terminal: the rest of the stream, or its terminal event rebuilt from the row
    when Redis lost it (restart, TTL). A worker announces the terminal state just after it commits
    it, so the event is waited for a moment first: a rebuilt event's id differs from the real one,
    and a client resuming after it would get the real one again."""
    deadline = time.monotonic() + TERMINAL_EVENT_WAIT_S
    while True:
        for event_id, data in events.history(r, source.stream_id, cursor):
            cursor = event_id
            yield format_event(event_id, data)
            if events.is_terminal_event(data):
                return
        if events.stream_has_ended(r, source.stream_id):  # nothing after the cursor, and the end is there:
            return  # this client already has the terminal event (it resumed after it)
        if time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    event_id, data = source.rebuilt_end(row)
    if event_order(event_id) > event_order(cursor):  # a client that resumed after a rebuilt end has it
        yield format_event(event_id, data)
