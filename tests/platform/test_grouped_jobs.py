"""cpu jobs submitted together share Celery messages (tasks.enqueue, ``mindq.run_jobs``): how
they are grouped, and that a grouped message runs each job exactly as a message of its own would."""
from __future__ import annotations

import json
import uuid

import sqlalchemy as sa

from jobstore import events, runtime
from jobstore.tables import jobs
from tasks.app import app as celery_app
from tasks.enqueue import _messages, _send, enqueue_job, enqueue_jobs, job_ids_in_message
from tests.platform.conftest import wait_job
from tests.platform.test_lifecycle import _direct_job, result_count


def _jobs(n: int, queue: str) -> list[dict]:
    return [{"id": uuid.uuid4(), "queue": queue} for _ in range(n)]


def test_cpu_jobs_share_messages_of_even_sizes_and_other_jobs_travel_alone():
    cpu, llm = _jobs(19, "cpu"), _jobs(2, "llm.interactive")
    messages = list(_messages(cpu + llm, per_message=8))
    assert [(q, len(ids)) for q, ids in messages] == [("cpu", 6), ("cpu", 6), ("cpu", 7),
                                                      ("llm.interactive", 1), ("llm.interactive", 1)]
    assert [i for _, ids in messages for i in ids] == [str(j["id"]) for j in cpu + llm]  # each once, in order
    assert [len(ids) for _, ids in _messages(cpu, per_message=1)] == [1] * 19  # grouping off
    assert [len(ids) for _, ids in _messages(_jobs(3, "cpu"), per_message=8)] == [3]


def test_job_ids_are_read_back_from_both_message_shapes(platform_env):
    queue, r = f"grouped-test-{uuid.uuid4().hex[:8]}", runtime.redis_client()
    alone, grouped = str(uuid.uuid4()), [str(uuid.uuid4()) for _ in range(3)]
    with celery_app.producer_or_acquire() as producer:
        _send(queue, [alone], producer)
        _send(queue, grouped, producer)
    raw = [json.loads(m) for m in r.lrange(queue, 0, -1)]
    r.delete(queue)
    assert sorted(job_ids_in_message(m) for m in raw) == sorted([[alone], grouped])
    assert {m["headers"]["task"] for m in raw} == {"mindq.run_job", "mindq.run_jobs"}


def test_a_grouped_message_runs_each_job_once_as_a_message_of_its_own_would(api, cpu_worker):
    """One message holds: a job already finished, a cancelled one, one whose lease another live
    execution holds, a malformed id and two fresh jobs."""
    finished, cancelled, leased, fresh1, fresh2 = (_direct_job(runtime.cipher()) for _ in range(5))
    enqueue_job(finished["id"], "cpu")
    assert wait_job(api, str(finished["id"]))["state"] == "succeeded"
    assert api("DELETE", f"/v1/jobs/{cancelled['id']}")[0] == 200
    service = runtime.job_lifecycle()
    assert service.claim(str(leased["id"]), "another-worker", 2).status == "claimed"  # a 2 s lease

    group = [finished, cancelled, leased, {"id": "not-a-uuid"}, fresh1, fresh2]
    enqueue_jobs([{"id": j["id"], "queue": "cpu"} for j in group])

    for job in (fresh1, fresh2):
        assert wait_job(api, str(job["id"]))["state"] == "succeeded"
    # the leased job went back to the queue alone and ran once the other execution's lease expired
    done = wait_job(api, str(leased["id"]), timeout=60)
    assert done["state"] == "succeeded" and "[PHONE]" in done["result"]["text"]
    assert api("GET", f"/v1/jobs/{cancelled['id']}")[1]["state"] == "cancelled"
    assert result_count(str(cancelled["id"])) == 0
    for job in (finished, leased, fresh1, fresh2):
        job_id = str(job["id"])
        assert result_count(job_id) == 1
        terminal = [e for _, e in events.history(runtime.redis_client(), job_id) if events.is_terminal_event(e)]
        assert len(terminal) == 1, job_id
    with runtime.db().connect() as conn:
        attempts = dict(conn.execute(sa.select(jobs.c.id, jobs.c.attempts).where(
            jobs.c.id.in_([j["id"] for j in (finished, leased, fresh1, fresh2)]))).all())
    # the finished job was not run again; the leased one: the other execution's claim, then ours
    assert attempts == {finished["id"]: 1, leased["id"]: 2, fresh1["id"]: 1, fresh2["id"]: 1}
