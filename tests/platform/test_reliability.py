"""Lost messages, killed workers and a restarted Redis: no job lost, none applied twice."""
from __future__ import annotations

import sys
import uuid

import pytest
import sqlalchemy as sa

from core import config
from jobstore import events, runtime
from jobstore.tables import results
from tests.platform.conftest import LLM_WORKER, Proc, set_consuming, wait_job, wait_until, worker_alive


def _one_result_and_one_terminal_event(job_id: str) -> None:
    with runtime.db().connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(results)
                         .where(results.c.job_id == uuid.UUID(job_id))).scalar_one()
    terminal = [e for _, e in events.history(runtime.redis_client(), job_id) if events.is_terminal_event(e)]
    assert n == 1, f"{job_id}: {n} results"
    assert len(terminal) == 1, f"{job_id}: {len(terminal)} terminal events"


def test_reconciler_recovers_a_job_whose_message_was_deleted(api, cpu_worker, proc_env, log_dir):
    hostname = "worker-cpu@" + __import__("socket").gethostname()
    set_consuming("cpu", hostname, on=False)
    try:
        _, job, _ = api("POST", "/v1/jobs", {"type": "scrub", "text": "lost message 555-222-3333"})
        r = runtime.redis_client()
        wait_until(lambda: job["id"].encode() in b"".join(r.lrange("cpu", 0, -1)), 10, what="message in queue")
        r.delete("cpu")  # the message is gone; only PostgreSQL still knows the job
    finally:
        set_consuming("cpu", hostname, on=True)
    beat = Proc("beat", [sys.executable, "-m", "celery", "-A", "worker.main", "beat", "-s",
                         str(log_dir / "beat-schedule")], proc_env, log_dir)
    try:
        done = wait_job(api, job["id"], timeout=60)
    finally:
        beat.stop()
    assert done["state"] == "succeeded"
    assert "[PHONE]" in done["result"]["text"]
    _one_result_and_one_terminal_event(job["id"])


def test_kill_9_of_a_worker_mid_task_loses_nothing_and_applies_nothing_twice(api, llm_worker, cpu_worker):
    ids = [api("POST", "/v1/jobs", {"type": "imhi.dr", "text": f"kill test {i} {uuid.uuid4()} I feel hopeless",
                                    "options": {"max_new_tokens": 400}})[1]["id"] for i in range(12)]

    def some_running():
        return [j for j in ids if api("GET", f"/v1/jobs/{j}")[1]["state"] == "running"]

    wait_until(some_running, 60, 0.05, what="running jobs")
    import psutil

    supervisor = psutil.Process(llm_worker.popen.pid)
    victim = supervisor.children()[0]  # the Celery worker under `mindq worker gpu`
    victim.kill()  # SIGKILL: no cleanup, no acks
    interrupted = some_running()
    assert interrupted, "the kill should interrupt at least one running job"
    # the supervisor starts a new worker process by itself
    wait_until(lambda: [c for c in supervisor.children() if c.pid != victim.pid], 30, what="a new worker process")
    wait_until(lambda: worker_alive(LLM_WORKER), 120, what="restarted worker")
    from tasks.housekeeping import reconcile_once

    def all_done():
        reconcile_once(config.settings().reconcile_grace)  # what beat runs every few seconds
        return all(api("GET", f"/v1/jobs/{j}")[1]["state"] in ("succeeded", "failed", "cancelled") for j in ids)

    wait_until(all_done, 240, 1.0, what="every job to finish after the kill")
    for job_id in ids:
        job = api("GET", f"/v1/jobs/{job_id}")[1]
        assert job["state"] == "succeeded", job
        _one_result_and_one_terminal_event(job_id)
    from jobstore.tables import jobs

    with runtime.db().connect() as conn:
        attempts = dict(conn.execute(sa.select(jobs.c.id, jobs.c.attempts)
                                     .where(jobs.c.id.in_([uuid.UUID(i) for i in interrupted]))).all())
    assert all(a >= 2 for a in attempts.values()), attempts  # they really were run again


def test_redis_restart_keeps_queued_jobs(api, services, cpu_worker, llm_worker):
    hostname = "worker-cpu@" + __import__("socket").gethostname()
    set_consuming("cpu", hostname, on=False)
    ids = [api("POST", "/v1/jobs", {"type": "scrub", "text": f"survive restart {i} 555-444-{1000 + i}"})[1]["id"]
           for i in range(10)]
    r = runtime.redis_client()
    assert r.llen("cpu") >= 10
    svc = services["redis"]
    port = int(svc.url.rsplit(":", 1)[1].split("/")[0])
    svc.stop()  # SIGTERM: redis-server flushes its AOF and exits
    from mindq.embedded import start_redis

    services["redis"] = start_redis(services["dir"] / "redis", port)
    wait_until(lambda: r.ping(), 20, what="redis back")
    assert r.llen("cpu") >= 10, "queued messages must survive the restart (AOF)"
    wait_until(lambda: worker_alive("worker-cpu"), 30, what="worker reconnect")
    set_consuming("cpu", hostname, on=True)
    for job_id in ids:
        assert wait_job(api, job_id, timeout=120)["state"] == "succeeded"
        _one_result_and_one_terminal_event(job_id)
    # the llm worker came through too (kombu may exit it on the outage; its supervisor restarts it)
    wait_until(lambda: worker_alive(LLM_WORKER), 120, what="llm worker after the restart")
    _, job, _ = api("POST", "/v1/jobs", {"type": "imhi.dr", "text": "after the restart", "options": {"max_new_tokens": 8}})
    assert wait_job(api, job["id"], timeout=180)["state"] == "succeeded"


@pytest.mark.parametrize("submitted", ["one by one", "as a batch"])
def test_kill_9_of_a_cpu_worker_holding_reserved_messages_loses_none(api, cpu_worker, submitted):
    """A cpu worker process reserves several messages ahead (MINDQ_CPU_PREFETCH): killed with
    them, every one of those jobs still runs, once. Jobs submitted one by one travel in a message
    each; a batch's share messages (tasks.enqueue)."""
    import json
    import signal

    import psutil

    from tasks.enqueue import job_ids_in_message

    main = psutil.Process(cpu_worker.popen.pid)  # the Celery worker, as `mindq worker cpu` runs it
    pool = main.children()
    assert len(pool) == 2
    for p in pool:  # busy pool processes: the worker can only reserve what arrives now
        p.send_signal(signal.SIGSTOP)
    texts = [f"reserved {i} 555-301-{1000 + i}" for i in range(40)]
    if submitted == "one by one":
        ids = [api("POST", "/v1/jobs", {"type": "scrub", "text": text})[1]["id"] for text in texts]
    else:
        ids = api("POST", "/v1/batches", {"type": "scrub", "items": [{"text": t} for t in texts]})[1]["jobs"]
    r = runtime.redis_client()

    def reserved() -> list[list[str]]:
        held = [job_ids_in_message(json.loads(v)[0]) for v in r.hvals("unacked")]
        return [m for m in held if set(m) & set(ids)]

    # more than one message per pool process: reserved ahead of the jobs running now
    wait_until(lambda: len(reserved()) > len(pool), 30, what="reserved messages")
    if submitted == "as a batch":
        assert all(len(m) > 1 for m in reserved())
    for p in (main, *pool):
        p.kill()
    cpu_worker.popen.wait(10)
    cpu_worker._spawn()  # what `mindq worker cpu`'s supervisor does
    from tasks.housekeeping import reconcile_once

    def all_done():
        reconcile_once(config.settings().reconcile_grace)  # what beat runs every few seconds
        return all(api("GET", f"/v1/jobs/{j}")[1]["state"] == "succeeded" for j in ids)

    wait_until(all_done, 120, 1.0, what="every job to finish after the kill")
    for job_id in ids:
        _one_result_and_one_terminal_event(job_id)
