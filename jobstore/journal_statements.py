"""The SQL of journals and re-analysis runs (jobstore.journals), in jobstore.statements' style:
plain PostgreSQL with named psycopg parameters, one statement per durable step.

A run's scope is its tenant's entries created before the run (``cutoff``), optionally of some
patients and written since a date, crossed with its (type, version key) pairs. A pair of the
scope is "claimable" when it has no analysis row at that version, or a row whose lease expired,
or one that failed in another run (with attempts left); ``journal_analyses_once`` makes the
claim itself the guard against a second analysis.
"""
from __future__ import annotations

MAX_ATTEMPTS = 3

_PAIRS = "unnest(%(types)s::text[], %(keys)s::text[], %(versions)s::jsonb[]) AS p (type, version_key, versions)"
_SCOPE = """
       e.tenant_id = %(tenant_id)s AND e.created_at <= %(cutoff)s
   AND (%(since)s::timestamptz IS NULL OR e.written_at >= %(since)s)
   AND (%(patients)s::text[] IS NULL OR e.patient_ref_hash = ANY(%(patients)s))"""
_CLAIMABLE = f"""
    (a.id IS NULL
     OR (a.state = 'running' AND a.lease_expires_at < %(now)s AND a.attempts < {MAX_ATTEMPTS})
     OR (a.state = 'failed' AND a.run_id IS DISTINCT FROM %(run_id)s AND a.attempts < {MAX_ATTEMPTS}))"""
_LIVE = "(a.state = 'running' AND a.lease_expires_at >= %(now)s)"

# -- entries ------------------------------------------------------------------------------------
ADD_ENTRIES = """
INSERT INTO journal_entries (id, tenant_id, patient_ref_hash, entry_ref_hash, written_at, ciphertext, digest)
SELECT id, %(tenant_id)s, %(patient)s, ref, written_at, ciphertext, digest
  FROM unnest(%(ids)s::uuid[], %(refs)s::text[], %(written_at)s::timestamptz[], %(ciphertexts)s::bytea[],
              %(digests)s::text[]) AS n (id, ref, written_at, ciphertext, digest)
ON CONFLICT ON CONSTRAINT journal_entries_once DO NOTHING
RETURNING id, entry_ref_hash"""
ENTRIES_BY_REF = """
SELECT id, entry_ref_hash, digest FROM journal_entries
 WHERE tenant_id = %(tenant_id)s AND patient_ref_hash = %(patient)s AND entry_ref_hash = ANY(%(refs)s::text[])"""
PATIENT_ENTRIES = """
SELECT id, written_at, ciphertext, created_at FROM journal_entries
 WHERE tenant_id = %(tenant_id)s AND patient_ref_hash = %(patient)s
 ORDER BY written_at, id"""
PATIENT_ANALYSES = """
SELECT a.journal_entry_id, a.type, a.label, a.confidence, a.versions, a.version_key, a.run_id, a.finished_at
  FROM journal_analyses a JOIN journal_entries e ON e.id = a.journal_entry_id
 WHERE e.tenant_id = %(tenant_id)s AND e.patient_ref_hash = %(patient)s AND a.state = 'succeeded'
 ORDER BY a.finished_at"""
PATIENT_FLAGS = """
SELECT f.*, e.ciphertext FROM journal_flags f JOIN journal_entries e ON e.id = f.journal_entry_id
 WHERE f.tenant_id = %(tenant_id)s AND f.patient_ref_hash = %(patient)s
 ORDER BY f.raised_at DESC, e.written_at DESC LIMIT %(limit)s"""
PATIENT_EXISTS = """
SELECT 1 FROM journal_entries WHERE tenant_id = %(tenant_id)s AND patient_ref_hash = %(patient)s LIMIT 1"""

# -- runs ---------------------------------------------------------------------------------------
CREATE_RUN = """
INSERT INTO reanalysis_runs (id, tenant_id, state, trigger, versions, patient_ref_hashes, since, callback_url,
                             nightly_key, actor)
VALUES (%(id)s, %(tenant_id)s, 'queued', %(trigger)s, %(versions)s, %(patients)s, %(since)s, %(callback_url)s,
        %(nightly_key)s, %(actor)s)
ON CONFLICT (nightly_key) WHERE nightly_key IS NOT NULL DO NOTHING
RETURNING *"""
RUN = """
SELECT * FROM reanalysis_runs
 WHERE id = %(run_id)s AND (%(tenant_id)s::uuid IS NULL OR tenant_id = %(tenant_id)s)"""
RECENT_RUNS = """
SELECT * FROM reanalysis_runs WHERE tenant_id = %(tenant_id)s ORDER BY created_at DESC LIMIT %(limit)s"""
START_RUN = """
UPDATE reanalysis_runs SET state = 'running', started_at = %(now)s, updated_at = %(now)s, selected = %(selected)s
 WHERE id = %(run_id)s AND state = 'queued'
RETURNING *"""
# lanes record what they counted; a lane that counted earlier but writes later never moves them back
RUN_PROGRESS = """
UPDATE reanalysis_runs SET done = greatest(done, %(done)s), failed = greatest(failed, %(failed)s),
       progress = greatest(progress, %(progress)s), updated_at = %(now)s
 WHERE id = %(run_id)s AND state = 'running'
RETURNING *"""
FINISH_RUN = """
UPDATE reanalysis_runs SET state = %(state)s, done = %(done)s, failed = %(failed)s, progress = %(progress)s,
       flags_raised = %(flags_raised)s, error = %(error)s, finished_at = %(now)s, updated_at = %(now)s
 WHERE id = %(run_id)s AND state = 'running'
RETURNING *"""
CANCEL_RUN = """
UPDATE reanalysis_runs SET state = 'cancelled', finished_at = %(now)s, updated_at = %(now)s
 WHERE id = %(run_id)s AND tenant_id = %(tenant_id)s AND state IN ('queued', 'running')
RETURNING *"""
# queued runs nobody started, and running ones that went quiet with none of their claims alive
STALLED_RUNS = f"""
SELECT r.* FROM reanalysis_runs r
 WHERE (r.state = 'queued' AND r.updated_at < %(cutoff)s)
    OR (r.state = 'running' AND r.updated_at < %(cutoff)s
        AND NOT EXISTS (SELECT 1 FROM journal_analyses a WHERE a.run_id = r.id AND {_LIVE}))
 ORDER BY r.created_at LIMIT 100"""
TOUCH_RUN = "UPDATE reanalysis_runs SET updated_at = %(now)s WHERE id = %(run_id)s AND state IN ('queued','running')"

# what a run's scope holds now (one pass over it); ``missing`` at the start is the run's selection,
# and what of it is no longer missing is done (by this run or another one running beside it)
RUN_STATUS = f"""
SELECT count(*) FILTER (WHERE a.id IS NULL OR a.state <> 'succeeded') AS missing,
       count(*) FILTER (WHERE {_CLAIMABLE}) AS claimable,
       count(*) FILTER (WHERE {_LIVE}) AS in_flight,
       count(*) FILTER (WHERE {_LIVE} AND a.run_id = %(run_id)s) AS own_in_flight,
       count(*) FILTER (WHERE a.finished_at >= %(started_at)s AND (
                          (a.state = 'failed' AND (a.run_id = %(run_id)s OR a.attempts >= {MAX_ATTEMPTS}))
                          OR (a.state = 'running' AND a.lease_expires_at < %(now)s
                              AND a.attempts >= {MAX_ATTEMPTS}))) AS failed
  FROM journal_entries e CROSS JOIN {_PAIRS}
  LEFT JOIN journal_analyses a
         ON a.journal_entry_id = e.id AND a.type = p.type AND a.version_key = p.version_key
 WHERE {_SCOPE}"""

# Take up to ``limit`` claimable pairs for this execution: a new row, or the row of an expired
# lease or of another run's failure. Entries another claim is picking right now are skipped
# (SKIP LOCKED), so concurrent lanes take different pairs; a pair two of them still reach is
# decided by the unique constraint, whose DO UPDATE only takes an expired or failed row.
CLAIM = f"""
WITH pick AS (
    SELECT e.id AS entry_id, e.patient_ref_hash, p.type, p.version_key, p.versions
      FROM journal_entries e CROSS JOIN {_PAIRS}
      LEFT JOIN journal_analyses a
             ON a.journal_entry_id = e.id AND a.type = p.type AND a.version_key = p.version_key
     WHERE {_SCOPE} AND {_CLAIMABLE}
     ORDER BY e.patient_ref_hash, e.written_at, e.id
     LIMIT %(limit)s
       FOR UPDATE OF e SKIP LOCKED),
claimed AS (
    INSERT INTO journal_analyses (id, journal_entry_id, tenant_id, type, version_key, versions, state, run_id,
                                  lease_owner, lease_expires_at, attempts, created_at)
    SELECT gen_random_uuid(), entry_id, %(tenant_id)s, type, version_key, versions, 'running', %(run_id)s,
           %(owner)s, %(expires)s, 1, %(now)s FROM pick
    ON CONFLICT ON CONSTRAINT journal_analyses_once DO UPDATE
       SET run_id = excluded.run_id, lease_owner = excluded.lease_owner,
           lease_expires_at = excluded.lease_expires_at, attempts = journal_analyses.attempts + 1,
           state = 'running', error = NULL, finished_at = NULL
     WHERE (journal_analyses.state = 'running' AND journal_analyses.lease_expires_at < %(now)s
            AND journal_analyses.attempts < {MAX_ATTEMPTS})
        OR (journal_analyses.state = 'failed' AND journal_analyses.run_id IS DISTINCT FROM %(run_id)s
            AND journal_analyses.attempts < {MAX_ATTEMPTS})
    RETURNING id, journal_entry_id, type, version_key, attempts)
SELECT c.*, e.ciphertext FROM claimed c JOIN journal_entries e ON e.id = c.journal_entry_id"""
RENEW = """
UPDATE journal_analyses SET lease_expires_at = %(expires)s
 WHERE id = ANY(%(ids)s::uuid[]) AND lease_owner = %(owner)s AND state = 'running'"""
# only the execution that holds the claim writes the outcome: a worker whose lease was taken
# over (it looked dead) finds its write refused and discards its result
SUCCEED = """
UPDATE journal_analyses SET state = 'succeeded', label = %(label)s, confidence = %(confidence)s,
       versions = %(versions)s, result_ciphertext = %(ciphertext)s, finished_at = %(now)s,
       lease_owner = NULL, lease_expires_at = NULL
 WHERE id = %(id)s AND lease_owner = %(owner)s AND state = 'running'"""
FAIL = """
UPDATE journal_analyses SET state = 'failed', error = %(error)s, finished_at = %(now)s,
       lease_owner = NULL, lease_expires_at = NULL
 WHERE id = %(id)s AND lease_owner = %(owner)s AND state = 'running'"""
RELEASE = """
UPDATE journal_analyses SET lease_expires_at = %(now)s
 WHERE id = %(id)s AND lease_owner = %(owner)s AND state = 'running'"""

# -- change detection ---------------------------------------------------------------------------
# the patient series (at the run's versions) of every patient this run analysed something for
RUN_SERIES = """
WITH p AS (SELECT * FROM unnest(%(types)s::text[], %(keys)s::text[]) AS p (type, version_key)),
touched AS (
    SELECT DISTINCT e.patient_ref_hash FROM journal_analyses a JOIN journal_entries e ON e.id = a.journal_entry_id
     WHERE a.run_id = %(run_id)s AND a.state = 'succeeded')
SELECT e.patient_ref_hash, e.id AS entry_id, e.written_at, a.id AS analysis_id, a.type, a.label, a.run_id,
       EXISTS (SELECT 1 FROM journal_analyses o
                WHERE o.journal_entry_id = e.id AND o.type = a.type AND o.version_key <> a.version_key
                  AND o.state = 'succeeded' AND o.finished_at < a.finished_at) AS reanalysed
  FROM journal_entries e JOIN journal_analyses a ON a.journal_entry_id = e.id
  JOIN p ON p.type = a.type AND p.version_key = a.version_key
 WHERE e.tenant_id = %(tenant_id)s AND a.state = 'succeeded'
   AND e.patient_ref_hash IN (SELECT patient_ref_hash FROM touched)
 ORDER BY e.patient_ref_hash, a.type, e.written_at, e.id"""
ADD_FLAGS = """
INSERT INTO journal_flags (id, tenant_id, patient_ref_hash, journal_entry_id, analysis_id, type, kind, from_label,
                           to_label, requires_attention, run_id, raised_at)
SELECT gen_random_uuid(), %(tenant_id)s, patient, entry, analysis, type, kind, from_label, to_label, attention,
       %(run_id)s, %(now)s
  FROM unnest(%(patients)s::text[], %(entries)s::uuid[], %(analyses)s::uuid[], %(types)s::text[], %(kinds)s::text[],
              %(froms)s::text[], %(tos)s::text[], %(attention)s::boolean[])
       AS f (patient, entry, analysis, type, kind, from_label, to_label, attention)
ON CONFLICT ON CONSTRAINT journal_flags_once DO NOTHING"""
RUN_FLAGS = """
SELECT f.*, e.ciphertext FROM journal_flags f JOIN journal_entries e ON e.id = f.journal_entry_id
 WHERE f.run_id = %(run_id)s ORDER BY f.requires_attention DESC, f.raised_at LIMIT %(limit)s"""
RUN_FLAG_COUNT = "SELECT count(*) AS n FROM journal_flags WHERE run_id = %(run_id)s"

# -- the nightly schedule -----------------------------------------------------------------------
SCHEDULES = """
SELECT t.id AS tenant_id, coalesce(s.time_zone, 'UTC') AS time_zone, s.types, s.callback_url,
       coalesce(s.enabled, true) AS enabled
  FROM tenants t LEFT JOIN journal_schedules s ON s.tenant_id = t.id
 WHERE EXISTS (SELECT 1 FROM journal_entries e WHERE e.tenant_id = t.id)"""
SCHEDULE = "SELECT * FROM journal_schedules WHERE tenant_id = %(tenant_id)s"
SET_SCHEDULE = """
INSERT INTO journal_schedules (tenant_id, time_zone, types, callback_url, enabled, updated_at)
VALUES (%(tenant_id)s, %(time_zone)s, %(types)s, %(callback_url)s, %(enabled)s, %(now)s)
ON CONFLICT (tenant_id) DO UPDATE
   SET time_zone = excluded.time_zone, types = excluded.types, callback_url = excluded.callback_url,
       enabled = excluded.enabled, updated_at = excluded.updated_at
RETURNING *"""
