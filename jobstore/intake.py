"""Creating jobs: one statement for any number of jobs and their audit rows, with idempotency."""
from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from psycopg.types.json import Jsonb

from jobstore import statements
from jobstore.crypto import Cipher
from jobstore.pg import Row, Sql
from jobstore.values import as_uuid


@dataclasses.dataclass(frozen=True)
class NewJob:
    tenant_id: uuid.UUID
    type: str
    priority: str
    queue: str
    payload: dict[str, Any]  # encrypted as a whole: text, patient_ref, and any other input
    options: dict[str, Any]
    patient_ref: str | None = None
    callback_url: str | None = None
    idempotency_key: str | None = None
    body_hash: str | None = None
    batch_id: uuid.UUID | None = None
    stage: str = "queued"


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with a different body."""


class JobIntake:
    """Writes new jobs (the API's side; synchronous commits: a 202 means the job is durable)."""

    def __init__(self, sql: Sql, cipher: Cipher) -> None:
        self.sql = sql
        self.cipher = cipher

    def create_many(self, news: list[tuple[NewJob, str]]) -> list[Row | None]:
        """Insert (job, actor) pairs and their audit rows in one statement (one round trip, one
        durable commit); returns each job's row, or None where its Idempotency-Key was taken
        (see ``existing``). The intake writes concurrent submissions together with it."""
        with self.sql.cursor() as cur:
            return self._insert(cur, news)

    def create_batch(self, tenant_id: uuid.UUID, job_type: str, priority: str, news: list[NewJob],
                     *, actor: str) -> tuple[Row, list[Row]]:
        """One batch row and its jobs in one transaction (its jobs carry no Idempotency-Key)."""
        batch_id = uuid.uuid4()
        batch = dict(id=batch_id, tenant_id=tenant_id, type=job_type, priority=priority, total=len(news))
        news = [dataclasses.replace(n, batch_id=batch_id) for n in news]
        with self.sql.cursor(transaction=True) as cur:
            row = cur.execute(statements.CREATE_BATCH, batch).fetchone()
            created = self._insert(cur, [(n, actor) for n in news])
        assert row is not None and all(c is not None for c in created)
        return row, [c for c in created if c is not None]

    def existing(self, new: NewJob) -> Row:
        """The job that already holds ``new``'s Idempotency-Key; IdempotencyConflict if its body differs."""
        existing = self.sql.one(statements.JOB_BY_IDEMPOTENCY_KEY,
                                {"tenant_id": as_uuid(new.tenant_id), "key": self._key_hash(new.idempotency_key)})
        if existing is None:  # raced with a delete that cannot happen; be explicit anyway
            raise RuntimeError("idempotent insert conflicted but no job found")
        if existing["body_hash"] != new.body_hash:
            raise IdempotencyConflict(str(existing["id"]))
        return existing

    def _insert(self, cur: Any, news: list[tuple[NewJob, str]]) -> list[Row | None]:
        rows = [self._row(n) for n, _ in news]
        params: dict[str, list] = {c: [r[c] for r in rows] for c in statements.NEW_JOB_COLUMNS}
        params["options"] = [Jsonb(o) for o in params["options"]]
        params["actor"] = [actor for _, actor in news]
        params["details"] = [Jsonb({"type": n.type, "priority": n.priority}) for n, _ in news]
        created = {r["id"]: r for r in cur.execute(statements.CREATE_JOBS, params)}
        return [created.get(r["id"]) for r in rows]

    def _row(self, n: NewJob) -> dict[str, Any]:
        return dict(id=uuid.uuid4(), tenant_id=n.tenant_id, batch_id=n.batch_id, type=n.type,
                    priority=n.priority, queue=n.queue, state="queued", stage=n.stage, progress=0,
                    input_ciphertext=self.cipher.encrypt_json(n.payload),
                    patient_ref_hash=self.cipher.lookup_hash(n.patient_ref) if n.patient_ref else None,
                    options=n.options, callback_url=n.callback_url,
                    idempotency_key=self._key_hash(n.idempotency_key), body_hash=n.body_hash)

    def _key_hash(self, key: str | None) -> str | None:
        """Idempotency-Keys are stored as a keyed hash: a client may build one from a note's id or
        a patient's name, and the column is not encrypted."""
        return self.cipher.lookup_hash("idempotency-key:" + key) if key is not None else None
