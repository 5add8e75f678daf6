"""Job lifecycle through the real API, PostgreSQL, Redis and Celery worker processes."""
from __future__ import annotations

import uuid

import sqlalchemy as sa

from jobstore import runtime
from jobstore.crypto import Cipher
from jobstore.intake import JobIntake, NewJob
from jobstore.tables import results
from tasks.enqueue import enqueue_job
from tests.platform.conftest import wait_job, wait_until

TEXT = "Mr. Arbuthnot Quibble phoned 555-867-5309 on 3/14/2024; he feels low and sleeps badly."


def result_count(job_id: str) -> int:
    with runtime.db().connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(results)
                            .where(results.c.job_id == uuid.UUID(job_id))).scalar_one()


def test_scrub_job_goes_queued_running_succeeded(api, cpu_worker):
    status, job, headers = api("POST", "/v1/jobs", {"type": "scrub", "text": TEXT, "patient_ref": "mrn-1"})
    assert status == 202
    assert headers["Location"] == f"/v1/jobs/{job['id']}"
    assert job["state"] == "queued" and job["stage"] == "queued" and job["progress"] == 0
    assert job["result"] is None
    done = wait_job(api, job["id"])
    assert done["state"] == "succeeded", done
    assert done["progress"] == 100 and done["started_at"] and done["finished_at"]
    assert done["started_at"] >= done["created_at"] and done["finished_at"] >= done["started_at"]
    result = done["result"]
    assert "555-867-5309" not in result["text"] and "[PHONE]" in result["text"]
    assert result["counts"].get("PHONE") == 1
    assert result_count(job["id"]) == 1
    # the states passed through, in order, as recorded in the job's event stream; `queued` is the
    # row's creation and not stored (the SSE feed opens with it: test_sse)
    from jobstore import events

    states = [e["state"] for _, e in events.history(runtime.redis_client(), job["id"])]
    assert states[0] == "running" and states[-1] == "succeeded" and "queued" not in states


def _direct_job(cipher: Cipher, tenant_name: str = "clinic-a") -> dict:
    """A job row written by a service with the given cipher, not yet enqueued."""
    from jobstore import tenants

    tenant_id = tenants.ensure_tenant(runtime.db(), tenant_name)
    [job] = JobIntake(runtime.sql(), cipher).create_many([(NewJob(
        tenant_id=tenant_id, type="scrub", priority="interactive", queue="cpu", payload={"text": TEXT},
        options={}), "test")])
    assert job is not None
    return job


def test_failure_path_reports_a_stable_error_body(api, cpu_worker):
    # encrypted with a key the workers do not have: the job must fail cleanly, not crash or retry forever
    job = _direct_job(Cipher([Cipher.generate_key()]))
    enqueue_job(job["id"], "cpu")
    done = wait_job(api, str(job["id"]))
    assert done["state"] == "failed"
    assert done["result"] is None
    assert done["error"]["code"] == "DECRYPTION_FAILED"
    assert "MINDQ_ENCRYPTION_KEYS" in done["error"]["message"]
    assert result_count(str(job["id"])) == 0


def test_cancel_before_running_is_skipped_by_the_worker(api, cpu_worker):
    job = _direct_job(runtime.cipher())  # queued in PostgreSQL, no message yet
    status, body, _ = api("DELETE", f"/v1/jobs/{job['id']}")
    assert status == 200 and body["state"] == "cancelled"
    enqueue_job(job["id"], "cpu")  # a late message (e.g. the reconciler's) must not revive it
    r = runtime.redis_client()
    needle = str(job["id"]).encode()

    def consumed() -> bool:
        # this job's message, not the whole broker: other tests may leave unrelated unacked entries
        return not any(needle in m for m in r.lrange("cpu", 0, -1) + r.hvals("unacked"))

    wait_until(consumed, 30, what="the message to be consumed")
    status, body, _ = api("GET", f"/v1/jobs/{job['id']}")
    assert body["state"] == "cancelled" and body["result"] is None
    assert result_count(str(job["id"])) == 0
    # cancelling again: the job is terminal
    status, body, _ = api("DELETE", f"/v1/jobs/{job['id']}")
    assert status == 409 and body["error"]["code"] == "JOB_FINISHED"


def test_cancel_of_finished_job_is_a_conflict(api, cpu_worker):
    _, job, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "hello there"})
    wait_job(api, job["id"])
    status, body, _ = api("DELETE", f"/v1/jobs/{job['id']}")
    assert status == 409 and body["error"]["code"] == "JOB_FINISHED"
    assert body["error"]["details"]["state"] == "succeeded"


def test_batch_fans_out_and_reports_progress(api, cpu_worker):
    items = [{"text": f"Call 555-000-{1000 + i} please", "patient_ref": f"p{i}"} for i in range(5)]
    status, batch, headers = api("POST", "/v1/batches", {"type": "scrub", "items": items})
    assert status == 202 and batch["total"] == 5 and len(batch["jobs"]) == 5
    assert headers["Location"] == f"/v1/batches/{batch['id']}"

    def done():
        _, b, _ = api("GET", f"/v1/batches/{batch['id']}")
        return b if b["done"] else None

    final = wait_until(done, 60, what="batch")
    assert final["counts"]["succeeded"] == 5
    for job_id in final["jobs"]:
        _, job, _ = api("GET", f"/v1/jobs/{job_id}")
        assert job["batch_id"] == batch["id"] and job["priority"] == "batch"
        assert "[PHONE]" in job["result"]["text"]


def test_list_jobs_is_scoped_to_the_tenant(api, keys, cpu_worker):
    _, job, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "list me"})
    _, mine, _ = api("GET", "/v1/jobs?limit=500")
    _, theirs, _ = api("GET", "/v1/jobs?limit=500", key=keys["clinic-b"])
    assert job["id"] in {j["id"] for j in mine["jobs"]}
    assert job["id"] not in {j["id"] for j in theirs["jobs"]}
