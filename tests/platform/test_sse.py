"""Server-Sent Events through the real gunicorn + gevent web process."""
from __future__ import annotations

import threading
import time

from tests.platform.conftest import read_sse, wait_job


def _ids(events):
    return [e["id"] for e in events if "data" in e]


def test_stream_is_ordered_and_ends_after_the_terminal_event(api, keys, cpu_worker, web_server):
    _, job, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "Call 555-123-4567"})
    events = [e for e in read_sse(f"{web_server}/v1/jobs/{job['id']}/events", keys["clinic-a"]) if "data" in e]
    states = [e["data"]["state"] for e in events]
    assert states[0] == "queued" and states[-1] == "succeeded"
    assert events[-1]["event"] == "end" and all(e["event"] == "job" for e in events[:-1])
    ids = _ids(events)
    assert len(ids) == len(set(ids))
    assert ids == sorted(ids, key=lambda i: tuple(int(p) for p in i.split("-")))
    progress = [e["data"]["progress"] for e in events]
    assert progress == sorted(progress)


def test_late_subscriber_gets_history_and_terminal_event(api, keys, cpu_worker, web_server):
    _, job, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "late"})
    wait_job(api, job["id"])
    events = [e for e in read_sse(f"{web_server}/v1/jobs/{job['id']}/events", keys["clinic-a"]) if "data" in e]
    assert [e["data"]["state"] for e in events][0] == "queued"
    assert events[-1]["data"]["state"] == "succeeded"


def test_resume_with_last_event_id_has_no_gap_and_no_duplicate(api, keys, cpu_worker, web_server):
    _, job, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "resume me"})
    wait_job(api, job["id"])
    url = f"{web_server}/v1/jobs/{job['id']}/events"
    full = [e for e in read_sse(url, keys["clinic-a"]) if "data" in e]
    assert len(full) >= 3
    for cut in range(len(full) - 1):
        rest = [e for e in read_sse(url, keys["clinic-a"], last_event_id=full[cut]["id"]) if "data" in e]
        assert _ids(rest) == _ids(full)[cut + 1:]


def test_live_followers_all_see_every_event(api, keys, llm_worker, web_server):
    """Several clients follow one live job through the process's shared hub, joining at once."""
    _, job, _ = api("POST", "/v1/jobs", {"type": "depression", "text": "live follow test, I feel low",
                                         "options": {"max_new_tokens": 48}})
    url = f"{web_server}/v1/jobs/{job['id']}/events"
    streams: list[list] = [None] * 5

    def follow(i: int) -> None:
        streams[i] = [e for e in read_sse(url, keys["clinic-a"]) if "data" in e]

    threads = [threading.Thread(target=follow, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    reference = _ids(streams[0])
    assert streams[0][-1]["data"]["state"] == "succeeded"
    for s in streams[1:]:
        assert _ids(s) == reference


def test_heartbeats_while_idle(api, keys, web_server):
    # a queued job that no worker will take (its queue has no consumer in this test): only heartbeats

    from jobstore import runtime, tenants
    from jobstore.intake import NewJob

    tid = tenants.ensure_tenant(runtime.db(), "clinic-a")
    [job] = runtime.job_intake().create_many([(NewJob(tenant_id=tid, type="scrub", priority="interactive",
                                                      queue="cpu", payload={"text": "idle"}, options={}), "t")])
    assert job is not None
    import httpx

    seen = []
    with httpx.stream("GET", f"{web_server}/v1/jobs/{job['id']}/events",
                      headers={"Authorization": f"Bearer {keys['clinic-a']}"}, timeout=10) as resp:
        for line in resp.iter_lines():
            seen.append(line)
            if sum(1 for s in seen if s.startswith(": heartbeat")) >= 2:
                break
    assert any(s.startswith("data: ") for s in seen)  # the queued event
    runtime.job_lifecycle().cancel(job["id"], tid, actor="t")


def _terminal_without_event(tenant: str) -> str:
    """A job whose row is succeeded while its stream holds no terminal event (yet)."""
    import sqlalchemy as sa

    from jobstore import runtime, tenants
    from jobstore.intake import NewJob

    tid = tenants.ensure_tenant(runtime.db(), tenant)
    [job] = runtime.job_intake().create_many([(NewJob(
        tenant_id=tid, type="scrub", priority="interactive", queue="nowhere", payload={"text": "x"},
        options={}), "test")])
    assert job is not None
    with runtime.db().begin() as conn:
        conn.execute(sa.text("UPDATE jobs SET state = 'succeeded', stage = 'done', progress = 100, "
                             "finished_at = now() WHERE id = :id"), {"id": job["id"]})
    return str(job["id"])


def test_a_terminal_event_published_just_after_the_commit_is_the_one_streamed(keys, web_server):
    # a worker commits the terminal state, then announces it: a reader in between must wait for
    # the real event (a rebuilt one has another id, and a resume after it would repeat the end)
    from jobstore import events, runtime

    job_id = _terminal_without_event("clinic-a")
    real: list[str] = []

    def announce() -> None:
        time.sleep(0.5)
        real.append(events.publish(runtime.redis_client(), job_id, {"job_id": job_id, "state": "succeeded",
                                                                     "stage": "done", "progress": 100}))

    publisher = threading.Thread(target=announce)
    publisher.start()
    streamed = [e for e in read_sse(f"{web_server}/v1/jobs/{job_id}/events", keys["clinic-a"]) if "data" in e]
    publisher.join()
    assert streamed[-1]["data"]["state"] == "succeeded" and streamed[-1]["id"] == real[0]
    resumed = read_sse(f"{web_server}/v1/jobs/{job_id}/events", keys["clinic-a"], last_event_id=real[0])
    assert not [e for e in resumed if "data" in e]  # nothing after the end


def test_a_terminal_event_redis_lost_is_rebuilt_from_the_row(keys, web_server):
    job_id = _terminal_without_event("clinic-a")
    streamed = [e for e in read_sse(f"{web_server}/v1/jobs/{job_id}/events", keys["clinic-a"]) if "data" in e]
    assert [e["data"]["state"] for e in streamed] == ["queued", "succeeded"]
