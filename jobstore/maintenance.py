"""What the beat's housekeeping asks of the store: stale jobs to re-send, inputs to erase."""
from __future__ import annotations

import datetime as dt
import uuid

from jobstore import statements
from jobstore.pg import Row, Sql
from jobstore.values import utcnow


class JobMaintenance:
    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    def stale_jobs(self, older_than_s: float, limit: int = 500) -> list[Row]:
        """Queued jobs older than the grace period, and running jobs whose lease has expired."""
        now = utcnow()
        return self.sql.all(statements.STALE_JOBS, {"now": now, "limit": limit,
                                                    "cutoff": now - dt.timedelta(seconds=older_than_s)})

    def touch(self, job_ids: list[uuid.UUID]) -> None:
        """Restart the grace period of queued jobs that were just sent again."""
        if job_ids:
            self.sql.count(statements.TOUCH_QUEUED, {"ids": job_ids, "now": utcnow()})

    def purge_inputs(self, older_than: dt.timedelta, *, limit: int = 1000) -> int:
        """Erase the encrypted input of up to ``limit`` jobs finished longer ago than ``older_than``
        (oldest first) and audit it; returns how many. Results stay: only scrubbed text ever
        reached a model or a result."""
        now = utcnow()
        row = self.sql.one(statements.PURGE_INPUTS, {
            "now": now, "cutoff": now - older_than, "limit": limit,
            "older_than_days": older_than / dt.timedelta(days=1)})
        return int(row["purged"]) if row else 0
