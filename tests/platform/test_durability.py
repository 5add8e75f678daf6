"""Durable once reported: a terminal state and its result survive a PostgreSQL crash that comes
right after the worker announced them, and the pools that held connections to the crashed
server serve the next jobs without an error.

The crash is a SIGKILL of every server process (the postmaster's whole group), which loses
whatever WAL was still in PostgreSQL's memory: an asynchronous commit a moment old is gone,
a synchronous one never is. The server here is this test's own, not the session's.
"""
from __future__ import annotations

import os
import signal

import sqlalchemy as sa

from jobstore import runtime, tenants
from jobstore.db import make_engine
from jobstore.intake import JobIntake, NewJob
from jobstore.lifecycle import JobLifecycle
from jobstore.pg import Sql
from migrations.runner import upgrade
from mindq.embedded import start_postgres


def _states(engine: sa.Engine, ids: list[str]) -> dict[str, tuple[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT j.id::text, j.state, (SELECT count(*) FROM results r WHERE r.job_id = j.id) "
            "FROM jobs j WHERE j.id::text = ANY(:ids)"), {"ids": ids}).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def test_a_reported_terminal_state_survives_a_postgres_crash(platform_env, tmp_path):
    pg = start_postgres(tmp_path / "pg")
    engines: list[sa.Engine] = []
    try:
        upgrade(pg.url)
        admin = make_engine(pg.url, pool_size=1)
        sync = make_engine(pg.url, pool_size=2, autocommit=True)
        asynchronous = make_engine(pg.url, pool_size=2, async_commit=True)
        engines += [admin, sync, asynchronous]
        lifecycle = JobLifecycle(Sql(sync), Sql(asynchronous), runtime.redis_client(), runtime.cipher())
        intake = JobIntake(Sql(sync), runtime.cipher())
        tid = tenants.ensure_tenant(admin, "clinic-durable")

        def new_jobs(n: int) -> list[str]:
            rows = intake.create_many([(NewJob(tenant_id=tid, type="scrub", priority="interactive", queue="nowhere",
                                               payload={"text": "x"}, options={}), "test") for _ in range(n)])
            return [str(r["id"]) for r in rows if r is not None]

        ids = new_jobs(40)
        for i, job_id in enumerate(ids):
            assert lifecycle.claim(job_id, f"owner-{i}", 30).status == "claimed"
            # each one announced as it is stored, as a worker does
            assert (lifecycle.succeed(job_id, {"n": i}) if i % 2 == 0
                    else lifecycle.fail(job_id, "INTERNAL_ERROR", "planned"))
        os.killpg(pg.process.pid, signal.SIGKILL)  # the postmaster and every backend, at once
        pg.restart()  # crash recovery from the WAL on disk
        after = _states(admin, ids)
        reverted = {j: s for j, s in after.items() if s[0] not in ("succeeded", "failed")}
        assert not reverted, f"{len(reverted)} announced terminal states were lost: {list(reverted.values())[:3]}"
        assert all(after[j] == ("succeeded", 1) for j in ids[0::2])
        assert all(after[j] == ("failed", 0) for j in ids[1::2])

        # the pools still hold connections to the dead server: the next jobs run without an error
        more = new_jobs(3)
        for job_id in more:
            assert lifecycle.claim(job_id, "after-crash", 30).status == "claimed"
            assert lifecycle.succeed(job_id, {"after": True})
        assert all(s == ("succeeded", 1) for s in _states(admin, more).values())
    finally:
        for engine in engines:
            engine.dispose()
        pg.stop()
