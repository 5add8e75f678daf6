"""The hot statements (create, claim, succeed) run through psycopg directly: they must commit,
and a connection broken under them must fail once and never be handed out again."""
from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa

from jobstore import tenants
from jobstore.db import make_engine
from jobstore.jobs import JobService, NewJob
from mindq import failures, runtime


def _service(pool_size: int = 1) -> tuple[JobService, sa.Engine]:
    engine = make_engine(runtime.settings().database_url, pool_size=pool_size, async_commit=True)
    return JobService(runtime.db(), runtime.redis_client(), runtime.cipher(), worker_engine=engine), engine


def _job(service: JobService) -> str:
    tid = tenants.ensure_tenant(runtime.db(), "clinic-a")
    job, _ = service.create(NewJob(tenant_id=tid, type="scrub", priority="interactive", queue="nowhere",
                                   payload={"text": "x"}, options={}), actor="test")
    return str(job["id"])


def _state(job_id: str) -> str:
    with runtime.db().connect() as conn:
        return conn.execute(sa.text("SELECT state FROM jobs WHERE id = :id"), {"id": job_id}).scalar_one()


def test_claim_and_succeed_commit_on_their_own(platform_env):
    service, engine = _service()
    job_id = _job(service)
    assert _state(job_id) == "queued"  # the API's insert, seen from another connection: committed
    claim = service.claim(job_id, "owner-1", 30)
    assert claim.status == "claimed" and claim.attempt == 1 and str(claim.job["id"]) == job_id
    assert _state(job_id) == "running"  # seen from another connection: committed
    assert service.succeed(job_id, {"ok": True}) is True
    assert _state(job_id) == "succeeded" and service.result(job_id) == {"ok": True}
    assert service.succeed(job_id, {"ok": False}) is False  # terminal: no second result
    assert service.claim(job_id, "owner-2", 30).status == "terminal"
    engine.dispose()


def test_a_broken_connection_fails_one_claim_and_is_not_reused(platform_env):
    service, engine = _service(pool_size=1)
    job_id = _job(service)
    conn = engine.raw_connection()
    backend = conn.cursor().execute("SELECT pg_backend_pid()").fetchone()[0]
    conn.close()  # back to the pool: the claim below gets this very connection
    with runtime.db().connect() as admin:
        admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    with pytest.raises(psycopg.OperationalError) as raised:
        service.claim(job_id, "owner-1", 30)
    assert failures.is_transient(raised.value)  # the task retries it
    assert service.claim(job_id, "owner-1", 30).status == "claimed"  # on a fresh connection
    engine.dispose()
