"""/v1/jobs and /v1/batches."""
from __future__ import annotations

import logging
import uuid

import kombu.exceptions
import redis
from flask import Blueprint, current_app, jsonify, request

from api import auth
from api.body import json_body, parse, validation_details
from api.errors import ApiError
from api.schemas import BatchCreate, JobCreate
from core import config
from core.errors import ErrorCode
from core.logs import log_context
from jobstore import runtime
from jobstore.intake import IdempotencyConflict, NewJob
from jobstore.tables import JOB_STATES
from jobstore.tenants import Principal
from jobstore.values import body_hash
from tasks.callbacks import blocked_reason as callback_blocked
from tasks.callbacks import notify as notify_callback
from tasks.enqueue import revoke_job
from tasks.intake import enqueue_or_defer
from tasks.jobtypes import JobType, job_types, payload_model
from tasks.routing import queue_for

log = logging.getLogger("mindq.api")
bp = Blueprint("jobs", __name__)


def _job_type(name: str) -> JobType:
    spec = job_types().get(name)
    if spec is None:
        # never echo the name back: a client field may hold anything, patient text included
        raise ApiError(422, ErrorCode.UNKNOWN_ANALYSIS_TYPE, "Unknown analysis type.", {"known": sorted(job_types())})
    return spec


GENERATION_OPTIONS = ("max_new_tokens", "truncation")
MAX_LIST_LIMIT = 500
SCRUB_OPTIONS = ("surrogate",)


def _check_options(spec: JobType, options: dict) -> None:
    """Only known option keys: `options` is stored in clear (JSONB), so free text must not ride
    in under an unknown key; and reject values the worker would refuse before a job exists."""
    if spec.kind == "llm":
        import prompts

        choices = {c.name: c for c in prompts.get_type(spec.name).choices}
        allowed = set(choices) | set(GENERATION_OPTIONS)
    else:
        choices, allowed = {}, set(SCRUB_OPTIONS) if spec.name == "scrub" else set()
    unknown = sorted(set(options) - allowed)
    if unknown:
        # the keys are the client's: counted, not echoed
        raise ApiError(422, ErrorCode.INVALID_OPTION, f"Unknown option(s) for {spec.name!r}.",
                       {"unknown_count": len(unknown), "allowed": sorted(allowed)})
    for name, choice in choices.items():
        if name in options and options[name] not in choice.values:
            raise ApiError(422, ErrorCode.INVALID_OPTION, f"options.{name} must be one of {list(choice.values)}.",
                           {"field": f"options.{name}", "allowed": list(choice.values)})
    if "truncation" in options:
        from llm.truncation import POLICIES

        if options["truncation"] not in POLICIES:
            raise ApiError(422, ErrorCode.INVALID_OPTION, f"options.truncation must be one of {list(POLICIES)}.",
                           {"field": "options.truncation", "allowed": list(POLICIES)})
    max_new = options.get("max_new_tokens")
    if isinstance(max_new, float) and max_new.is_integer():  # JSON's 8.0 is the integer 8 (JSON Schema agrees)
        options["max_new_tokens"] = max_new = int(max_new)
    if max_new is not None and (not isinstance(max_new, int) or isinstance(max_new, bool) or not 1 <= max_new <= 4096):
        raise ApiError(422, ErrorCode.INVALID_OPTION, "options.max_new_tokens must be an integer in 1..4096.",
                       {"field": "options.max_new_tokens"})
    if "surrogate" in options and not isinstance(options["surrogate"], bool):
        raise ApiError(422, ErrorCode.INVALID_OPTION, "options.surrogate must be true or false.", {"field": "options.surrogate"})


def _check_inputs(spec: JobType, text: str | None, previous_text: str | None, payload: dict | None,
                  where: str = "") -> dict:
    """The encrypted payload of one job, after checking the fields its type needs."""
    max_chars = config.settings().max_text_chars

    def need_text(field: str, value: str | None) -> str:
        if value is None or not value.strip():
            raise ApiError(422, ErrorCode.MISSING_TEXT, f"Type {spec.name!r} needs a non-empty '{field}'.",
                           {"field": where + field})
        if len(value) > max_chars:
            raise ApiError(422, ErrorCode.TEXT_TOO_LONG, f"'{field}' exceeds {max_chars} characters.",
                           {"field": where + field, "limit": max_chars, "length": len(value)})
        return value

    if spec.input == "payload":
        if payload is None:
            raise ApiError(422, ErrorCode.MISSING_PAYLOAD, f"Type {spec.name!r} needs a 'payload'.", {"field": where + "payload"})
        from pydantic import ValidationError

        try:
            payload_model(spec.name).model_validate(payload)
        except ValidationError as exc:
            raise ApiError(422, ErrorCode.INVALID_SERIES, "The payload is invalid.", validation_details(exc)) from None
        return {"payload": payload}
    out = {"text": need_text("text", text)}
    if spec.input == "texts":
        out["previous_text"] = need_text("previous_text", previous_text)
    return out


def job_view(job: dict, *, with_result: bool = True) -> dict:
    job_id = str(job["id"])
    view = {
        "id": job_id, "type": job["type"], "state": job["state"], "stage": job["stage"],
        "progress": job["progress"], "priority": job["priority"],
        "batch_id": str(job["batch_id"]) if job.get("batch_id") else None,
        "created_at": _iso(job["created_at"]), "started_at": _iso(job.get("started_at")),
        "finished_at": _iso(job.get("finished_at")), "input_purged_at": _iso(job.get("input_purged_at")),
        "result": None, "error": job.get("error"),
        "links": {"self": f"/v1/jobs/{job_id}", "events": f"/v1/jobs/{job_id}/events"},
    }
    if with_result and job["state"] == "succeeded":
        view["result"] = runtime.job_reads().result(job["id"])
    return view


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def parse_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ApiError(404, ErrorCode.NOT_FOUND, "No such job.") from None


@bp.post("/v1/jobs")
def create_job():
    principal = auth.require("jobs:write")
    raw = json_body()
    req = parse(JobCreate, raw)
    job, created = submit(principal, req, raw, request.headers.get("Idempotency-Key"))
    resp = jsonify(job_view(job))
    resp.status_code = 202 if created else 200
    resp.headers["Location"] = f"/v1/jobs/{job['id']}"
    return resp


def submit(principal: Principal, req: JobCreate, raw: object, key: str | None) -> tuple[dict, bool]:
    """Check one job request and write and send it: (job, created). Every front door (this API,
    the FHIR facade) submits through here; ``raw`` is the body the Idempotency-Key is bound to."""
    spec = _job_type(req.type)
    _check_options(spec, req.options)
    payload = _check_inputs(spec, req.text, req.previous_text, req.payload)
    if req.patient_ref:
        payload["patient_ref"] = req.patient_ref
    if req.callback_url and (why := callback_blocked(str(req.callback_url), resolve=False)):
        raise ApiError(422, ErrorCode.INVALID_CALLBACK_URL, f"callback_url is not allowed: {why}.")
    if key is not None and not (0 < len(key) <= 255):
        raise ApiError(400, ErrorCode.INVALID_IDEMPOTENCY_KEY, "Idempotency-Key must be 1-255 characters.")
    new = NewJob(
        tenant_id=principal.tenant_id, type=spec.name, priority=req.priority,
        queue=queue_for(spec.kind, req.priority), payload=payload, options=req.options,
        patient_ref=req.patient_ref, callback_url=str(req.callback_url) if req.callback_url else None,
        idempotency_key=key, body_hash=body_hash(raw) if key else None)
    try:
        # written and sent together with this process's other submissions in flight (tasks/intake.py)
        job, created = current_app.extensions["mindq_intake"].submit(new, principal.actor)
    except IdempotencyConflict as exc:
        raise ApiError(409, ErrorCode.IDEMPOTENCY_CONFLICT,
                       "This Idempotency-Key was used with a different body.", {"job_id": str(exc)}) from None
    if created:
        with log_context(job_id=str(job["id"]), tenant_id=str(principal.tenant_id)):
            log.info("job accepted", extra={"job_type": spec.name, "priority": req.priority})
    return job, created


@bp.get("/v1/jobs")
def list_jobs():
    principal = auth.require("jobs:read")
    state = request.args.get("state")
    if state is not None and state not in JOB_STATES:
        raise ApiError(422, ErrorCode.VALIDATION_ERROR, "Unknown state filter.", {"allowed": list(JOB_STATES)})
    # refused out of range rather than clamped: the OpenAPI document says 1..500, and a client
    # asking for 10,000 should learn that it gets 500
    raw_limit = request.args.get("limit", "50")
    limit = int(raw_limit) if raw_limit.isascii() and raw_limit.isdigit() else 0
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise ApiError(422, ErrorCode.VALIDATION_ERROR, f"limit must be an integer from 1 to {MAX_LIST_LIMIT}.",
                       {"field": "limit", "minimum": 1, "maximum": MAX_LIST_LIMIT})
    rows = runtime.job_reads().recent(principal.tenant_id, state=state, limit=limit)
    return jsonify({"jobs": [job_view(j, with_result=False) for j in rows]})


@bp.get("/v1/jobs/<job_id>")
def get_job(job_id: str):
    principal = auth.require("jobs:read")
    job = runtime.job_reads().get(parse_id(job_id), principal.tenant_id)
    if job is None:  # another tenant's job is indistinguishable from a missing one
        raise ApiError(404, ErrorCode.NOT_FOUND, "No such job.")
    return jsonify(job_view(job))


@bp.delete("/v1/jobs/<job_id>")
def cancel_job(job_id: str):
    principal = auth.require("jobs:write")
    jid = parse_id(job_id)
    job = runtime.job_lifecycle().cancel(jid, principal.tenant_id, actor=principal.actor)
    if job is None:
        existing = runtime.job_reads().get(jid, principal.tenant_id)
        if existing is None:
            raise ApiError(404, ErrorCode.NOT_FOUND, "No such job.")
        raise ApiError(409, ErrorCode.JOB_FINISHED, f"The job is already {existing['state']}.",
                       {"state": existing["state"]})
    try:
        revoke_job(jid)  # drop the queued message early; a running task finds the state itself
    except (redis.RedisError, OSError, kombu.exceptions.KombuError) as exc:
        # only an early drop: the job's claim sees `cancelled` and skips it anyway
        log.warning("revoke not sent", extra={"job_id": str(jid), "error_type": type(exc).__name__})
    notify_callback(job)  # logs its own failure: the cancellation is stored either way
    return jsonify(job_view(job))


@bp.post("/v1/batches")
def create_batch():
    principal = auth.require("batches:write")
    req = parse(BatchCreate, json_body())
    spec = _job_type(req.type)
    _check_options(spec, req.options)
    news = []
    for i, item in enumerate(req.items):
        payload = _check_inputs(spec, item.text, item.previous_text, item.payload, where=f"items.{i}.")
        if item.patient_ref:
            payload["patient_ref"] = item.patient_ref
        news.append(NewJob(tenant_id=principal.tenant_id, type=spec.name, priority=req.priority,
                           queue=queue_for(spec.kind, req.priority), payload=payload,
                           options=req.options, patient_ref=item.patient_ref))
    batch, created = runtime.job_intake().create_batch(principal.tenant_id, spec.name, req.priority,
                                                        news, actor=principal.actor)
    enqueue_or_defer(created)
    log.info("batch accepted", extra={"batch_id": str(batch["id"]), "tenant_id": str(principal.tenant_id),
                                      "jobs": len(created)})
    resp = jsonify(_batch_view(batch, [{"id": j["id"], "state": j["state"]} for j in created]))
    resp.status_code = 202
    resp.headers["Location"] = f"/v1/batches/{batch['id']}"
    return resp


@bp.get("/v1/batches/<batch_id>")
def get_batch(batch_id: str):
    principal = auth.require("jobs:read")
    found = runtime.job_reads().batch(parse_id(batch_id), principal.tenant_id)
    if found is None:
        raise ApiError(404, ErrorCode.NOT_FOUND, "No such batch.")
    return jsonify(_batch_view(*found))


def _batch_view(batch: dict, members: list[dict]) -> dict:
    counts = dict.fromkeys(JOB_STATES, 0)
    for m in members:
        counts[m["state"]] += 1
    return {"id": str(batch["id"]), "type": batch["type"], "priority": batch["priority"],
            "total": batch["total"], "created_at": _iso(batch["created_at"]), "counts": counts,
            "done": counts["queued"] + counts["running"] == 0,
            "jobs": [str(m["id"]) for m in members]}
