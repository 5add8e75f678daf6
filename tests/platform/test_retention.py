"""Retention: finished jobs' encrypted inputs are erased after the retention period, audited,
while their results stay readable; the schema the migrations build matches jobstore.tables."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from jobstore import runtime
from jobstore.tables import audit_log, jobs
from tests.platform.conftest import wait_job


def _age(job_id: str, days: float) -> None:
    with runtime.db().begin() as conn:
        conn.execute(sa.update(jobs).where(jobs.c.id == job_id)
                     .values(finished_at=sa.func.now() - dt.timedelta(days=days)))


def _row(job_id: str):
    with runtime.db().connect() as conn:
        return conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()


def test_purge_erases_old_finished_inputs_only_and_keeps_results(api, cpu_worker):
    from tasks.housekeeping import purge_inputs

    old, recent, waiting = (api("POST", "/v1/jobs", {"type": "scrub", "text": f"note {i} for Ann Bell"})[1]["id"]
                            for i in range(3))
    wait_job(api, old), wait_job(api, recent)
    _age(old, 31)
    _age(recent, 29)
    with runtime.db().begin() as conn:  # a job that never finished is never purged, however old
        conn.execute(sa.update(jobs).where(jobs.c.id == waiting).values(
            state="queued", finished_at=None, created_at=sa.func.now() - dt.timedelta(days=90)))
    purge_inputs.run()  # what beat runs hourly, here in-process against the real database

    assert _row(old).input_ciphertext is None and _row(old).input_purged_at is not None
    assert _row(recent).input_ciphertext is not None and _row(recent).input_purged_at is None
    assert _row(waiting).input_ciphertext is not None
    _, body, _ = api("GET", f"/v1/jobs/{old}")
    assert body["state"] == "succeeded" and body["input_purged_at"] and "[NAME]" in body["result"]["text"]
    with runtime.db().connect() as conn:
        entries = conn.execute(sa.select(audit_log.c.details).where(
            audit_log.c.action == "jobs.input_purged", audit_log.c.actor == "system:retention")).scalars().all()
    assert entries and all(e["older_than_days"] == 30 for e in entries)
    assert purge_inputs.run() == 0  # nothing left to erase: idempotent


def test_migrations_build_exactly_the_tables_module(services):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from jobstore.db import make_engine
    from jobstore.tables import metadata

    engine = make_engine(services["database_url"], pool_size=1)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    assert diff == []
