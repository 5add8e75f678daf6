"""The reconciler's view of the broker and the worker registry, read without scanning the keyspace.

Runs against the session's real Redis, on a database index of its own so no worker sees the
messages planted here.
"""
from __future__ import annotations

import dataclasses
import json
import time
import uuid

import pytest
import redis

from core.config import load_settings
from jobstore import workers as heartbeat
from tasks.app import make_celery
from tasks.enqueue import RUN_JOB, RUN_JOBS
from tasks.housekeeping import job_ids_in_queues, queue_keys
from tasks.routing import QUEUES


@pytest.fixture()
def r(services):
    url = services["redis_url"].rsplit("/", 1)[0] + "/15"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def _send(client: redis.Redis, job_ids: list[str], queue: str, priority: int | None = None,
          grouped: bool = False) -> None:
    """Messages exactly as production sends them (Celery's producer), into database 15: one per
    job, or one for them all (a group of cpu jobs)."""
    kw = client.connection_pool.connection_kwargs  # the session's Redis asks for its password
    url = f"redis://:{kw['password']}@{kw['host']}:{kw['port']}/15"
    settings = dataclasses.replace(load_settings(), redis_url=url)
    app = make_celery(lambda: settings)
    with app.producer_or_acquire() as producer:
        if grouped:
            app.send_task(RUN_JOBS, args=[job_ids], queue=queue, priority=priority, producer=producer)
        else:
            for job_id in job_ids:
                app.send_task(RUN_JOB, args=[job_id], queue=queue, task_id=job_id, priority=priority,
                              producer=producer)
    app.close()


def test_queue_keys_are_kombus_lists_for_every_queue_and_priority_step():
    keys = queue_keys()
    assert set(QUEUES) <= set(keys)
    assert "llm.batch\x06\x169" in keys and len(keys) == len(QUEUES) * 4


def test_job_ids_are_found_in_every_list_across_chunks(r, platform_env):
    in_cpu = [str(uuid.uuid4()) for _ in range(12)]
    in_batch_step = str(uuid.uuid4())
    in_group = [str(uuid.uuid4()) for _ in range(3)]
    _send(r, in_cpu, "cpu")
    _send(r, in_group, "cpu", grouped=True)
    _send(r, [in_batch_step], "llm.batch", priority=3)
    assert r.llen("llm.batch\x06\x163") == 1  # kombu's list for priority step 3
    r.lpush("cpu", b"not json")  # a foreign entry is skipped, not fatal
    r.set("cpu-lookalike", "x")  # a key that only starts like a queue is not read
    found = job_ids_in_queues(r, chunk=5)  # 14 entries in chunks of 5: three reads
    assert found == set(in_cpu) | set(in_group) | {in_batch_step}


def test_live_workers_reads_the_registry_and_forgets_expired_workers(r):
    r.set(heartbeat.PREFIX + "cpu@a", json.dumps({"kind": "cpu", "queues": ["cpu"]}), ex=20)
    r.set(heartbeat.PREFIX + "gpu0@b", json.dumps({"kind": "gpu", "queues": ["llm.batch"]}), px=50)
    r.sadd(heartbeat.NAMES, "cpu@a", "gpu0@b")
    assert {w["hostname"] for w in heartbeat.live_workers(r)} == {"cpu@a", "gpu0@b"}
    time.sleep(0.1)
    assert [w["hostname"] for w in heartbeat.live_workers(r)] == ["cpu@a"]
    assert r.smembers(heartbeat.NAMES) == {b"cpu@a"}
