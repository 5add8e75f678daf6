"""GET /v1/jobs/<id>/events: Server-Sent Events of a job's state, stage and progress.

History first (so a late subscriber still sees every event and the terminal one), then live
events from the process's StreamHub, heartbeat comments while idle, and the stream closes after
the terminal event. ``Last-Event-ID`` resumes right after that event.

The first event, ``queued``, is not kept in Redis: it is the job row's creation, so the feed opens
with it, built from the row under id ``0-1``, below every id Redis hands out. Writing it would cost
each submission a Redis round trip for an event nobody may ever read.
"""
from __future__ import annotations

import logging
import queue
import re
import time

from flask import Blueprint, Response, current_app, request, stream_with_context

from api import auth
from api.errors import ApiError
from api.jobs import parse_id
from api.stream_hub import event_order, format_event
from core import config, failures
from core.errors import ErrorCode
from jobstore import events, runtime
from jobstore.tables import TERMINAL_STATES

bp = Blueprint("events", __name__)
log = logging.getLogger("mindq.sse")
# ASCII digits, up to 19 a half: every id this admits is one Redis can resume after (below
# 2**64-1), and the OpenAPI document's pattern says exactly this (api/openapi.py EVENT_ID)
EVENT_ID = re.compile(r"([0-9]{1,19})-([0-9]{1,19})")
QUEUED_EVENT_ID = "0-1"
TERMINAL_EVENT_WAIT_S = 2.0  # how long a terminal row waits for its event before it is rebuilt
_ID_MAX = 2**64 - 1  # each half of a Redis stream id is an unsigned 64-bit integer


def valid_event_id(value: str) -> bool:
    """An id Redis can resume after: both halves in range, and not the very last id (nothing
    can follow it, and Redis refuses it as the exclusive start of a range)."""
    found = EVENT_ID.fullmatch(value)
    if found is None:
        return False
    ms, seq = int(found[1]), int(found[2])
    return ms <= _ID_MAX and seq <= _ID_MAX and (ms, seq) != (_ID_MAX, _ID_MAX)


def _queued_event(job: dict) -> tuple[str, dict]:
    return QUEUED_EVENT_ID, {"job_id": str(job["id"]), "at": job["created_at"].isoformat(),
                             "state": "queued", "stage": "queued", "progress": 0}


def _terminal_from_row(job: dict) -> tuple[str, dict]:
    """The terminal event rebuilt from PostgreSQL when the stream lost it (Redis restart, TTL)."""
    ms = int(job["finished_at"].timestamp() * 1000) if job.get("finished_at") else 0
    data = {"job_id": str(job["id"]), "state": job["state"], "stage": job["stage"],
            "progress": job["progress"], "at": job["finished_at"].isoformat() if job.get("finished_at") else None}
    if job.get("error"):
        data["error"] = job["error"]
    return f"{ms}-0", data


@bp.get("/v1/jobs/<job_id>/events")
def job_events(job_id: str):
    principal = auth.require("jobs:read")
    jid = parse_id(job_id)
    service = runtime.job_reads()
    job = service.get(jid, principal.tenant_id)
    if job is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, "No such job.")
    header, query = request.headers.get("Last-Event-ID"), request.args.get("last_event_id")
    # each one given must be an id (an empty one too); the header wins over the query
    if any(given is not None and not valid_event_id(given) for given in (header, query)):
        raise ApiError(400, ErrorCode.INVALID_LAST_EVENT_ID, "Last-Event-ID must be an event id from this stream.")
    last_id = header if header is not None else query
    hub = current_app.extensions["mindq_hub"]
    heartbeat = config.settings().sse_heartbeat
    r = runtime.redis_client()
    sid = str(jid)

    def _finish(cursor: str, row: dict):
        """The job is terminal: the rest of the stream, or its terminal event rebuilt from the row
        when Redis lost it (restart, TTL). A worker announces the terminal state just after it
        commits it, so the event is waited for a moment first: a rebuilt event's id differs from
        the real one, and a client resuming after it would get the real one again."""
        deadline = time.monotonic() + TERMINAL_EVENT_WAIT_S
        while True:
            for event_id, data in events.history(r, sid, cursor):
                cursor = event_id
                yield format_event(event_id, data)
                if events.is_terminal_event(data):
                    return
            if events.stream_has_ended(r, sid):  # nothing after the cursor, and the end is there:
                return  # this client already has the terminal event (it resumed after it)
            if time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        event_id, data = _terminal_from_row(row)
        if event_order(event_id) > event_order(cursor):  # a client that resumed after a rebuilt end has it
            yield format_event(event_id, data)

    def generate():
        """The stream; a Redis or PostgreSQL outage ends it cleanly (never a traceback in the
        middle of a response): the client reconnects after ``retry`` with Last-Event-ID and
        resumes without a gap once the outage is over. An outage while the stream is idle does
        not end it: the hub reads again when Redis is back, from where it was."""
        try:
            yield from stream()
        except Exception as exc:
            if not failures.is_transient(exc):
                raise
            log.warning("event stream ended: a dependency is unavailable",
                        extra={"job_id": sid, "error_type": type(exc).__name__})
            yield ": the event feed is unavailable; reconnect with Last-Event-ID\n\n"

    def stream():
        yield "retry: 2000\n\n"
        cursor = last_id or "0-0"
        if cursor == "0-0":
            cursor, data = _queued_event(job)
            yield format_event(cursor, data)
        backlog = events.history(r, sid, cursor)
        for event_id, data in backlog:
            cursor = event_id
            yield format_event(event_id, data)
            if events.is_terminal_event(data):
                return
        # it may have finished since the first read: look once more before following it live
        row = job if job["state"] in TERMINAL_STATES else _terminal_row(service, jid)
        if row is not None:
            yield from _finish(cursor, row)
            return
        sub = hub.subscribe(sid, cursor)
        try:
            while True:
                try:
                    event_id, data, text = sub.queue.get(timeout=heartbeat)
                except queue.Empty:
                    yield ": heartbeat\n\n"
                    row = _terminal_row(service, jid)
                    if row is not None:
                        # from what this client has been sent, not from the subscription's cursor:
                        # the hub may have queued events (and moved that cursor) since the get timed out
                        yield from _finish(cursor, row)
                        return
                    continue
                cursor = event_id
                yield text
                if events.is_terminal_event(data):
                    return
        finally:
            hub.unsubscribe(sub)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}
    return Response(stream_with_context(generate()), mimetype="text/event-stream", headers=headers)


def _terminal_row(service, jid) -> dict | None:
    """The job's row if it is terminal now, else None (one read serves the check and the rebuild)."""
    row = service.get(jid)
    return row if row is not None and row["state"] in TERMINAL_STATES else None
