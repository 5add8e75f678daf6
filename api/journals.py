"""/v1/patients/<ref>/journal, /v1/patients/<ref>/flags and /v1/reanalysis-runs (+ /events).

A patient ref or entry id is never echoed in an error: either may identify a person. Another
tenant's patient or run is indistinguishable from a missing one (404).
"""
from __future__ import annotations

import uuid

from flask import Blueprint, jsonify, request

from api import auth, event_feed
from api.body import json_body, parse
from api.errors import ApiError
from api.journal_schemas import BLANK, MAX_REF, JournalCreate, JournalEntryIn, ReanalysisRunCreate
from core import config
from core.errors import ErrorCode
from jobstore import runtime
from jobstore.journals import EntryConflict, NewEntry
from jobstore.tables import TERMINAL_STATES
from tasks import reanalysis
from tasks.callbacks import blocked_reason as callback_blocked

bp = Blueprint("journals", __name__)
# in UTC: the document asks for local years 1900-2199; outside, a date is a typo, and a year-1 date
# with an offset has no UTC form
YEARS = (1899, 2200)


def _patient_ref(value: str) -> str:
    if not value.strip(BLANK) or len(value) > MAX_REF:
        raise ApiError(422, ErrorCode.VALIDATION_ERROR, f"The patient ref must be 1-{MAX_REF} characters.")
    return value


def _unknown_patient() -> ApiError:
    return ApiError(404, ErrorCode.NOT_FOUND, "No journal for this patient.")


@bp.post("/v1/patients/<path:patient_ref>/journal")
def add_entries(patient_ref: str):
    principal = auth.require("journals:write")
    ref = _patient_ref(patient_ref)
    req = parse(JournalCreate, json_body())
    max_chars = config.settings().max_text_chars
    seen: dict[str, JournalEntryIn] = {}
    for i, entry in enumerate(req.entries):
        if not entry.text.strip(BLANK):
            raise ApiError(422, ErrorCode.MISSING_TEXT, "Each entry needs a non-empty 'text'.",
                           {"field": f"entries.{i}.text"})
        if len(entry.text) > max_chars:
            raise ApiError(422, ErrorCode.TEXT_TOO_LONG, f"'text' exceeds {max_chars} characters.",
                           {"field": f"entries.{i}.text", "limit": max_chars, "length": len(entry.text)})
        if not YEARS[0] <= entry.written_at.year <= YEARS[1]:
            raise ApiError(422, ErrorCode.VALIDATION_ERROR, f"written_at must fall in the years {YEARS[0]}-{YEARS[1]}.",
                           {"field": f"entries.{i}.written_at"})
        if entry.entry_id in seen and seen[entry.entry_id] != entry:
            # the same entry_id twice with another text or date: as if it had been stored already
            raise ApiError(409, ErrorCode.JOURNAL_ENTRY_CONFLICT, "An entry_id appears twice in the request "
                           "with another text or date; nothing was written.", {"conflicts": 1})
        seen[entry.entry_id] = entry
    news = [NewEntry(e.entry_id, e.written_at, e.text) for e in seen.values()]  # a repeat is one entry
    try:
        stored = runtime.journals().add_entries(principal.tenant_id, ref, news)
    except EntryConflict as exc:
        raise ApiError(409, ErrorCode.JOURNAL_ENTRY_CONFLICT, "Entries with these entry_ids were stored with "
                       "another text or date; nothing was written.", {"conflicts": exc.count}) from None
    resp = jsonify({"entries": [{"entry_id": s.entry_id, "id": str(s.id), "created": s.created} for s in stored]})
    resp.status_code = 201 if any(s.created for s in stored) else 200
    return resp


@bp.get("/v1/patients/<path:patient_ref>/journal")
def get_journal(patient_ref: str):
    principal = auth.require("journals:read")
    include = request.args.get("include", "")
    if include not in ("", "text"):
        raise ApiError(422, ErrorCode.VALIDATION_ERROR, "include must be 'text' or absent.", {"allowed": ["text"]})
    entries = runtime.journals().patient_entries(principal.tenant_id, _patient_ref(patient_ref),
                                                 include_text=include == "text")
    if entries is None:
        raise _unknown_patient()
    return jsonify({"entries": entries})


@bp.get("/v1/patients/<path:patient_ref>/flags")
def get_flags(patient_ref: str):
    principal = auth.require("journals:read")
    flags = runtime.journals().patient_flags(principal.tenant_id, _patient_ref(patient_ref))
    if flags is None:
        raise _unknown_patient()
    return jsonify({"flags": flags})


# -- runs ---------------------------------------------------------------------------------------
def _run_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ApiError(404, ErrorCode.NOT_FOUND, "No such run.") from None


def _run_or_404(run_id: str, tenant_id: uuid.UUID) -> dict:
    run = runtime.journals().run(_run_id(run_id), tenant_id)
    if run is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, "No such run.")
    return run


@bp.post("/v1/reanalysis-runs")
def create_run():
    principal = auth.require("journals:write")
    req = parse(ReanalysisRunCreate, json_body())
    allowed = reanalysis.analysable_types()
    if req.types is not None and (set(req.types) - set(allowed)):
        # never echo the names: a client field may hold anything
        raise ApiError(422, ErrorCode.UNKNOWN_ANALYSIS_TYPE, "Unknown or unsupported analysis type(s) for journals.",
                       {"allowed": allowed})
    if req.since is not None and not YEARS[0] <= req.since.year <= YEARS[1]:
        raise ApiError(422, ErrorCode.VALIDATION_ERROR, f"since must fall in the years {YEARS[0]}-{YEARS[1]}.",
                       {"field": "since"})
    callback_url = str(req.callback_url) if req.callback_url else None
    if callback_url and (why := callback_blocked(callback_url, resolve=False)):
        raise ApiError(422, ErrorCode.INVALID_CALLBACK_URL, f"callback_url is not allowed: {why}.")
    if req.types is not None:
        types = req.types
    else:
        schedule = runtime.journals().schedule(principal.tenant_id)
        types = reanalysis.default_types(schedule["types"] if schedule else None)
    run = reanalysis.create_run(principal.tenant_id, trigger="api", types=types, actor=principal.actor,
                                patient_refs=req.patient_refs, since=req.since, callback_url=callback_url)
    assert run is not None  # only a nightly firing can find its run taken
    resp = jsonify(reanalysis.run_view(run))
    resp.status_code = 202
    resp.headers["Location"] = f"/v1/reanalysis-runs/{run['id']}"
    return resp


@bp.get("/v1/reanalysis-runs")
def list_runs():
    principal = auth.require("journals:read")
    try:
        limit = int(request.args.get("limit", "50"))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 500:
        raise ApiError(422, ErrorCode.VALIDATION_ERROR, "limit must be an integer in 1..500.", {"field": "limit"})
    return jsonify({"runs": [reanalysis.run_view(r) for r in runtime.journals().recent_runs(principal.tenant_id, limit)]})


@bp.get("/v1/reanalysis-runs/<run_id>")
def get_run(run_id: str):
    principal = auth.require("journals:read")
    run = _run_or_404(run_id, principal.tenant_id)
    return jsonify(reanalysis.run_view(run, runtime.journals().run_flags(run["id"])))


@bp.delete("/v1/reanalysis-runs/<run_id>")
def cancel_run(run_id: str):
    principal = auth.require("journals:write")
    run = _run_or_404(run_id, principal.tenant_id)
    cancelled = runtime.journals().cancel_run(run["id"], principal.tenant_id)
    if cancelled is None:
        raise ApiError(409, ErrorCode.RUN_FINISHED, f"The run is already {run['state']}.", {"state": run["state"]})
    reanalysis.publish(cancelled)
    return jsonify(reanalysis.run_view(cancelled))


def _rebuilt_end(run: dict) -> tuple[str, dict]:
    """The terminal event rebuilt from the row when the stream lost it (Redis restart, TTL)."""
    ms = int(run["finished_at"].timestamp() * 1000) if run.get("finished_at") else 0
    data = {"run_id": str(run["id"]), "state": run["state"], "progress": 100 if run["state"] == "succeeded" else
            run["progress"], "counts": reanalysis.counts_view(run), "flags_raised": run["flags_raised"]}
    return f"{ms}-0", data


@bp.get("/v1/reanalysis-runs/<run_id>/events")
def run_events(run_id: str):
    """The run's progress as Server-Sent Events, like a job's: history, then live events, a
    heartbeat while idle, and the end; Last-Event-ID resumes after that event."""
    principal = auth.require("journals:read")
    run = _run_or_404(run_id, principal.tenant_id)
    store = runtime.journals()

    def terminal_row() -> dict | None:
        row = store.run(run["id"])
        return row if row is not None and row["state"] in TERMINAL_STATES else None

    source = event_feed.Source(stream_id=str(run["id"]), terminal_row=terminal_row, rebuilt_end=_rebuilt_end,
                               log_fields={"run_id": str(run["id"])})
    return event_feed.response(source)
