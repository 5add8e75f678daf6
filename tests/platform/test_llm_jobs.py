"""LLM analysis jobs through the real llm worker (threads pool + engine) on the default model
(the shipped demo model, models/mindq-demo)."""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from jobstore import runtime
from jobstore.tables import results
from tests.platform.conftest import read_sse, wait_job, wait_until

JOURNAL = "I have felt empty for weeks, I cannot sleep, and nothing I used to enjoy helps anymore."


def test_depression_job_end_to_end(api, llm_worker, cpu_worker):
    status, job, _ = api("POST", "/v1/jobs", {"type": "depression", "text": JOURNAL,
                                              "options": {"max_new_tokens": 24}})
    assert status == 202
    done = wait_job(api, job["id"])
    assert done["state"] == "succeeded", done
    result = done["result"]
    assert set(result) >= {"label", "rationale", "raw", "parsed", "model_id", "prompt_version", "usage"}
    assert result["prompt_version"] == "depression@1"
    assert result["model_id"] and result["usage"]["completion_tokens"] >= 1
    # random weights: the answer is noise, so it must come back as an honest parse failure or a label
    assert result["parsed"] in (True, False)
    if not result["parsed"]:
        assert result["label"] is None


def test_results_say_what_produced_them(api, llm_worker, cpu_worker):
    import phi
    import prompts

    text = f"I can't get out of bed, nothing matters and I feel worthless every day. {uuid.uuid4().hex}"
    trained = wait_job(api, api("POST", "/v1/jobs", {"type": "imhi.dr", "text": text})[1]["id"])
    untrained = wait_job(api, api("POST", "/v1/jobs", {"type": "risk", "text": text,
                                                        "options": {"max_new_tokens": 8}})[1]["id"])
    for done, name in ((trained, "imhi.dr"), (untrained, "risk")):
        result = done["result"]
        assert result["model_kind"] == "demo"
        assert result["prompt_version"] == f"{name}@1"
        assert result["parser_version"] == prompts.PARSER_VERSION
        assert result["scrubber_version"] == f"phi@{phi.__version__}"
        assert result["model_id"].startswith("mindq-demo/base+mindq-demo/adapter@")
    assert trained["result"]["model_trained_for_type"] is True and trained["result"]["parsed"] is True
    assert untrained["result"]["model_trained_for_type"] is False
    _, types, _ = api("GET", "/v1/analysis-types")
    assert types["model"]["kind"] == "demo" and types["model"]["not_for_clinical_use"] is True
    by_name = {t["name"]: t for t in types["analysis_types"]}
    assert by_name["imhi.dr"]["model_trained_for_type"] and not by_name["risk"]["model_trained_for_type"]


def test_the_cache_key_changes_with_each_version():
    from tasks.analysis import cache_key

    versions = {"model_id": "m@1", "model_kind": "demo", "prompt_version": "risk@1",
                "parser_version": "parser@1.0.0", "scrubber_version": "phi@1.2.0"}
    keys = {cache_key("prompt", versions, 32)}
    for field in ("model_id", "prompt_version", "parser_version", "scrubber_version"):
        keys.add(cache_key("prompt", {**versions, field: versions[field] + "x"}, 32))
    assert len(keys) == 5


def test_every_analysis_type_runs(api, llm_worker):
    status, body, _ = api("GET", "/v1/analysis-types")
    llm_types = [t for t in body["analysis_types"] if t["kind"] == "llm"]
    assert len(llm_types) >= 14
    ids = {}
    for t in llm_types:
        req = {"type": t["name"], "text": JOURNAL, "options": {"max_new_tokens": 8}}
        if t["input"] == "texts":
            req["previous_text"] = "Two weeks ago I felt fine."
        status, job, _ = api("POST", "/v1/jobs", req)
        assert status == 202, job
        ids[t["name"]] = job["id"]
    for name, job_id in ids.items():
        done = wait_job(api, job_id, timeout=180)
        assert done["state"] == "succeeded", (name, done)
        assert done["result"]["prompt_version"].startswith(name + "@")


def test_identical_request_is_served_from_the_cache(api, llm_worker):
    text = f"cache probe {uuid.uuid4().hex}: I feel tired and sad."
    req = {"type": "sentiment", "text": text, "options": {"max_new_tokens": 12}}
    first = wait_job(api, api("POST", "/v1/jobs", req)[1]["id"])
    second = wait_job(api, api("POST", "/v1/jobs", req)[1]["id"])
    assert first["result"]["cached"] is False and second["result"]["cached"] is True
    for key in ("label", "raw", "parsed", "model_id", "prompt_version"):
        assert first["result"][key] == second["result"][key]
    # a different generation budget is a different request: no hit
    third = wait_job(api, api("POST", "/v1/jobs", {**req, "options": {"max_new_tokens": 13}})[1]["id"])
    assert third["result"]["cached"] is False


def test_token_progress_reaches_the_sse_stream(api, keys, llm_worker, web_server):
    _, job, _ = api("POST", "/v1/jobs", {"type": "wellness", "text": JOURNAL + f" {uuid.uuid4()}",
                                         "options": {"max_new_tokens": 64}})
    events = [e for e in read_sse(f"{web_server}/v1/jobs/{job['id']}/events", keys["clinic-a"]) if "data" in e]
    token_events = [e["data"] for e in events if "tokens" in e["data"]]
    assert token_events, [e["data"] for e in events]
    counts = [e["tokens"] for e in token_events]
    assert counts == sorted(counts) and all(e["max_tokens"] == 64 for e in token_events)
    assert all(e["stage"] == "inference" for e in token_events)
    # progress never goes backwards through the whole stream
    progress = [e["data"]["progress"] for e in events]
    assert progress == sorted(progress)
    assert events[-1]["data"]["state"] == "succeeded"


def test_bad_llm_options_are_rejected_at_the_door(api):
    status, body, _ = api("POST", "/v1/jobs", {"type": "imhi.irf", "text": "x", "options": {"risk_factor": "nope"}})
    assert status == 422 and body["error"]["code"] == "INVALID_OPTION"
    status, body, _ = api("POST", "/v1/jobs", {"type": "risk", "text": "x", "options": {"max_new_tokens": 0}})
    assert status == 422 and body["error"]["code"] == "INVALID_OPTION"


def test_cancel_while_running_stops_the_generation(api, llm_worker):
    # fill the engine so the last jobs sit claimed (running) while others decode
    ids = [api("POST", "/v1/jobs", {"type": "imhi.dr", "text": f"{JOURNAL} #{i} {uuid.uuid4()}",
                                    "options": {"max_new_tokens": 400}})[1]["id"] for i in range(10)]

    def a_running_job():
        for job_id in reversed(ids):
            _, job, _ = api("GET", f"/v1/jobs/{job_id}")
            if job["state"] == "running":
                return job_id
        return None

    target = wait_until(a_running_job, 60, 0.05, what="a running job")
    status, body, _ = api("DELETE", f"/v1/jobs/{target}")
    assert status == 200 and body["state"] == "cancelled"
    for job_id in ids:
        if job_id != target:
            assert wait_job(api, job_id, timeout=240)["state"] == "succeeded"
    _, final, _ = api("GET", f"/v1/jobs/{target}")
    assert final["state"] == "cancelled" and final["result"] is None
    with runtime.db().connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(results)
                         .where(results.c.job_id == uuid.UUID(target))).scalar_one()
    assert n == 0
