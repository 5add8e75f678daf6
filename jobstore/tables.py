"""SQLAlchemy Core tables; the schema itself is created by Alembic (migrations/)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

metadata = sa.MetaData()

JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")
TERMINAL_STATES = ("succeeded", "failed", "cancelled")

tenants = sa.Table(
    "tenants", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

api_keys = sa.Table(
    "api_keys", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("prefix", sa.Text, nullable=False, unique=True),
    sa.Column("key_hash", sa.LargeBinary, nullable=False),
    sa.Column("scopes", ARRAY(sa.Text), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

batches = sa.Table(
    "batches", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("priority", sa.Text, nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

jobs = sa.Table(
    "jobs", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("batch_id", UUID(as_uuid=True), sa.ForeignKey("batches.id")),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("priority", sa.Text, nullable=False),
    sa.Column("queue", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("progress", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("input_ciphertext", sa.LargeBinary),  # NULL once erased by the retention purge
    sa.Column("patient_ref_hash", sa.Text),
    sa.Column("options", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("callback_url", sa.Text),
    sa.Column("idempotency_key", sa.Text),
    sa.Column("body_hash", sa.Text),
    sa.Column("error", JSONB),
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_expires_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("input_purged_at", sa.DateTime(timezone=True)),
    # what the migrations create (a test compares the two)
    sa.Index("jobs_idempotency", "tenant_id", "idempotency_key", unique=True,
             postgresql_where=sa.text("idempotency_key IS NOT NULL")),
    sa.Index("jobs_active", "state", "updated_at", postgresql_where=sa.text("state IN ('queued','running')")),
    sa.Index("jobs_batch", "batch_id", postgresql_where=sa.text("batch_id IS NOT NULL")),
    sa.Index("jobs_tenant_created", "tenant_id", "created_at"),
    sa.Index("jobs_input_retention", "finished_at",
             postgresql_where=sa.text("input_ciphertext IS NOT NULL AND finished_at IS NOT NULL")),
)

results = sa.Table(
    "results", metadata,
    sa.Column("job_id", UUID(as_uuid=True), sa.ForeignKey("jobs.id"), primary_key=True),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),
    sa.Column("model_id", sa.Text),
    sa.Column("prompt_version", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("tenant_id", UUID(as_uuid=True)),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("job_id", UUID(as_uuid=True)),
    sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
)

model_registry = sa.Table(
    "model_registry", metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("version", sa.Text, primary_key=True),
    sa.Column("metrics", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    sa.Column("artefact_path", sa.Text, nullable=False),
    sa.Column("artefact_hash", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # promoted | rejected: the verdict of the version's backtest when it was registered (0003)
    sa.Column("decision", sa.Text, nullable=False, server_default=sa.text("'promoted'")),
    sa.Column("backtest", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Index("model_registry_one_active", "name", unique=True, postgresql_where=sa.text("active")),
)

# -- journals and their nightly re-analysis (0004) -------------------------------------------------
RUN_STATES = ("queued", "running", "succeeded", "failed", "cancelled")
ANALYSIS_STATES = ("running", "succeeded", "failed")

journal_entries = sa.Table(
    "journal_entries", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("patient_ref_hash", sa.Text, nullable=False),  # keyed hash, as jobs.patient_ref_hash
    sa.Column("entry_ref_hash", sa.Text, nullable=False),  # keyed hash of the client's entry_id
    sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ciphertext", sa.LargeBinary, nullable=False),  # {"entry_id", "patient_ref", "text"}
    sa.Column("digest", sa.Text, nullable=False),  # keyed hash of (written_at, text): a replay or a 409
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("tenant_id", "patient_ref_hash", "entry_ref_hash", name="journal_entries_once"),
    sa.Index("journal_entries_patient", "tenant_id", "patient_ref_hash", "written_at"),
    sa.Index("journal_entries_tenant_written", "tenant_id", "written_at"),
)

reanalysis_runs = sa.Table(
    "reanalysis_runs", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("trigger", sa.Text, nullable=False),  # api | nightly | cli
    # {type: {"versions": {...}, "key": "..."}}: the versions the run analyses at, fixed at creation
    sa.Column("versions", JSONB, nullable=False),
    sa.Column("patient_ref_hashes", ARRAY(sa.Text)),  # NULL: every patient of the tenant
    sa.Column("since", sa.DateTime(timezone=True)),  # entries written at or after this only
    sa.Column("selected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("progress", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("flags_raised", sa.Integer, nullable=False, server_default="0"),
    sa.Column("callback_url", sa.Text),
    sa.Column("nightly_key", sa.Text),  # tenant + local minute of a scheduled run: one run per firing
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("error", JSONB),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Index("reanalysis_runs_nightly", "nightly_key", unique=True, postgresql_where=sa.text("nightly_key IS NOT NULL")),
    sa.Index("reanalysis_runs_active", "state", "updated_at",
             postgresql_where=sa.text("state IN ('queued','running')")),
    sa.Index("reanalysis_runs_tenant_created", "tenant_id", "created_at"),
)

# one row per (entry, type, versions): the claim of a run's worker while it runs (lease), then the
# analysis. The unique constraint is what makes "analysed exactly once per version" hold when two
# runs, or a redelivered message, reach the same pair.
journal_analyses = sa.Table(
    "journal_analyses", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("journal_entry_id", UUID(as_uuid=True), sa.ForeignKey("journal_entries.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("version_key", sa.Text, nullable=False),
    sa.Column("versions", JSONB, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("run_id", UUID(as_uuid=True), sa.ForeignKey("reanalysis_runs.id")),
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_expires_at", sa.DateTime(timezone=True)),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("label", sa.Text),  # a label word of the type, never free text
    sa.Column("confidence", sa.Float),
    sa.Column("result_ciphertext", sa.LargeBinary),  # the whole LLM result (rationale may quote scrubbed text)
    sa.Column("error", JSONB),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("journal_entry_id", "type", "version_key", name="journal_analyses_once"),
    sa.Index("journal_analyses_run", "run_id", "state"),
    sa.Index("journal_analyses_leased", "lease_expires_at", postgresql_where=sa.text("state = 'running'")),
)

journal_flags = sa.Table(
    "journal_flags", metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False),
    sa.Column("patient_ref_hash", sa.Text, nullable=False),
    sa.Column("journal_entry_id", UUID(as_uuid=True), sa.ForeignKey("journal_entries.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("analysis_id", UUID(as_uuid=True), sa.ForeignKey("journal_analyses.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),  # label_change | risk_increase | negative_trend
    sa.Column("from_label", sa.Text),
    sa.Column("to_label", sa.Text),
    sa.Column("requires_attention", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("run_id", UUID(as_uuid=True), sa.ForeignKey("reanalysis_runs.id")),
    sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.UniqueConstraint("analysis_id", "kind", name="journal_flags_once"),
    sa.Index("journal_flags_patient", "tenant_id", "patient_ref_hash", "raised_at"),
    sa.Index("journal_flags_run", "run_id"),
)

# a tenant's nightly schedule; a tenant without a row runs at MINDQ_NIGHTLY_CRON, UTC, MINDQ_NIGHTLY_TYPES
journal_schedules = sa.Table(
    "journal_schedules", metadata,
    sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), primary_key=True),
    sa.Column("time_zone", sa.Text, nullable=False, server_default=sa.text("'UTC'")),
    sa.Column("types", ARRAY(sa.Text)),  # NULL: MINDQ_NIGHTLY_TYPES
    sa.Column("callback_url", sa.Text),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)
