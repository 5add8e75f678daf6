"""The /fhir/r4 routes: a Task is created through the same path as ``POST /v1/jobs``
(api.jobs.submit: checks, idempotency, intake) and read from the same job row. Every error
under /fhir/r4, routing ones included, is an OperationOutcome."""
from __future__ import annotations

import json
import logging
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from api import auth, jobs
from api.body import json_body, parse
from api.errors import ApiError
from api.fhir import codes, task_in, task_out
from api.fhir.capability import capability_statement
from api.fhir.outcome import FhirProblem, operation_outcome
from api.schemas import JobCreate
from core import failures
from core.errors import ErrorCode
from jobstore import runtime
from tasks.jobtypes import job_types

log = logging.getLogger("mindq.api")
bp = Blueprint("fhir", __name__, url_prefix="/fhir/r4")
RELEASED = "2026-12-01"  # the CapabilityStatement's date: when this facade's contract last changed
MEDIA_TYPES = (codes.FHIR_JSON, "application/json")
# where a field of the job request came from in the Task, for OperationOutcome.issue.expression
FIELD_PATHS = {"type": "Task.code", "text": "Task.input", "previous_text": "Task.input", "payload": "Task.contained",
               "patient_ref": "Task.for", "priority": "Task.priority", "options": "Task.input"}


def _fhir(body: str | dict, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    resp = Response(body if isinstance(body, str) else json.dumps(body, separators=(",", ":")), status=status,
                    content_type=f"{codes.FHIR_JSON}; charset=utf-8")
    resp.headers.update(headers or {})
    return resp


@bp.get("/metadata", provide_automatic_options=False)
def metadata():
    return _fhir(capability_statement(RELEASED))


@bp.post("/Task", provide_automatic_options=False)
def create_task():
    principal = auth.require("jobs:write")
    raw = json_body(MEDIA_TYPES)
    task = task_in.parse_task(raw)
    types = job_types()
    req = parse(JobCreate, task_in.job_request(task, {t.name: t.input for t in types.values()}))
    job, created = jobs.submit(principal, req, raw, request.headers.get("Idempotency-Key"))
    resource = task_out.task_resource(job, None, req.patient_ref, types[req.type].description)
    return _fhir(resource.model_dump_json(), 201 if created else 200, _links(str(job["id"])))


@bp.get("/Task/<task_id>", provide_automatic_options=False)
def read_task(task_id: str):
    principal = auth.require("jobs:read")
    reads = runtime.job_reads()
    job = reads.get(jobs.parse_id(task_id), principal.tenant_id)
    if job is None:  # another tenant's Task is indistinguishable from a missing one
        raise FhirProblem(404, ErrorCode.NOT_FOUND, "No such Task.")
    result = reads.result(job["id"]) if job["state"] == "succeeded" else None
    spec = job_types().get(job["type"])
    resource = task_out.task_resource(job, result, _patient_ref(reads, job), spec.description if spec else None)
    return _fhir(resource.model_dump_json(), 200, _links(str(job["id"])))


# Every method the routes above do not take lands here, OPTIONS included: Flask's automatic
# OPTIONS would merge this catch-all's methods into each path's Allow.
@bp.route("/", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def unknown(rest: str = ""):
    parts = rest.split("/")
    allowed = _ALLOWED.get(parts[0] if len(parts) == 1 else f"{parts[0]}/<id>" if len(parts) == 2 else "")
    if allowed and request.method == "OPTIONS":
        return Response(status=200, headers={"Allow": allowed})
    if allowed:
        raise FhirProblem(405, ErrorCode.METHOD_NOT_ALLOWED, "This interaction is not supported; see /fhir/r4/metadata.",
                          headers={"Allow": allowed})
    raise FhirProblem(404, ErrorCode.NOT_FOUND, "No such resource type or endpoint; see /fhir/r4/metadata.")


# what each resource path supports, for the Allow header of a 405 or an OPTIONS
_ALLOWED = {"Task": "POST, OPTIONS", "Task/<id>": "GET, HEAD, OPTIONS", "metadata": "GET, HEAD, OPTIONS"}


def _links(job_id: str) -> dict[str, str]:
    return {"Location": f"{request.url_root}fhir/r4/Task/{job_id}",
            # the job's own progress stream: Task.id is the job id
            "Link": f'</v1/jobs/{job_id}/events>; rel="monitor", </v1/jobs/{job_id}>; rel="alternate"'}


def _patient_ref(reads: Any, job: dict) -> str | None:
    """The patient the Task was for, from the job's encrypted input (gone once retention purged it)."""
    if job.get("input_ciphertext") is None:
        return None
    return reads.payload(job).get("patient_ref")


@bp.errorhandler(FhirProblem)
def _problem(exc: FhirProblem):
    return _fhir(operation_outcome(exc.status, exc.code, exc.message, exc.expression), exc.status, exc.headers)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    where: list[str] = []
    field = str(exc.details.get("field", "")).split(".")[0]
    if field in FIELD_PATHS:
        where.append(FIELD_PATHS[field])
    kinds = sorted({str(e.get("type")) for e in exc.details.get("errors", [])})
    if exc.code == ErrorCode.INVALID_SERIES:  # the payload's errors: the series came from the Observations
        where.append("Task.contained")
    elif exc.code == ErrorCode.INVALID_OPTION and not where:
        where.append("Task.input")
    else:
        for err in exc.details.get("errors", []):
            path = FIELD_PATHS.get(str((err.get("loc") or [""])[0]))
            if path and path not in where:
                where.append(path)
    # the error kinds are ours (series_too_short, ...); their messages may quote values, so they stay out
    diagnostics = ", ".join(kinds) if kinds else None
    return _fhir(operation_outcome(exc.status, exc.code, exc.message, where, diagnostics), exc.status, exc.headers)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    status = exc.code or 500
    code = {404: ErrorCode.NOT_FOUND, 405: ErrorCode.METHOD_NOT_ALLOWED, 413: ErrorCode.PAYLOAD_TOO_LARGE,
            400: ErrorCode.BAD_REQUEST}.get(status, ErrorCode.HTTP_ERROR)
    return _fhir(operation_outcome(status, code, "The request was refused."), status)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    # the type and place only: exception messages may quote request content
    if failures.is_transient(exc):
        log.error("dependency unavailable", extra={"error_type": type(exc).__name__, "where": failures.where(exc)})
        return _fhir(operation_outcome(503, ErrorCode.SERVICE_UNAVAILABLE, "A dependency is unavailable; retry later."),
                     503, {"Retry-After": "5"})
    log.error("unhandled error", extra={"error_type": type(exc).__name__, "where": failures.where(exc)})
    return _fhir(operation_outcome(500, ErrorCode.INTERNAL_ERROR, "An unexpected error occurred."), 500)
