"""The OpenAPI document agrees with the API: real responses from the web role (its gunicorn line)
validate against it, status by status, and the limits it states are the ones the API enforces.

`conform` validates any response against the operation the document gives for its method and
path, so a check written here covers whatever the document says; schemathesis then fuzzes every
documented operation (test_openapi_fuzz.py), new ones included.
"""
from __future__ import annotations

import json
import re
import uuid

import httpx
import jsonschema
import pytest

from jobstore.tables import JOB_STATES
from tasks.jobtypes import job_types
from tests.platform.conftest import wait_until

SERIES = {"instrument": "PHQ-9", "observations": [
    {"timestamp": f"2026-0{m}-01T09:00:00Z", "value": v} for m, v in zip(range(1, 8), (18, 16, 15, 13, 12, 10, 9),
                                                                            strict=True)]}


@pytest.fixture(scope="module")
def doc(web_server) -> dict:
    return httpx.get(web_server + "/openapi.json", timeout=10).json()


def _operation(doc: dict, method: str, path: str) -> dict:
    for template, ops in doc["paths"].items():
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path) and method.lower() in ops:
            return ops[method.lower()]
    raise AssertionError(f"{method} {path} is not in the document")


def _validate(doc: dict, schema: dict, value) -> None:
    # the schema with the document's components at its root, so that its $refs resolve
    jsonschema.Draft202012Validator({**schema, "components": doc["components"]},
                                    format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(value)


def conform(doc: dict, method: str, path: str, resp: httpx.Response) -> httpx.Response:
    """The response's status, media type and body are what the document says for this operation."""
    op = _operation(doc, method, path.split("?")[0])
    documented = op["responses"].get(str(resp.status_code)) or op["responses"].get("default")
    assert documented, f"{method} {path}: {resp.status_code} is not documented ({sorted(op['responses'])})"
    media = resp.headers.get("content-type", "").split(";")[0].strip()
    content = documented.get("content")
    if content is None:
        return resp
    assert media in content, f"{method} {path} {resp.status_code}: {media} is not documented ({list(content)})"
    if media == "application/json":
        _validate(doc, content[media]["schema"], resp.json())
    return resp


@pytest.fixture()
def call(web_server, doc, keys):
    def do(method: str, path: str, *, key: str | None = "clinic-a", **kwargs) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if key:
            headers["Authorization"] = f"Bearer {keys.get(key, key)}"
        resp = httpx.request(method, web_server + path, headers=headers, timeout=30, **kwargs)
        return conform(doc, method, path, resp)

    return do


def test_submissions_and_their_jobs_validate(call, cpu_worker):
    scrub = call("POST", "/v1/jobs", json={"type": "scrub", "text": "Seen by Dr Ada Byron on 3 May.",
                                           "options": {"surrogate": False}}).json()
    series = call("POST", "/v1/jobs", json={"type": "forecast", "payload": SERIES, "priority": "batch"}).json()
    two = call("POST", "/v1/jobs", json={"type": "progress", "text": "better", "previous_text": "worse"})
    assert two.status_code == 202
    for job in (scrub, series):
        done = wait_until(lambda j=job: (r := call("GET", f"/v1/jobs/{j['id']}").json())["state"] in
                          ("succeeded", "failed") and r, 120, 0.2, what="a terminal job")
        assert done["state"] == "succeeded" and done["result"], done
    call("GET", "/v1/jobs?state=succeeded&limit=5")
    call("GET", "/v1/jobs")
    assert call("DELETE", f"/v1/jobs/{scrub['id']}").status_code == 409  # already finished
    assert call("DELETE", f"/v1/jobs/{two.json()['id']}").status_code in (200, 409)
    batch = call("POST", "/v1/batches", json={"type": "scrub", "items": [{"text": "a"}, {"text": "b"}]}).json()
    call("GET", f"/v1/batches/{batch['id']}")


def test_idempotent_replays_and_conflicts_validate(call):
    key = {"Idempotency-Key": f"conformance-{uuid.uuid4()}"}
    assert call("POST", "/v1/jobs", json={"type": "scrub", "text": "x"}, headers=key).status_code == 202
    assert call("POST", "/v1/jobs", json={"type": "scrub", "text": "x"}, headers=key).status_code == 200
    assert call("POST", "/v1/jobs", json={"type": "scrub", "text": "y"}, headers=key).status_code == 409


def test_refusals_validate(call):
    missing = f"/v1/jobs/{uuid.uuid4()}"
    assert call("GET", missing).status_code == 404
    assert call("GET", missing + "/events").status_code == 404
    assert call("GET", f"/v1/batches/{uuid.uuid4()}").status_code == 404
    assert call("GET", "/v1/jobs", key=None).status_code == 401
    assert call("GET", "/v1/jobs", key="not-a-key").status_code == 401
    assert call("POST", "/v1/jobs", key="read-only", json={"type": "scrub", "text": "x"}).status_code == 403
    assert call("POST", "/v1/jobs", content=b"{", headers={"Content-Type": "application/json"}).status_code == 400
    assert call("POST", "/v1/jobs", content=b"x", headers={"Content-Type": "text/plain"}).status_code == 415
    for body in ({"type": "scrub"}, {"type": "no-such-type", "text": "x"}, {"type": "scrub", "text": "x", "oops": 1},
                 {"type": "scrub", "text": "x", "options": {"temperature": 2}}):
        assert call("POST", "/v1/jobs", json=body).status_code == 422, body
    assert call("POST", "/v1/batches", json={"type": "scrub", "items": []}).status_code == 422
    assert call("GET", "/v1/models/no-such-model/performance").status_code == 404
    assert call("GET", "/metrics").status_code == 403  # a tenant's key without admin


def test_meta_operations_validate(call, doc):
    """Every documented GET without path parameters, whoever added it."""
    for path, ops in doc["paths"].items():
        if "get" in ops and "{" not in path and "text/event-stream" not in json.dumps(ops["get"]["responses"]):
            call("GET", path)


def test_events_validate_and_each_event_is_a_job_event(call, doc, keys, web_server, cpu_worker):
    job = call("POST", "/v1/jobs", json={"type": "scrub", "text": "x"}).json()
    op = _operation(doc, "GET", f"/v1/jobs/{job['id']}/events")
    each_event = op["responses"]["200"]["content"]["text/event-stream"]["schema"]  # Open API 3.1: one event
    events, current = [], {}
    with httpx.stream("GET", f"{web_server}/v1/jobs/{job['id']}/events", timeout=60,
                      headers={"Authorization": f"Bearer {keys['clinic-a']}"}) as resp:
        conform(doc, "GET", f"/v1/jobs/{job['id']}/events", resp)
        for line in resp.iter_lines():
            if line == "" and "data" in current:
                events.append({"event": "message", **current})
            if line == "":
                current = {}
            elif not line.startswith(":"):
                field, _, value = line.partition(": ")
                current[field] = int(value) if field == "retry" else value
    assert events and json.loads(events[-1]["data"])["state"] in ("succeeded", "failed", "cancelled")
    job_event = doc["components"]["schemas"]["JobEvent"]
    for event in events:
        _validate(doc, each_event, event)
        _validate(doc, job_event, json.loads(event["data"]))  # the data's contentSchema


def doc_event_id(doc: dict) -> str:
    op = doc["paths"]["/v1/jobs/{job_id}/events"]["get"]
    return next(p["schema"]["pattern"] for p in op["parameters"] if p["name"] == "Last-Event-ID")


# -- the limits the document states are the ones the API enforces (issue 17's seven places) --

def test_list_parameters_are_what_the_document_says(call, doc):
    params = {p["name"]: p["schema"] for p in doc["paths"]["/v1/jobs"]["get"]["parameters"]}
    assert params["state"]["enum"] == list(JOB_STATES)
    assert (params["limit"]["minimum"], params["limit"]["maximum"]) == (1, 500)
    for limit, status in (("1", 200), ("500", 200), ("0", 422), ("501", 422), ("10000", 422), ("-1", 422),
                          ("x", 422)):
        assert call("GET", f"/v1/jobs?limit={limit}").status_code == status, limit
    for state in JOB_STATES:
        assert call("GET", f"/v1/jobs?state={state}").status_code == 200
    for state in ("", "QUEUED", "done"):
        assert call("GET", f"/v1/jobs?state={state}").status_code == 422, state


def test_the_submission_schema_names_every_type_and_its_inputs(doc):
    schema = doc["components"]["schemas"]["JobCreate"]
    assert schema["properties"]["type"]["enum"] == list(job_types())
    branches = {b["title"]: b for b in schema["oneOf"]}
    assert set(branches) == set(job_types())
    assert set(branches["progress"]["required"]) == {"type", "text", "previous_text"}
    assert set(branches["forecast"]["required"]) == {"type", "payload"}
    assert branches["depression"]["properties"]["options"]["additionalProperties"] is False
    valid = {"type": "scrub", "text": "x"}
    _validate(doc, schema, valid)
    for invalid in ({"type": "scrub"}, {"type": "scrub", "text": " \t"}, {"type": "no-such-type", "text": "x"},
                    {"type": "scrub", "text": "x", "options": {"temperature": 1}},
                    {"type": "forecast", "text": "x"}, {"type": "progress", "text": "x"}):
        with pytest.raises(jsonschema.ValidationError):
            _validate(doc, schema, invalid)


@pytest.mark.parametrize("value", ["0-0", "0-1", "1733140000000-0", "0001-2", "9" * 19 + "-" + "9" * 19,
                                   "", "x", "1", "1-", "-1", "1-1-1", " 1-1", "9" * 20 + "-0", "0-" + "9" * 20,
                                   "18446744073709551615-18446744073709551615", "\u0663-1", "1-\u0661"])
def test_last_event_id_is_accepted_exactly_when_the_pattern_matches(call, doc, keys, web_server, value):
    job = call("POST", "/v1/jobs", json={"type": "scrub", "text": "x"}).json()
    matches = re.search(doc_event_id(doc), value) is not None
    # the query form carries what a header cannot (an empty value, non-ASCII digits); only the
    # head is read, since a stream resumed past the job's events stays open
    with httpx.stream("GET", f"{web_server}/v1/jobs/{job['id']}/events", params={"last_event_id": value},
                      headers={"Authorization": f"Bearer {keys['clinic-a']}"}, timeout=30) as resp:
        assert resp.status_code == (200 if matches else 400), (value, resp.status_code)
        if resp.status_code == 400:
            resp.read()
            conform(doc, "GET", f"/v1/jobs/{job['id']}/events", resp)


def test_a_bad_last_event_id_in_the_query_is_refused_even_beside_a_good_header(call, keys, web_server):
    job = call("POST", "/v1/jobs", json={"type": "scrub", "text": "x"}).json()
    resp = httpx.get(f"{web_server}/v1/jobs/{job['id']}/events", params={"last_event_id": "x"}, timeout=30,
                     headers={"Authorization": f"Bearer {keys['clinic-a']}", "Last-Event-ID": "0-1"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "INVALID_LAST_EVENT_ID"


def test_idempotency_key_lengths_are_what_the_document_says(call, doc):
    param = next(p for p in doc["paths"]["/v1/jobs"]["post"]["parameters"] if p["name"] == "Idempotency-Key")
    assert (param["schema"]["minLength"], param["schema"]["maxLength"]) == (1, 255)
    body = {"type": "scrub", "text": "x"}
    assert call("POST", "/v1/jobs", json=body, headers={"Idempotency-Key": ""}).status_code == 400
    assert call("POST", "/v1/jobs", json=body, headers={"Idempotency-Key": "k" * 256}).status_code == 400
    assert call("POST", "/v1/jobs", json=body, headers={"Idempotency-Key": f"{uuid.uuid4()}"}).status_code == 202


def test_a_journal_entry_written_at_an_offset_postgresql_refuses_is_stored(call):
    """ISO 8601 allows -16:49; PostgreSQL refused it with a 500 (found by bench.fuzz)."""
    from jobstore import runtime, tenants

    engine = runtime.db()
    key = tenants.add_key(engine, tenants.ensure_tenant(engine, "clinic-a"), scopes=tenants.ALL_SCOPES)
    body = {"entries": [{"entry_id": "e1", "written_at": "2026-04-01T02:10:26-16:49", "text": "slept badly"}]}
    path = f"/v1/patients/conformance-{uuid.uuid4()}/journal"
    assert call("POST", path, key=key, json=body).status_code in (200, 201)
    body["entries"][0]["written_at"] = "9999-12-31T23:00:00-10:00"  # past year 9999 in UTC
    assert call("POST", path, key=key, json=body).status_code == 422
