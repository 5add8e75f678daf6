"""The FHIR R4 facade against the real stack: Tasks in, jobs underneath, Tasks with their result
out, every resource checked by fhir.resources' R4B models; refusals are OperationOutcome."""
from __future__ import annotations

import base64
import datetime as dt
import json
import random
import uuid

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.task import Task

from tests.platform.conftest import read_sse, wait_until

FHIR = "application/fhir+json"
TYPE = "https://mindq.dev/analysis-type"
INPUT = "https://mindq.dev/task-input"
START = dt.date(2026, 1, 5)
JOURNAL = "Jane Roe (MRN 4471902) said she has felt hopeless for weeks and sleeps badly."


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def text_task(job_type: str, text: str, **extra) -> dict:
    return {"resourceType": "Task", "status": "requested", "intent": "order",
            "code": {"coding": [{"system": TYPE, "code": job_type}]}, "for": {"reference": "Patient/p-123"},
            "input": [{"type": {"text": "journal entry"},
                       "valueAttachment": {"contentType": "text/plain; charset=utf-8", "data": b64(text)}}], **extra}


def phq9_task(scores: list[int], horizon: int = 4, loinc: str = "44261-6") -> dict:
    observations = [{"resourceType": "Observation", "id": f"phq{i}", "status": "final",
                     "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
                     "effectiveDateTime": (START + dt.timedelta(weeks=i)).isoformat(), "valueInteger": v}
                    for i, v in enumerate(scores)]
    random.Random(7).shuffle(observations)  # a set of Observations has no order: the facade sorts them
    return {"resourceType": "Task", "status": "requested", "intent": "order",
            "code": {"coding": [{"system": TYPE, "code": "forecast"}]}, "for": {"reference": "Patient/p-123"},
            "contained": observations,
            "input": [*({"type": {"text": "score"}, "valueReference": {"reference": f"#{o['id']}"}}
                        for o in observations),
                      {"type": {"coding": [{"system": INPUT, "code": "horizon"}]}, "valueInteger": horizon}]}


@pytest.fixture()
def fhir(client, keys):
    """Calls /fhir/r4 as clinic-a: (status, parsed body, headers); every body must be FHIR JSON."""

    def call(method: str, path: str, body=None, key: str | None = None, headers: dict | None = None, raw=None):
        h = {"Authorization": f"Bearer {key or keys['clinic-a']}", **(headers or {})}
        data = raw if raw is not None else json.dumps(body) if body is not None else None
        if data is not None:
            h.setdefault("Content-Type", FHIR)
        resp = client.open("/fhir/r4" + path, method=method, data=data, headers=h)
        assert resp.mimetype == FHIR, (resp.status_code, resp.mimetype, resp.get_data(as_text=True)[:300])
        return resp.status_code, json.loads(resp.get_data(as_text=True)), resp.headers

    return call


def outcome(body: dict, status: int, *codes: str) -> dict:
    """The body is a valid OperationOutcome carrying one of mindq's codes; its first issue."""
    OperationOutcome.model_validate(body)
    issue = body["issue"][0]
    assert issue["severity"] == "error"
    assert issue["details"]["coding"][0]["code"] in codes, (status, body)
    return issue


def wait_task(fhir, task_id: str, timeout: float = 120) -> dict:
    def done():
        status, body, _ = fhir("GET", f"/Task/{task_id}")
        assert status == 200, body
        Task.model_validate(body)
        return body if body["status"] in ("completed", "failed", "cancelled") else None

    return wait_until(done, timeout, 0.1, what=f"Task {task_id} to finish")


def contained(task: dict, ref: str) -> dict:
    return next(r for r in task["contained"] if f"#{r['id']}" == ref)


def test_metadata_is_a_capability_statement(client):
    resp = client.get("/fhir/r4/metadata")  # public, like every FHIR server's
    assert resp.status_code == 200 and resp.mimetype == FHIR
    cap = CapabilityStatement.model_validate(resp.get_json(force=True))
    task = next(r for r in cap.rest[0].resource if r.type == "Task")
    assert {i.code for i in task.interaction} == {"create", "read"}
    assert FHIR in cap.format


def test_openapi_lists_the_fhir_routes(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert {"/fhir/r4/metadata", "/fhir/r4/Task", "/fhir/r4/Task/{task_id}"} <= set(paths)
    assert "Idempotency-Key" in json.dumps(paths["/fhir/r4/Task"])


def test_forecast_task_round_trip(fhir, api, cpu_worker):
    status, task, headers = fhir("POST", "/Task", phq9_task([18, 17, 15, 14, 14, 12, 11, 10]))
    assert status == 201, task
    Task.model_validate(task)
    assert task["status"] in ("requested", "in-progress", "completed")
    assert task["for"] == {"reference": "Patient/p-123"}
    assert headers["Location"].endswith(f"/fhir/r4/Task/{task['id']}")
    assert f"/v1/jobs/{task['id']}/events" in headers["Link"]
    done = wait_task(fhir, task["id"])
    assert done["status"] == "completed" and done["businessStatus"]["text"] == "done" or done["status"] == "completed"
    forecasts = [o for o in done["output"] if "valueReference" in o]
    assert len(forecasts) == 4
    weeks = []
    for out in forecasts:
        obs = contained(done, out["valueReference"]["reference"])
        assert obs["resourceType"] == "Observation" and obs["subject"] == {"reference": "Patient/p-123"}
        assert {"system": "http://loinc.org", "code": "44261-6"} in obs["code"]["coding"]
        bounds = {c["code"]["coding"][0]["code"]: c["valueQuantity"]["value"] for c in obs["component"]}
        assert 0 <= bounds["lower"] <= obs["valueQuantity"]["value"] <= bounds["upper"] <= 27
        weeks.append(obs["effectiveDateTime"])
    assert weeks == sorted(weeks) and weeks[0] == (START + dt.timedelta(weeks=8)).isoformat()
    # the same job through the job API: the same numbers, and the whole result rides along
    status, job, _ = api("GET", f"/v1/jobs/{task['id']}")
    assert status == 200 and job["state"] == "succeeded"
    raw = next(o for o in done["output"] if o["type"]["coding"][0]["code"] == "mindq-result")
    assert json.loads(base64.b64decode(raw["valueAttachment"]["data"])) == job["result"]
    assert [f["point"] for f in job["result"]["forecasts"]] == [
        contained(done, o["valueReference"]["reference"])["valueQuantity"]["value"] for o in forecasts]


def test_text_task_via_attachment_and_document_reference(fhir, api, cpu_worker, keys, web_server):
    status, task, _ = fhir("POST", "/Task", text_task("scrub", JOURNAL))
    assert status == 201, task
    doc = {"resourceType": "DocumentReference", "id": "note", "status": "current",
           "content": [{"attachment": {"contentType": "text/plain", "data": b64(JOURNAL)}}]}
    body = text_task("scrub", JOURNAL, contained=[doc])
    body["input"] = [{"type": {"coding": [{"system": INPUT, "code": "text"}]},
                      "valueReference": {"reference": "#note"}}]
    status, task2, _ = fhir("POST", "/Task", body)
    assert status == 201, task2
    for t in (task, task2):
        done = wait_task(fhir, t["id"])
        assert done["status"] == "completed", done
        _, job, _ = api("GET", f"/v1/jobs/{t['id']}")
        assert "[NAME]" in job["result"]["text"] and "Jane Roe" not in job["result"]["text"]
    # the job's event stream serves the Task too
    events = [e for e in read_sse(f"{web_server}/v1/jobs/{task['id']}/events", keys["clinic-a"]) if "data" in e]
    assert events[0]["data"]["state"] == "queued" and events[-1]["data"]["state"] == "succeeded"


def test_risk_task_is_a_risk_assessment(fhir, llm_worker, cpu_worker):
    body = text_task("risk", "I keep thinking everyone would be better off without me.")
    body["input"].append({"type": {"coding": [{"system": INPUT, "code": "max_new_tokens"}]}, "valueInteger": 16})
    status, task, _ = fhir("POST", "/Task", body)
    assert status == 201, task
    done = wait_task(fhir, task["id"], timeout=180)
    assert done["status"] == "completed", done
    out = next(o for o in done["output"] if o["type"]["coding"][0]["code"] == "result")
    risk = contained(done, out["valueReference"]["reference"])
    assert risk["resourceType"] == "RiskAssessment"
    assert risk["subject"] == {"reference": "Patient/p-123"}
    assert risk["method"]["coding"][0] == {"system": TYPE, "code": "risk"}
    assert risk["status"] in ("final", "preliminary")  # the tiny model's answer may not parse
    if risk["status"] == "final":
        assert risk["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] in ("low", "medium", "high")


def test_idempotency_key_replays_and_conflicts(fhir):
    key = f"emr-order-{uuid.uuid4().hex}"
    body = phq9_task([10, 11, 12, 13, 12])
    first = fhir("POST", "/Task", body, headers={"Idempotency-Key": key})
    again = fhir("POST", "/Task", body, headers={"Idempotency-Key": key})
    assert first[0] == 201 and again[0] == 200 and again[1]["id"] == first[1]["id"]
    status, body2, _ = fhir("POST", "/Task", phq9_task([10, 11, 12, 13, 14]), headers={"Idempotency-Key": key})
    assert status == 409
    assert outcome(body2, 409, "IDEMPOTENCY_CONFLICT")["code"] == "conflict"


SECRET = "Zebulon Quark-Fitzgerald"  # must never come back in an error


@pytest.mark.parametrize("body,status,code,where", [
    ({"resourceType": "Patient", "name": [{"text": SECRET}]}, 400, "INVALID_RESOURCE", "Task.resourceType"),
    ({"resourceType": "Task", "intent": "order", "note": [{"text": SECRET}]}, 400, "INVALID_RESOURCE", "Task.status"),
    ({**text_task("risk", SECRET), SECRET: 1}, 400, "INVALID_RESOURCE", "Task"),
    ({**text_task("risk", SECRET), "status": "filed"}, 400, "INVALID_RESOURCE", "Task.status"),  # not TaskStatus
    ({**text_task("risk", SECRET), "intent": "wish"}, 400, "INVALID_RESOURCE", "Task.intent"),
    ({**text_task("risk", SECRET), "contained": [{"resourceType": "NoSuchThing", "id": "x"}]}, 400,
     "INVALID_RESOURCE", "Task.contained"),
    ({**text_task("risk", SECRET), "code": {"coding": [{"system": TYPE, "code": SECRET}]}}, 422,
     "UNKNOWN_ANALYSIS_TYPE", "Task.code"),
    ({**text_task("risk", SECRET), "code": {"text": "risk"}}, 422, "UNKNOWN_ANALYSIS_TYPE", "Task.code"),
    ({**text_task("risk", SECRET), "input": []}, 422, "MISSING_TEXT", "Task.input"),
    ({**text_task("risk", SECRET), "input": [{"type": {"text": "t"}, "valueAttachment": {
        "contentType": "text/plain", "url": "https://emr.example/notes/1"}}]}, 422, "MISSING_TEXT",
     "Task.input[0].valueAttachment.data"),
    ({**text_task("risk", SECRET), "input": [{"type": {"text": "t"}, "valueReference": {
        "reference": "DocumentReference/9"}}]}, 422, "VALIDATION_ERROR", "Task.input[0].valueReference"),
    ({**text_task("risk", SECRET), "for": {"reference": "Patient/" + "9" * 200}}, 422, "VALIDATION_ERROR", "Task.for"),
    ({**text_task("risk", SECRET), "input": [*text_task("risk", SECRET)["input"], {
        "type": {"coding": [{"system": INPUT, "code": SECRET}]}, "valueInteger": 3}]}, 422, "INVALID_OPTION", "Task.input"),
    (phq9_task([10, 11]), 422, "INVALID_SERIES", "Task.contained"),
    (phq9_task([10, 11, 12, 40]), 422, "INVALID_SERIES", "Task.contained"),
    (phq9_task([10, 11, 12, 13], loinc="1234-5"), 422, "INVALID_SERIES", "Task.contained[0].code"),
    (phq9_task([10, 11, 12, 13], horizon=99), 422, "INVALID_SERIES", "Task.contained"),
])
def test_invalid_tasks_are_operation_outcomes(fhir, body, status, code, where):
    got, out, _ = fhir("POST", "/Task", body)
    assert got == status, out
    issue = outcome(out, got, code)
    assert any(e == where or e.startswith(where) for e in issue.get("expression", [])), issue
    assert SECRET not in json.dumps(out)
    if code == "INVALID_SERIES" and "horizon" not in json.dumps(body):
        assert issue.get("diagnostics") in ("series_too_short", "value_out_of_range", None), issue


def test_protocol_errors_are_operation_outcomes(fhir, keys, client):
    status, body, _ = fhir("POST", "/Task", raw="{not json")
    assert status == 400 and outcome(body, status, "INVALID_JSON")
    status, body, _ = fhir("POST", "/Task", raw=json.dumps(text_task("risk", "x")), headers={"Content-Type": "text/xml"})
    assert status == 415 and outcome(body, status, "UNSUPPORTED_MEDIA_TYPE")
    status, body, headers = fhir("GET", f"/Task/{uuid.uuid4()}", headers={"Authorization": ""})
    assert status == 401 and outcome(body, status, "UNAUTHENTICATED")["code"] == "login"
    status, body, _ = fhir("POST", "/Task", text_task("risk", "x"), key=keys["read-only"])
    assert status == 403 and outcome(body, status, "FORBIDDEN")
    for path in (f"/Task/{uuid.uuid4()}", "/Task/not-a-uuid", "/Patient/1", "/"):
        status, body, _ = fhir("GET", path)
        assert status == 404 and outcome(body, status, "NOT_FOUND")["code"] == "not-found", path
    status, body, headers = fhir("PUT", "/Task", text_task("risk", "x"))
    assert status == 405 and outcome(body, status, "METHOD_NOT_ALLOWED") and headers["Allow"] == "POST, OPTIONS"
    status, body, headers = fhir("DELETE", f"/Task/{uuid.uuid4()}")
    assert status == 405 and headers["Allow"] == "GET, HEAD, OPTIONS"
    # OPTIONS lists exactly what each path takes (not the catch-all's methods)
    for path, allow in (("/Task", "POST, OPTIONS"), (f"/Task/{uuid.uuid4()}", "GET, HEAD, OPTIONS"),
                        ("/metadata", "GET, HEAD, OPTIONS")):
        resp = client.options("/fhir/r4" + path)
        assert resp.status_code == 200 and resp.headers["Allow"] == allow, path


def test_another_tenants_task_is_not_found(fhir, keys, cpu_worker):
    status, task, _ = fhir("POST", "/Task", phq9_task([5, 6, 7, 8]))
    assert status == 201
    status, body, _ = fhir("GET", f"/Task/{task['id']}", key=keys["clinic-b"])
    assert status == 404 and outcome(body, status, "NOT_FOUND")
