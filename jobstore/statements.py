"""Every SQL statement of the job services, in one place and one style: plain PostgreSQL with
named psycopg parameters, run by jobstore.pg.

A single statement is atomic on its own, so where two writes must commit together (a job and
its audit row, a terminal update and its result, a cancel and its audit row) they are one
statement with a data-modifying CTE, not a transaction of several round trips. Column types for
the array parameters come from jobstore.tables, which the migrations are checked against.
"""
from __future__ import annotations

from sqlalchemy.dialects import postgresql

from jobstore.tables import TERMINAL_STATES, jobs

NEW_JOB_COLUMNS = ("id", "tenant_id", "batch_id", "type", "priority", "queue", "state", "stage",
                   "progress", "input_ciphertext", "patient_ref_hash", "options", "callback_url",
                   "idempotency_key", "body_hash")
NOT_TERMINAL = "state NOT IN (" + ", ".join(f"'{state}'" for state in TERMINAL_STATES) + ")"
TERMINAL = "state IN (" + ", ".join(f"'{state}'" for state in TERMINAL_STATES) + ")"


def _sql_type(column: str) -> str:
    return str(jobs.c[column].type.compile(dialect=postgresql.dialect()))


# -- intake -------------------------------------------------------------------------------------
# any number of jobs (one array per column) and their audit rows; a repeated Idempotency-Key is
# skipped, within the batch too
CREATE_JOBS = f"""
WITH new_job AS (
    INSERT INTO jobs ({", ".join(NEW_JOB_COLUMNS)})
    SELECT * FROM unnest({", ".join(f"%({c})s::{_sql_type(c)}[]" for c in NEW_JOB_COLUMNS)})
    ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING *),
audit AS (
    INSERT INTO audit_log (tenant_id, actor, action, job_id, details)
    SELECT new_job.tenant_id, who.actor, 'job.create', new_job.id, who.details
      FROM new_job JOIN unnest(%(id)s::uuid[], %(actor)s::text[], %(details)s::jsonb[])
           AS who (id, actor, details) ON who.id = new_job.id)
SELECT * FROM new_job"""
CREATE_BATCH = """
INSERT INTO batches (id, tenant_id, type, priority, total)
VALUES (%(id)s, %(tenant_id)s, %(type)s, %(priority)s, %(total)s)
RETURNING *"""
JOB_BY_IDEMPOTENCY_KEY = "SELECT * FROM jobs WHERE tenant_id = %(tenant_id)s AND idempotency_key = %(key)s"

# -- reads --------------------------------------------------------------------------------------
JOB = """
SELECT * FROM jobs
 WHERE id = %(job_id)s AND (%(tenant_id)s::uuid IS NULL OR tenant_id = %(tenant_id)s)"""
RECENT_JOBS = """
SELECT * FROM jobs
 WHERE tenant_id = %(tenant_id)s
   AND (%(state)s::text IS NULL OR state = %(state)s)
   AND (%(before)s::timestamptz IS NULL OR created_at < %(before)s)
 ORDER BY created_at DESC LIMIT %(limit)s"""
RESULT = "SELECT ciphertext FROM results WHERE job_id = %(job_id)s"
BATCH = "SELECT * FROM batches WHERE id = %(batch_id)s AND tenant_id = %(tenant_id)s"
JOBS_BY_STATE = "SELECT state, count(*) AS n FROM jobs GROUP BY state"
BATCH_MEMBERS = "SELECT id, state FROM jobs WHERE batch_id = %(batch_id)s ORDER BY created_at, id"
# the inputs that succeeded jobs of these types still hold (the retention purge erases them), oldest first
SYMPTOM_INPUTS = """
SELECT id, tenant_id, patient_ref_hash, input_ciphertext FROM jobs
 WHERE type = ANY(%(types)s) AND state = 'succeeded' AND input_ciphertext IS NOT NULL
   AND (%(tenant_id)s::uuid IS NULL OR tenant_id = %(tenant_id)s)
 ORDER BY created_at, id"""

# -- lifecycle (the worker's writes, and cancellation) -------------------------------------------
CLAIM = f"""
UPDATE jobs SET state = 'running', lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       attempts = attempts + 1, updated_at = %(now)s, started_at = coalesce(started_at, %(now)s)
 WHERE id = %(job_id)s AND {NOT_TERMINAL}
   AND (lease_expires_at IS NULL OR lease_expires_at < %(now)s)
RETURNING *"""
LEASE_STATE = "SELECT state, lease_expires_at FROM jobs WHERE id = %(job_id)s"
RENEW_LEASES = f"""
UPDATE jobs SET lease_expires_at = %(expires)s
 WHERE (id, lease_owner) IN (SELECT * FROM unnest(%(ids)s::uuid[], %(owners)s::text[]))
   AND {NOT_TERMINAL}
RETURNING id"""
RELEASE_LEASE = """
UPDATE jobs SET lease_expires_at = %(now)s WHERE id = %(job_id)s AND lease_owner = %(owner)s"""
SET_STAGE = f"""
UPDATE jobs SET stage = %(stage)s, progress = %(progress)s, updated_at = %(now)s
 WHERE id = %(job_id)s AND {NOT_TERMINAL}"""
# the result row exists only if the terminal update happened (and vice versa)
SUCCEED = f"""
WITH finished AS (
    UPDATE jobs SET state = 'succeeded', stage = 'done', progress = 100, finished_at = %(now)s,
           updated_at = %(now)s, lease_owner = NULL, lease_expires_at = NULL
     WHERE id = %(job_id)s AND {NOT_TERMINAL}
    RETURNING id)
INSERT INTO results (job_id, ciphertext, model_id, prompt_version)
SELECT id, %(ciphertext)s, %(model_id)s, %(prompt_version)s FROM finished
RETURNING job_id"""
FAIL = f"""
UPDATE jobs SET state = 'failed', stage = 'done', finished_at = %(now)s, updated_at = %(now)s,
       error = %(error)s, lease_owner = NULL, lease_expires_at = NULL
 WHERE id = %(job_id)s AND {NOT_TERMINAL}"""
CANCEL = f"""
WITH cancelled AS (
    UPDATE jobs SET state = 'cancelled', finished_at = %(now)s, updated_at = %(now)s,
           lease_owner = NULL, lease_expires_at = NULL
     WHERE id = %(job_id)s AND tenant_id = %(tenant_id)s AND {NOT_TERMINAL}
    RETURNING *),
audit AS (
    INSERT INTO audit_log (tenant_id, actor, action, job_id)
    SELECT tenant_id, %(actor)s, 'job.cancel', id FROM cancelled)
SELECT * FROM cancelled"""

# -- maintenance --------------------------------------------------------------------------------
# queued jobs older than the grace period, and running jobs whose lease has expired
STALE_JOBS = """
SELECT id, queue, state, tenant_id, type FROM jobs
 WHERE (state = 'queued' AND updated_at < %(cutoff)s)
    OR (state = 'running' AND lease_expires_at < %(now)s)
 ORDER BY created_at LIMIT %(limit)s"""
TOUCH_QUEUED = "UPDATE jobs SET updated_at = %(now)s WHERE id = ANY(%(ids)s::uuid[]) AND state = 'queued'"
# oldest first; SKIP LOCKED so that two purgers never wait on each other; one audit row per tenant
PURGE_INPUTS = f"""
WITH due AS (
    SELECT id FROM jobs
     WHERE input_ciphertext IS NOT NULL AND finished_at IS NOT NULL AND finished_at < %(cutoff)s
       AND {TERMINAL}
     ORDER BY finished_at LIMIT %(limit)s
       FOR UPDATE SKIP LOCKED),
purged AS (
    UPDATE jobs SET input_ciphertext = NULL, input_purged_at = %(now)s
     WHERE id IN (SELECT id FROM due)
    RETURNING id, tenant_id),
audit AS (
    INSERT INTO audit_log (tenant_id, actor, action, details)
    SELECT tenant_id, 'system:retention', 'jobs.input_purged',
           jsonb_build_object('jobs', count(*), 'older_than_days', %(older_than_days)s::float8)
      FROM purged GROUP BY tenant_id)
SELECT count(*) AS purged FROM purged"""
