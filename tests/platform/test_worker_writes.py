"""The hot statements (create, claim, succeed) run through psycopg directly: they must commit,
and a connection the server closed must never be handed out again."""
from __future__ import annotations

import sqlalchemy as sa

from core import config
from jobstore import runtime, tenants
from jobstore.db import make_engine
from jobstore.intake import NewJob
from jobstore.lifecycle import JobLifecycle
from jobstore.pg import Sql


def _service(pool_size: int = 1) -> tuple[JobLifecycle, sa.Engine]:
    engine = make_engine(config.settings().database_url, pool_size=pool_size, async_commit=True)
    return JobLifecycle(runtime.sql(), Sql(engine), runtime.redis_client(), runtime.cipher()), engine


def _job() -> str:
    tid = tenants.ensure_tenant(runtime.db(), "clinic-a")
    [job] = runtime.job_intake().create_many([(NewJob(
        tenant_id=tid, type="scrub", priority="interactive", queue="nowhere", payload={"text": "x"}, options={}),
        "test")])
    assert job is not None
    return str(job["id"])


def _state(job_id: str) -> str:
    with runtime.db().connect() as conn:
        return conn.execute(sa.text("SELECT state FROM jobs WHERE id = :id"), {"id": job_id}).scalar_one()


def test_claim_and_succeed_commit_on_their_own(platform_env):
    service, engine = _service()
    job_id = _job()
    assert _state(job_id) == "queued"  # the API's insert, seen from another connection: committed
    claim = service.claim(job_id, "owner-1", 30)
    assert claim.status == "claimed" and claim.attempt == 1 and str(claim.job["id"]) == job_id
    assert _state(job_id) == "running"  # seen from another connection: committed
    assert service.succeed(job_id, {"ok": True}) is True
    assert _state(job_id) == "succeeded" and runtime.job_reads().result(job_id) == {"ok": True}
    assert service.succeed(job_id, {"ok": False}) is False  # terminal: no second result
    assert service.claim(job_id, "owner-2", 30).status == "terminal"
    engine.dispose()


def test_a_connection_the_server_closed_is_replaced_at_checkout(platform_env):
    """A pooled connection whose backend is gone (a database restart) never reaches a
    statement: the checkout sees its socket readable and opens a new one, so no claim fails."""
    service, engine = _service(pool_size=1)
    job_id = _job()
    conn = engine.raw_connection()
    backend = conn.cursor().execute("SELECT pg_backend_pid()").fetchone()[0]
    conn.close()  # back to the pool: the claim below would get this very connection
    with runtime.db().connect() as admin:
        admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    assert service.claim(job_id, "owner-1", 30).status == "claimed"  # on a fresh connection
    conn = engine.raw_connection()
    assert conn.cursor().execute("SELECT pg_backend_pid()").fetchone()[0] != backend
    conn.close()
    engine.dispose()
