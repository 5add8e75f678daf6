"""HTTP contract: idempotency, tenancy, scopes and every kind of bad input → JSON 4xx, never 500."""
from __future__ import annotations

import uuid

import pytest


def test_idempotency_same_key_and_body_returns_the_same_job(api):
    body = {"type": "scrub", "text": "idempotent text"}
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    s1, j1, h1 = api("POST", "/v1/jobs", body, headers=key)
    s2, j2, h2 = api("POST", "/v1/jobs", body, headers=key)
    assert (s1, s2) == (202, 200)
    assert j1["id"] == j2["id"] and h2["Location"] == h1["Location"]


def test_an_idempotency_key_is_not_stored_in_clear(api):
    import sqlalchemy as sa

    from jobstore import runtime

    key = f"note-of-Jane-Roe-{uuid.uuid4()}"  # clients build keys from their own ids and names
    status, job, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "x"}, headers={"Idempotency-Key": key})
    assert status == 202
    with runtime.db().connect() as conn:
        stored = conn.execute(sa.text("SELECT idempotency_key FROM jobs WHERE id = :id"), {"id": job["id"]}).scalar()
    assert stored and key not in stored and "Jane" not in stored
    again, replay, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "x"}, headers={"Idempotency-Key": key})
    assert again == 200 and replay["id"] == job["id"]  # still found by its hash


def test_idempotency_same_key_other_body_is_409(api):
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    s1, j1, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "first"}, headers=key)
    s2, err, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "second"}, headers=key)
    assert s1 == 202 and s2 == 409
    assert err["error"]["code"] == "IDEMPOTENCY_CONFLICT"
    assert err["error"]["details"]["job_id"] == j1["id"]


def test_idempotency_keys_are_per_tenant(api, keys):
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    _, a, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "x"}, headers=key)
    s, b, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "x"}, headers=key, key=keys["clinic-b"])
    assert s == 202 and a["id"] != b["id"]


def test_other_tenants_job_is_404_everywhere(api, keys):
    _, job, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "private"})
    other = keys["clinic-b"]
    for method, path in (("GET", f"/v1/jobs/{job['id']}"), ("DELETE", f"/v1/jobs/{job['id']}"),
                         ("GET", f"/v1/jobs/{job['id']}/events")):
        status, body, _ = api(method, path, key=other)
        assert status == 404 and body["error"]["code"] == "NOT_FOUND", (method, path)
    # ...and exactly like a job that does not exist at all
    status, body_missing, _ = api("GET", f"/v1/jobs/{uuid.uuid4()}", key=other)
    assert status == 404 and body_missing == body


def test_scopes_are_enforced(api, keys):
    status, body, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "x"}, key=keys["read-only"])
    assert status == 403 and body["error"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("headers,status,code", [
    ({}, 401, "UNAUTHENTICATED"),
    ({"Authorization": "Basic Zm9vOmJhcg=="}, 401, "UNAUTHENTICATED"),
    ({"Authorization": "Bearer "}, 401, "UNAUTHENTICATED"),
    ({"Authorization": "Bearer nope"}, 401, "INVALID_API_KEY"),
    ({"Authorization": "Bearer mq_deadbeef_wrongsecret"}, 401, "INVALID_API_KEY"),
])
def test_missing_or_invalid_keys(client, headers, status, code):
    resp = client.post("/v1/jobs", json={"type": "scrub", "text": "x"}, headers=headers)
    assert resp.status_code == status
    assert resp.get_json()["error"]["code"] == code
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_route_and_wrong_method_are_json(client):
    resp = client.get("/v1/nothing-here")
    assert resp.status_code == 404 and resp.is_json and resp.get_json()["error"]["code"] == "NOT_FOUND"
    resp = client.put("/v1/jobs")
    assert resp.status_code == 405 and resp.get_json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert "POST" in resp.headers["Allow"]


BAD_BODIES = [
    ("malformed json", '{"type": "scrub", "text": ', "application/json", 400, "INVALID_JSON"),
    ("not utf-8", b'{"type": "scrub", "text": "\xff\xfe"}', "application/json", 400, "INVALID_JSON"),
    ("wrong content type", "type=scrub&text=x", "application/x-www-form-urlencoded", 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("no content type", '{"type": "scrub", "text": "x"}', None, 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("json array", '[1, 2]', "application/json", 422, "VALIDATION_ERROR"),
    ("unknown field", '{"type": "scrub", "text": "x", "bogus": 1}', "application/json", 422, "VALIDATION_ERROR"),
    ("bad priority", '{"type": "scrub", "text": "x", "priority": "urgent"}', "application/json", 422, "VALIDATION_ERROR"),
    ("text not a string", '{"type": "scrub", "text": 42}', "application/json", 422, "VALIDATION_ERROR"),
    ("unknown type", '{"type": "astrology", "text": "x"}', "application/json", 422, "UNKNOWN_ANALYSIS_TYPE"),
    ("missing text", '{"type": "scrub"}', "application/json", 422, "MISSING_TEXT"),
    ("blank text", '{"type": "scrub", "text": "   "}', "application/json", 422, "MISSING_TEXT"),
    ("bad callback", '{"type": "scrub", "text": "x", "callback_url": "not a url"}', "application/json", 422, "VALIDATION_ERROR"),
]


@pytest.mark.parametrize("name,raw,ctype,status,code", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_bodies(client, keys, name, raw, ctype, status, code):
    headers = {"Authorization": f"Bearer {keys['clinic-a']}"}
    if ctype:
        headers["Content-Type"] = ctype
    resp = client.post("/v1/jobs", data=raw, headers=headers)
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.is_json
    err = resp.get_json()["error"]
    assert err["code"] == code and err["message"] and isinstance(err["details"], dict)


def test_validation_errors_never_echo_the_input(client, keys):
    secret = "Zanzibar-Quill-6671"
    resp = client.post("/v1/jobs", json={"type": "scrub", "text": 5, "patient_ref": secret * 20},
                       headers={"Authorization": f"Bearer {keys['clinic-a']}"})
    assert resp.status_code == 422
    assert secret not in resp.get_data(as_text=True)


def test_oversized_body_is_413(client, keys, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    resp = client.post("/v1/jobs", data='{"type": "scrub", "text": "' + "a" * (limit + 10) + '"}',
                       headers={"Authorization": f"Bearer {keys['clinic-a']}", "Content-Type": "application/json"})
    assert resp.status_code == 413
    assert resp.get_json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_two_text_type_needs_previous_text(api):
    status, body, _ = api("POST", "/v1/jobs", {"type": "progress", "text": "now better"})
    assert status == 422 and body["error"]["code"] == "MISSING_TEXT"
    assert body["error"]["details"]["field"] == "previous_text"


@pytest.mark.parametrize("depth", [33, 3000])  # past the bound, and deep enough to exhaust json's stack
def test_deeply_nested_json_is_a_400_not_a_500(api, depth):
    body = '{"type": "scrub", "text": "x", "options": ' + "[" * depth + "]" * depth + "}"
    status, resp, _ = api("POST", "/v1/jobs", raw=body, headers={"Content-Type": "application/json"})
    assert status == 400 and resp["error"]["code"] == "INVALID_JSON", resp
    assert resp["error"]["details"] == {"max_depth": 32}


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/v1/jobs", {"type": "Jane Roe MRN 4471", "text": "x"}),  # an unknown type
    ("POST", "/v1/jobs", {"type": "scrub", "text": "x", "options": {"Jane Roe MRN 4471": True}}),
    ("POST", "/v1/batches", {"type": "Jane Roe MRN 4471", "items": [{"text": "x"}]}),
    ("GET", "/v1/jobs?state=Jane%20Roe%20MRN%204471", None),  # an unknown state filter
])
def test_errors_never_echo_what_the_client_sent(api, method, path, body):
    status, resp, _ = api(method, path, body)
    assert status == 422, resp
    assert "Jane" not in str(resp) and "4471" not in str(resp)


def test_bad_ids_and_last_event_id(api):
    status, body, _ = api("GET", "/v1/jobs/not-a-uuid")
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"
    _, job, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "x"})
    # garbage, and ids Redis cannot resume after: a half past 2**64-1, or the very last id
    for bad in ("garbage", "99999999999999999999-0", "0-18446744073709551616",
                "18446744073709551615-18446744073709551615"):
        status, body, _ = api("GET", f"/v1/jobs/{job['id']}/events", headers={"Last-Event-ID": bad})
        assert status == 400 and body["error"]["code"] == "INVALID_LAST_EVENT_ID", bad


def test_bad_batches(api):
    status, body, _ = api("POST", "/v1/batches", {"type": "scrub", "items": []})
    assert status == 422 and body["error"]["code"] == "VALIDATION_ERROR"
    status, body, _ = api("POST", "/v1/batches", {"type": "scrub", "items": [{"text": "ok"}, {"text": ""}]})
    assert status == 422 and body["error"]["code"] == "MISSING_TEXT"
    assert body["error"]["details"]["field"] == "items.1.text"


def test_analysis_types_openapi_and_docs(client):
    types = client.get("/v1/analysis-types").get_json()["analysis_types"]
    names = {t["name"] for t in types}
    assert {"scrub", "depression", "risk", "imhi.dr"} <= names
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {"/v1/jobs", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/events", "/v1/batches"} <= set(spec["paths"])
    assert "JobCreate" in spec["components"]["schemas"]
    assert spec["components"]["schemas"]["JobCreate"]["properties"]["priority"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and b"/v1/jobs" in docs.data


def test_openapi_document_is_valid(client):
    jsonschema = pytest.importorskip("jsonschema")
    spec = client.get("/openapi.json").get_json()
    # every $ref resolves, and every component is a valid JSON Schema
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    for ref in refs:
        assert ref.split("/")[-1] in spec["components"]["schemas"], ref
    for schema in spec["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_health_and_metrics(client, keys, cpu_worker):
    assert client.get("/health/live").get_json() == {"status": "ok"}
    ready = client.get("/health/ready")
    body = ready.get_json()
    assert body["checks"]["postgres"]["ok"] and body["checks"]["redis"]["ok"]
    assert body["checks"]["queue:cpu"]["ok"]
    assert client.get("/metrics").status_code == 401  # platform-wide counts are not public
    assert client.get("/metrics", headers={"Authorization": f"Bearer {keys['clinic-a']}"}).status_code == 403
    from jobstore import runtime, tenants

    admin = tenants.add_key(runtime.db(), tenants.ensure_tenant(runtime.db(), "ops"), scopes=tenants.ALL_SCOPES)
    metrics = client.get("/metrics", headers={"Authorization": f"Bearer {admin}"})
    assert metrics.status_code == 200
    text = metrics.get_data(as_text=True)
    assert "mindq_queue_depth" in text and "mindq_http_requests_total" in text


def test_the_metrics_token_reads_metrics_and_nothing_else(client, keys):
    import dataclasses

    from core import config

    before = config.settings()
    config.use(dataclasses.replace(before, metrics_token="scrape-token-1234"))
    try:
        bearer = {"Authorization": "Bearer scrape-token-1234"}
        assert client.get("/metrics", headers=bearer).status_code == 200
        assert client.get("/metrics", headers={"Authorization": "Bearer scrape-token-12345"}).status_code == 401
        assert client.get("/v1/jobs", headers=bearer).status_code == 401  # not an API key
    finally:
        config.use(before)


def test_rate_limit_is_per_tenant_and_a_json_429(platform_env, keys):
    import os

    from api.app import create_app
    from core.config import load_settings

    # an hour, not a minute: the window is aligned to the clock, and the test must not straddle an edge
    app = create_app(load_settings({**os.environ, "MINDQ_RATE_LIMIT": "3 per hour"}))
    c = app.test_client()

    def post(key):
        return c.post("/v1/jobs", json={"type": "scrub", "text": "x"}, headers={"Authorization": f"Bearer {key}"})

    answers = [post(keys["clinic-b"]) for _ in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers[:3]] == ["2", "1", "0"]
    assert all(a.headers["X-RateLimit-Limit"] == "3" for a in answers[:3])
    assert "Retry-After" not in answers[0].headers
    resp = post(keys["clinic-b"])
    assert resp.get_json()["error"]["code"] == "RATE_LIMITED" and 0 < int(resp.headers["Retry-After"]) <= 3601
    assert resp.get_json()["error"]["details"]["limit"] == "3 per hour"
    assert post(keys["clinic-a"]).status_code == 202  # another tenant has its own budget


def test_rate_limit_lets_requests_through_when_redis_is_unreachable():
    import redis

    from api.ratelimit import RateLimit

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    assert RateLimit("1 per minute", dead).hit("tenant:x") is None


def test_unknown_options_are_refused_so_no_text_is_stored_in_clear(api):
    # `options` is stored unencrypted: free text must not get in under an unknown key
    status, body, _ = api("POST", "/v1/jobs", {"type": "depression", "text": "x",
                                               "options": {"note": "Mr. Smith at 555-0100"}})
    assert status == 422 and body["error"]["code"] == "INVALID_OPTION"
    assert body["error"]["details"]["unknown_count"] == 1
    assert "Smith" not in str(body) and "note" not in str(body)  # neither the value nor the key
    status, body, _ = api("POST", "/v1/jobs", {"type": "progress", "text": "x", "previous_text": "y",
                                               "options": {"previous_text": "smuggled"}})
    assert status == 422 and body["error"]["code"] == "INVALID_OPTION"
    status, body, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "x", "options": {"surrogate": "yes"}})
    assert status == 422 and body["error"]["code"] == "INVALID_OPTION"
    status, _, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "x", "options": {"surrogate": True}})
    assert status == 202
