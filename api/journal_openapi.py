"""The journals' and re-analysis runs' part of /openapi.json (api.openapi merges it in)."""
from __future__ import annotations

from pydantic import BaseModel

from api import journal_schemas as js

REF = "#/components/schemas/{model}"
MODELS: tuple[type[BaseModel], ...] = (js.JournalCreate, js.JournalStored, js.Journal, js.Flags,
                                       js.ReanalysisRunCreate, js.ReanalysisRun)
AUTH: list[dict[str, list[str]]] = [{"bearer": []}]
PATIENT = {"name": "patient_ref", "in": "path", "required": True,
           "schema": {"type": "string", "minLength": 1, "maxLength": js.MAX_REF, "pattern": js.NOT_BLANK},
           "description": "The EMR's patient reference; kept only as a keyed hash (and encrypted)"}
# api.event_feed.valid_event_id's bounds, as the jobs' stream states them
EVENT_ID = {"type": "string", "pattern": "^[0-9]{1,19}-[0-9]{1,19}$"}
RUN_ID = {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": REF.format(model=model.__name__)}


def _json(model: type[BaseModel], description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


def _body(model: type[BaseModel]) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _ref(model)}}}


def components() -> dict:
    from tasks.reanalysis import analysable_types

    out: dict = {}
    for model in MODELS:
        schema = model.model_json_schema(ref_template=REF, mode="serialization", by_alias=True)
        out.update(schema.pop("$defs", {}))
        out[model.__name__] = schema
    # the types a run may name: what the deployment serves, known only when the document is built
    out["ReanalysisRunCreate"]["properties"]["types"]["anyOf"][0]["items"] = {"enum": analysable_types()}
    counts = {"type": "object", "required": ["selected", "done", "failed"],
              "properties": {k: {"type": "integer", "minimum": 0} for k in ("selected", "done", "failed")}}
    out["RunEvent"] = {"type": "object", "required": ["run_id", "state", "progress", "counts", "flags_raised"],
                       "properties": {"run_id": {"type": "string", "format": "uuid"},
                                      "state": {"enum": ["queued", "running", "succeeded", "failed", "cancelled"]},
                                      "progress": {"type": "integer", "minimum": 0, "maximum": 100},
                                      "counts": counts, "flags_raised": {"type": "integer", "minimum": 0},
                                      "at": {"type": "string"}}}
    out["RunStreamEvent"] = {"type": "object", "required": ["data", "event"],
                             "properties": {"event": {"enum": ["run", "end"]}, "id": EVENT_ID,
                                            "retry": {"type": "integer", "minimum": 0},
                                            "data": {"type": "string", "contentMediaType": "application/json",
                                                     "contentSchema": {"$ref": REF.format(model="RunEvent")}}}}
    return out


def paths(errors) -> dict:
    """``errors(*codes)``: api.openapi's error responses."""
    return {
        "/v1/patients/{patient_ref}/journal": {
            "post": {"summary": "Store journal entries (idempotent per entry_id; the same entry_id with another "
                                "text or date is 409 JOURNAL_ENTRY_CONFLICT and nothing is written)",
                     "security": AUTH, "operationId": "addJournalEntries", "parameters": [PATIENT],
                     "requestBody": _body(js.JournalCreate),
                     "responses": {"201": _json(js.JournalStored, "Stored (at least one entry is new)"),
                                   "200": _json(js.JournalStored, "Every entry was stored before"),
                                   **errors(400, 401, 403, 409, 413, 415, 422)}},
            "get": {"summary": "A patient's entries with their analyses (text only with ?include=text)",
                    "security": AUTH, "operationId": "getJournal",
                    "parameters": [PATIENT, {"name": "include", "in": "query",
                                             "schema": {"type": "string", "enum": ["text"]}}],
                    "responses": {"200": _json(js.Journal, "Entries, oldest first"), **errors(401, 403, 404, 422)}},
        },
        "/v1/patients/{patient_ref}/flags": {
            "get": {"summary": "Flags raised by change detection (label change, risk increase, negative trend)",
                    "security": AUTH, "operationId": "getFlags", "parameters": [PATIENT],
                    "responses": {"200": _json(js.Flags, "Newest first"), **errors(401, 403, 404, 422)}},
        },
        "/v1/reanalysis-runs": {
            "post": {"summary": "Start a re-analysis run: every (entry, type) without an analysis at today's "
                                "model, prompt, parser and scrubber versions, on the llm.batch queue",
                     "security": AUTH, "operationId": "createReanalysisRun", "requestBody": _body(js.ReanalysisRunCreate),
                     "responses": {"202": _json(js.ReanalysisRun, "Started; Location points at the run"),
                                   **errors(400, 401, 403, 413, 415, 422)}},
            "get": {"summary": "Recent runs", "security": AUTH, "operationId": "listReanalysisRuns",
                    "parameters": [{"name": "limit", "in": "query",
                                    "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
                    "responses": {"200": {"description": "{\"runs\": [ReanalysisRun]}, newest first"},
                                  **errors(401, 403, 422)}},
        },
        "/v1/reanalysis-runs/{run_id}": {
            "get": {"summary": "A run: state, counts, progress, flags raised (the first 100 with their patient)",
                    "security": AUTH, "operationId": "getReanalysisRun", "parameters": [RUN_ID],
                    "responses": {"200": _json(js.ReanalysisRun, "The run"), **errors(401, 403, 404)}},
            "delete": {"summary": "Cancel a run that has not ended (pairs being analysed finish and are kept)",
                       "security": AUTH, "operationId": "cancelReanalysisRun", "parameters": [RUN_ID],
                       "responses": {"200": _json(js.ReanalysisRun, "Cancelled"), **errors(401, 403, 404, 409)}},
        },
        "/v1/reanalysis-runs/{run_id}/events": {
            "get": {"summary": "Server-Sent Events of the run's progress (`event: run`, then `event: end`), "
                               "resumable with Last-Event-ID like a job's",
                    "security": AUTH, "operationId": "reanalysisRunEvents",
                    "parameters": [RUN_ID, {"name": "Last-Event-ID", "in": "header", "schema": EVENT_ID}],
                    "responses": {"200": {"description": "text/event-stream: `retry:`, then `run` events and the "
                                                         "`end` one, each a JSON RunEvent, heartbeat comments",
                                          "content": {"text/event-stream": {
                                              "schema": {"$ref": REF.format(model="RunStreamEvent")}}}},
                                  **errors(400, 401, 403, 404)}},
        },
    }
