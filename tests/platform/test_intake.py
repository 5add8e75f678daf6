"""Group commit of submissions (tasks/intake.py, JobIntake.create_many) on the real PostgreSQL and Redis."""
from __future__ import annotations

import json
import threading
import uuid

import sqlalchemy as sa

from jobstore import runtime, tenants
from jobstore.intake import IdempotencyConflict, JobIntake, NewJob
from jobstore.tables import audit_log
from tasks.enqueue import job_ids_in_message
from tasks.intake import Intake

QUEUE = "intake-test"  # no worker consumes it: the messages stay where the test can read them


def _new(tid, text: str, key: str | None = None) -> NewJob:
    return NewJob(tenant_id=tid, type="scrub", priority="interactive", queue=QUEUE, payload={"text": text},
                  options={}, idempotency_key=key, body_hash=f"hash-of-{text}" if key else None)


class GatedService(JobIntake):
    """The real service, whose first write waits for a gate, so submissions pile up behind it;
    records the size of every write."""

    def __init__(self, gate: threading.Event):
        super().__init__(runtime.sql(), runtime.cipher())
        self.gate = gate
        self.sizes: list[int] = []

    def create_many(self, news):
        self.sizes.append(len(news))
        if len(self.sizes) == 1:
            self.gate.wait(10)
        return super().create_many(news)


def _queued_ids(n: int) -> list[str]:
    r = runtime.redis_client()
    return [i for m in r.lrange(QUEUE, 0, n) for i in job_ids_in_message(json.loads(m))]


def test_create_many_writes_jobs_and_their_audit_rows_and_skips_a_taken_key(platform_env):
    service = runtime.job_intake()
    tid = tenants.ensure_tenant(runtime.db(), "clinic-a")
    key = f"k-{uuid.uuid4()}"
    [first] = service.create_many([(_new(tid, "first", key), "key:first")])
    assert first is not None
    rows = service.create_many([(_new(tid, "a"), "key:a"), (_new(tid, "again", key), "key:b"),
                                (_new(tid, "c"), "key:c")])
    assert rows[1] is None and rows[0] is not None and rows[2] is not None
    assert [runtime.job_reads().payload(r)["text"] for r in (rows[0], rows[2])] == ["a", "c"]
    with runtime.db().connect() as conn:
        audit = dict(conn.execute(sa.select(audit_log.c.job_id, audit_log.c.actor).where(
            audit_log.c.job_id.in_([rows[0]["id"], rows[2]["id"], first["id"]]))).all())
    assert audit == {rows[0]["id"]: "key:a", rows[2]["id"]: "key:c", first["id"]: "key:first"}


def test_concurrent_submissions_are_written_together_and_each_gets_its_own_job(platform_env):
    runtime.redis_client().delete(QUEUE)
    tid = tenants.ensure_tenant(runtime.db(), "clinic-a")
    gate = threading.Event()
    service = GatedService(gate)
    intake = Intake(lambda: service)
    answers: dict[str, tuple[dict, bool]] = {}

    def submit(text: str) -> None:
        answers[text] = intake.submit(_new(tid, text), "key:t")

    threads = [threading.Thread(target=submit, args=(f"note {i}",)) for i in range(20)]
    threads[0].start()
    while not service.sizes:  # the first is being written, held at the gate
        threading.Event().wait(0.01)
    for t in threads[1:]:
        t.start()
    while len(intake._pending) < 19:  # the other 19 wait behind it
        threading.Event().wait(0.01)
    gate.set()
    for t in threads:
        t.join(30)
    assert service.sizes == [1, 19]
    assert len(answers) == 20 and all(created for _, created in answers.values())
    assert {runtime.job_reads().payload(job)["text"] for job, _ in answers.values()} == set(answers)
    # every job's message was sent, once
    assert sorted(_queued_ids(100)) == sorted(str(job["id"]) for job, _ in answers.values())


def test_a_repeated_key_in_one_batch_gives_the_same_job_and_a_changed_body_a_conflict(platform_env):
    tid = tenants.ensure_tenant(runtime.db(), "clinic-a")
    gate = threading.Event()
    service = GatedService(gate)
    intake = Intake(lambda: service)
    key = f"k-{uuid.uuid4()}"
    out: dict[str, object] = {}

    def submit(name: str, new: NewJob) -> None:
        try:
            out[name] = intake.submit(new, "key:t")
        except IdempotencyConflict as exc:
            out[name] = exc

    blocker = threading.Thread(target=submit, args=("blocker", _new(tid, "blocker")))
    blocker.start()
    while not service.sizes:
        threading.Event().wait(0.01)
    same = [threading.Thread(target=submit, args=(f"same{i}", _new(tid, "body", key))) for i in range(2)]
    other = threading.Thread(target=submit, args=("other", _new(tid, "changed", key)))
    for t in (*same, other):
        t.start()
    while len(intake._pending) < 3:
        threading.Event().wait(0.01)
    gate.set()
    for t in (blocker, *same, other):
        t.join(30)
    assert service.sizes == [1, 3]
    (a, a_created), (b, b_created) = out["same0"], out["same1"]
    assert a["id"] == b["id"] and sorted([a_created, b_created]) == [False, True]
    assert isinstance(out["other"], IdempotencyConflict) and str(out["other"]) == str(a["id"])


def test_a_failed_write_answers_every_waiting_request_with_the_error(platform_env):
    class Broken(JobIntake):
        def create_many(self, news):
            raise sa.exc.OperationalError("INSERT", {}, Exception("database is down"))

    intake = Intake(lambda: Broken(runtime.sql(), runtime.cipher()))
    tid = tenants.ensure_tenant(runtime.db(), "clinic-a")
    errors: list[BaseException] = []

    def submit(i: int) -> None:
        try:
            intake.submit(_new(tid, f"x{i}"), "key:t")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(errors) == 5 and all(isinstance(e, sa.exc.OperationalError) for e in errors)
