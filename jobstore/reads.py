"""Reading jobs, their results and batches, for the API and the callbacks."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from jobstore import statements
from jobstore.crypto import Cipher
from jobstore.pg import Row, Sql
from jobstore.values import as_uuid


class JobReads:
    def __init__(self, sql: Sql, cipher: Cipher) -> None:
        self.sql = sql
        self.cipher = cipher

    def get(self, job_id: uuid.UUID | str, tenant_id: uuid.UUID | None = None) -> Row | None:
        """The job, or None (also when it belongs to another tenant than ``tenant_id``)."""
        return self.sql.one(statements.JOB, {"job_id": as_uuid(job_id), "tenant_id": tenant_id})

    def recent(self, tenant_id: uuid.UUID, *, state: str | None = None, limit: int = 50,
               before: dt.datetime | None = None) -> list[Row]:
        """The tenant's newest jobs first."""
        return self.sql.all(statements.RECENT_JOBS, {"tenant_id": tenant_id, "state": state,
                                                     "before": before, "limit": limit})

    def result(self, job_id: uuid.UUID | str) -> dict[str, Any] | None:
        row = self.sql.one(statements.RESULT, {"job_id": as_uuid(job_id)})
        return None if row is None else self.cipher.decrypt_json(row["ciphertext"])

    def payload(self, job: Row) -> dict[str, Any]:
        return self.cipher.decrypt_json(job["input_ciphertext"])

    def symptom_payloads(self, types: Sequence[str], tenant_id: uuid.UUID | None = None) -> Iterator[tuple[str, dict]]:
        """(patient key, payload) of each succeeded job of ``types`` whose input the retention purge
        has not erased: the patient's keyed-hash ref within its tenant (one ref in two clinics is
        two patients), or the job id for a job sent without one."""
        for row in self.sql.all(statements.SYMPTOM_INPUTS, {"types": list(types), "tenant_id": tenant_id}):
            stored = self.cipher.decrypt_json(row["input_ciphertext"])
            patient = f"{row['tenant_id']}:{row['patient_ref_hash']}" if row["patient_ref_hash"] else str(row["id"])
            yield patient, stored.get("payload") or {}

    def counts_by_state(self) -> dict[str, int]:
        """Jobs of every tenant by state, for /metrics."""
        return {r["state"]: int(r["n"]) for r in self.sql.all(statements.JOBS_BY_STATE, {})}

    def batch(self, batch_id: uuid.UUID, tenant_id: uuid.UUID) -> tuple[Row, list[Row]] | None:
        with self.sql.cursor() as cur:
            row = cur.execute(statements.BATCH, {"batch_id": batch_id, "tenant_id": tenant_id}).fetchone()
            if row is None:
                return None
            members = cur.execute(statements.BATCH_MEMBERS, {"batch_id": batch_id}).fetchall()
        return row, members
