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
