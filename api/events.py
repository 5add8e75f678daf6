"""GET /v1/jobs/<id>/events: Server-Sent Events of a job's state, stage and progress.

History first (so a late subscriber still sees every event and the terminal one), then live
events from the process's StreamHub, heartbeat comments while idle, and the stream closes after
the terminal event. ``Last-Event-ID`` resumes right after that event.

The first event, ``queued``, is not kept in Redis: it is the job row's creation, so the feed opens
with it, built from the row under id ``0-1``, below every id Redis hands out. Writing it would cost
each submission a Redis round trip for an event nobody may ever read.
"""
from __future__ import annotations

from flask import Blueprint

from api import auth, event_feed
from api.errors import ApiError
from api.jobs import parse_id
from core.errors import ErrorCode
from jobstore import runtime
from jobstore.tables import TERMINAL_STATES

bp = Blueprint("events", __name__)
QUEUED_EVENT_ID = "0-1"


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
    source = event_feed.Source(
        stream_id=str(jid), terminal_row=lambda: _terminal_row(service, jid), rebuilt_end=_terminal_from_row,
        log_fields={"job_id": str(jid)}, opening=_queued_event(job))
    return event_feed.response(source)


def _terminal_row(service, jid) -> dict | None:
    """The job's row if it is terminal now, else None (one read serves the check and the rebuild)."""
    row = service.get(jid)
    return row if row is not None and row["state"] in TERMINAL_STATES else None
