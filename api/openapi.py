"""The OpenAPI 3.1 document, generated from the pydantic models, and a self-contained docs page."""
from __future__ import annotations

import functools
import html

from pydantic import BaseModel

from api import journal_openapi, openapi_inputs, schemas
from api.fhir import codes
from jobstore.tables import JOB_STATES

REF = "#/components/schemas/{model}"
MODELS: tuple[type[BaseModel], ...] = (schemas.JobCreate, schemas.Job, schemas.BatchCreate, schemas.Batch,
                                       schemas.AnalysisType, schemas.ErrorBody)


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _errors(*codes: int) -> dict:
    text = {400: "Malformed request", 401: "Missing or invalid API key", 403: "Missing scope",
            404: "Not found (or another tenant's)", 409: "Conflict", 413: "Body too large",
            415: "Not JSON", 422: "Validation error", 429: "Rate limited", 503: "Dependency unavailable"}
    return {str(c): _json(schemas.ErrorBody, text[c]) for c in codes}


JOB_ID = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
AUTH: list[dict[str, list[str]]] = [{"bearer": []}]
IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "required": False,
                   "schema": {"type": "string", "minLength": 1, "maxLength": 255}}
# api.event_feed.EVENT_ID: up to 19 digits a half, so that every id the pattern admits Redis can resume after
EVENT_ID = {"type": "string", "pattern": "^[0-9]{1,19}-[0-9]{1,19}$"}
SSE_DESCRIPTION = ("text/event-stream: `retry:`, then one event per change, each with an `id:` and a `data:` line "
                   "holding a JSON JobEvent, heartbeat comments while idle; the stream ends after the terminal "
                   "event")


def _ref_name(name: str) -> dict:
    return {"$ref": REF.format(model=name)}


def _json_ref(name: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref_name(name)}}}


def _response_schemas() -> dict:
    """Bodies not built from a pydantic model: lists, health, the SSE event's data."""
    obj: dict = {"type": "object"}
    return {
        "JobList": {"type": "object", "required": ["jobs"],
                    "properties": {"jobs": {"type": "array", "items": _ref(schemas.Job)}}},
        "AnalysisTypeList": {"type": "object", "required": ["analysis_types"],
                             "properties": {"analysis_types": {"type": "array", "items": _ref(schemas.AnalysisType)}}},
        "JobEvent": {"type": "object", "required": ["state", "stage", "progress"],
                     "properties": {"job_id": {"type": "string", "format": "uuid"},
                                    "state": {"enum": list(JOB_STATES)}, "stage": {"type": "string"},
                                    "progress": {"type": "integer", "minimum": 0, "maximum": 100},
                                    "at": {"type": ["string", "null"]},
                                    "error": {"anyOf": [_ref(schemas.JobError), {"type": "null"}]}}},
        # Open API 3.1 has a text/event-stream schema describe each event (data, event, id, retry)
        "JobStreamEvent": {"type": "object", "required": ["data", "event"],
                           "properties": {"event": {"enum": ["job", "end"]}, "id": EVENT_ID,
                                          "retry": {"type": "integer", "minimum": 0},
                                          "data": {"type": "string", "contentMediaType": "application/json",
                                                   "contentSchema": _ref_name("JobEvent")}}},
        "Live": {"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}},
        "Readiness": {"type": "object", "required": ["status", "checks", "workers"],
                      "properties": {"status": {"enum": ["ready", "unavailable"]},
                                     "checks": {"type": "object", "additionalProperties": {
                                         "type": "object", "required": ["ok"], "properties": {"ok": {"type": "boolean"}}}},
                                     "workers": {"type": "array", "items": obj}}},
        "ModelList": {"type": "object", "required": ["models"],
                      "properties": {"models": {"type": "array", "items": {
                          "type": "object", "required": ["name", "active_version", "versions"],
                          "properties": {"name": {"type": "string"}, "active_version": {"type": ["string", "null"]},
                                         "versions": {"type": "array", "items": obj}}}}}},
        "ModelPerformance": {"type": "object", "required": ["name", "active_version", "versions"],
                             "properties": {"name": {"type": "string"},
                                            "active_version": {"type": ["string", "null"]},
                                            "versions": {"type": "array", "items": obj}}},
    }


def _common_errors(paths: dict) -> None:
    """What any authenticated operation of the JSON API may answer besides its own outcomes: no key
    or a bad one (401), a key without the scope (403), PostgreSQL or Redis away (503)."""
    for path, ops in paths.items():
        if not (path.startswith("/v1/") or path == "/metrics"):
            continue  # the FHIR facade answers with its own OperationOutcome bodies
        for op in ops.values():
            if op.get("security"):
                for code, body in _errors(401, 403, 503).items():
                    op["responses"].setdefault(code, body)


# what JSON Schema here does not say: the FHIR specification's structure and mindq's own rules
FHIR_TASK_RULES = ("A FHIR R4 Task (hl7.org/fhir/R4/task.html); the schema lists the elements every Task needs. "
                   "A body that is not a valid R4 Task by that specification is refused with 400 INVALID_RESOURCE, "
                   "the OperationOutcome naming the elements. A valid Task that is not a job this deployment runs "
                   "is 422: Task.code needs a coding with system " + codes.ANALYSIS_TYPE + " naming an analysis "
                   "type (/v1/analysis-types), and the type's input must be there (text as a Task.input attachment "
                   "or a contained DocumentReference; a series as contained PHQ-9/GAD-7 Observations).")


def _fhir(description: str) -> dict:
    return {"description": description, "content": {"application/fhir+json": {"schema": {"type": "object"}}}}


_OUTCOME = {str(c): _fhir(f"OperationOutcome ({c})") for c in (400, 401, 403, 404, 409, 413, 415, 422, 429)}
# the FHIR R4 facade (api/fhir): its bodies are FHIR resources, described by the CapabilityStatement
FHIR_PATHS: dict = {
    "/fhir/r4/metadata": {"get": {"summary": "FHIR CapabilityStatement", "operationId": "fhirMetadata",
                                  "responses": {"200": _fhir("CapabilityStatement")}}},
    "/fhir/r4/Task": {"post": {
        "summary": "Create a FHIR Task: a job (Task.code = analysis type, text as attachment or contained "
                   "DocumentReference, or contained PHQ-9/GAD-7 Observations)", "security": AUTH,
        "operationId": "fhirCreateTask",
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False,
                        "schema": {"type": "string", "maxLength": 255}}],
        "requestBody": {"required": True, "description": FHIR_TASK_RULES, "content": {"application/fhir+json": {
            "schema": {"type": "object", "required": ["resourceType", "status", "intent", "code"],
                       "properties": {"resourceType": {"const": "Task"}, "status": {"enum": list(codes.TASK_STATUSES)},
                                      "intent": {"enum": list(codes.TASK_INTENTS)}, "code": {"type": "object"}}}}}},
        "responses": {"201": _fhir("Task; Location points at it"), "200": _fhir("Replay of the same Idempotency-Key"),
                      **_OUTCOME}}},
    "/fhir/r4/Task/{task_id}": {"get": {
        "summary": "A FHIR Task: status, businessStatus (stage) and, once completed, its result contained "
                   "(RiskAssessment or Observation)", "security": AUTH, "operationId": "fhirReadTask",
        "parameters": [{**JOB_ID, "name": "task_id"}],
        "responses": {"200": _fhir("Task"), **{k: _OUTCOME[k] for k in ("401", "403", "404")}}}},
}


@functools.lru_cache(maxsize=1)
def spec() -> dict:
    components: dict = {}
    for model in MODELS:
        schema = model.model_json_schema(ref_template=REF, mode="serialization")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    components["JobCreate"] = openapi_inputs.job_create(components["JobCreate"], components)
    components["BatchCreate"] = openapi_inputs.batch_create(components["BatchCreate"], components)
    components.update(_response_schemas())
    paths = {
        "/v1/jobs": {
            "post": {"summary": "Submit a job", "security": AUTH, "operationId": "createJob",
                     "parameters": [IDEMPOTENCY_KEY],
                     "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(schemas.JobCreate)}}},
                     "responses": {"202": _json(schemas.Job, "Accepted; Location points at the job"),
                                   "200": _json(schemas.Job, "Replay of an earlier request with the same Idempotency-Key"),
                                   **_errors(400, 401, 403, 409, 413, 415, 422, 429)}},
            "get": {"summary": "List recent jobs", "security": AUTH, "operationId": "listJobs",
                    "parameters": [{"name": "state", "in": "query", "schema": {"enum": list(JOB_STATES)}},
                                   {"name": "limit", "in": "query",
                                    "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}}],
                    "responses": {"200": _json_ref("JobList", "Jobs, newest first (without results)"),
                                  **_errors(401, 403, 422)}},
        },
        "/v1/jobs/{job_id}": {
            "get": {"summary": "A job and, when succeeded, its result", "security": AUTH, "operationId": "getJob",
                    "parameters": [JOB_ID], "responses": {"200": _json(schemas.Job, "The job"), **_errors(401, 404)}},
            "delete": {"summary": "Cancel a job that is not finished", "security": AUTH, "operationId": "cancelJob",
                       "parameters": [JOB_ID],
                       "responses": {"200": _json(schemas.Job, "Cancelled"), **_errors(401, 404, 409)}},
        },
        "/v1/jobs/{job_id}/events": {
            "get": {"summary": "Server-Sent Events: state, stage and progress until the terminal event",
                    "security": AUTH, "operationId": "jobEvents",
                    "parameters": [JOB_ID, {"name": "Last-Event-ID", "in": "header", "schema": EVENT_ID},
                                   {"name": "last_event_id", "in": "query", "schema": EVENT_ID,
                                    "description": "For clients that cannot set headers; the header wins"}],
                    "responses": {"200": {"description": SSE_DESCRIPTION,
                                          "content": {"text/event-stream": {"schema": _ref_name("JobStreamEvent")}}},
                                  **_errors(400, 401, 404)}},
        },
        "/v1/batches": {
            "post": {"summary": "Submit many texts of one type at once", "security": AUTH, "operationId": "createBatch",
                     "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(schemas.BatchCreate)}}},
                     "responses": {"202": _json(schemas.Batch, "Accepted"), **_errors(400, 401, 403, 413, 415, 422, 429)}},
        },
        "/v1/batches/{batch_id}": {
            "get": {"summary": "Progress of a batch", "security": AUTH, "operationId": "getBatch",
                    "parameters": [{**JOB_ID, "name": "batch_id"}],
                    "responses": {"200": _json(schemas.Batch, "The batch"), **_errors(401, 404)}},
        },
        "/v1/models": {
            "get": {"summary": "Registered model versions and which one is active", "security": AUTH,
                    "operationId": "listModels",
                    "responses": {"200": _json_ref("ModelList", "Models, each with its versions (active | rejected | "
                                                                "retired), newest first"), **_errors(401, 403)}},
        },
        "/v1/models/{name}/performance": {
            "get": {"summary": "Each version's rolling-origin backtest (MAE per horizon vs the last value and the "
                               "version active when it was trained, interval coverage and width) and its verdict",
                    "security": AUTH, "operationId": "modelPerformance",
                    "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": _json_ref("ModelPerformance", "Versions with their backtest tables"),
                                  **_errors(401, 403, 404)}},
        },
        "/v1/analysis-types": {"get": {"summary": "The analysis types this deployment accepts",
                                       "operationId": "analysisTypes",
                                       "responses": {"200": _json_ref("AnalysisTypeList", "Types")}}},
        "/health/live": {"get": {"summary": "Liveness", "operationId": "live",
                                 "responses": {"200": _json_ref("Live", "Alive")}}},
        "/health/ready": {"get": {"summary": "Readiness: PostgreSQL, Redis and a worker per queue",
                                  "operationId": "ready", "responses": {"200": _json_ref("Readiness", "Ready"),
                                                                        "503": _json_ref("Readiness", "Not ready")}}},
        "/metrics": {"get": {"summary": "Prometheus metrics (MINDQ_METRICS_TOKEN, or an API key with admin)",
                             "operationId": "metrics", "security": AUTH,
                             "responses": {"200": {"description": "Prometheus text exposition",
                                                   "content": {"text/plain": {"schema": {"type": "string"}}}},
                                           **_errors(401, 403)}}},
        **FHIR_PATHS,
    }
    paths.update(journal_openapi.paths(_errors))
    components.update(journal_openapi.components())
    _common_errors(paths)
    return {
        "openapi": "3.1.0",
        "info": {"title": "mindq", "version": "1.0.0",
                 "description": "Asynchronous mental-health text analysis jobs. Patient text is "
                                "encrypted at rest and scrubbed of PHI before any model sees it."},
        "paths": paths,
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def docs_html() -> str:
    """A plain page listing every operation; no CDN, so it works on an offline clinic network."""
    rows = []
    for path, ops in spec()["paths"].items():
        for method, op in ops.items():
            codes = ", ".join(sorted(op.get("responses", {})))
            rows.append(f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                        f"<td>{html.escape(op['summary'])}</td><td>{codes}</td></tr>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>mindq API</title>"
            "<style>body{font-family:system-ui;margin:2rem}td{padding:.3rem .8rem;border-bottom:1px solid #ddd}"
            "</style></head><body><h1>mindq API</h1><p>Machine-readable: <a href='/openapi.json'>/openapi.json</a>."
            " Authenticate with <code>Authorization: Bearer &lt;key&gt;</code>. Errors are "
            "<code>{\"error\": {\"code\", \"message\", \"details\"}}</code>.</p><table><tr><th>Method</th>"
            "<th>Path</th><th>What</th><th>Responses</th></tr>" + "".join(rows) + "</table></body></html>")
