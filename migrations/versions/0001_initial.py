"""Initial schema: tenants, api_keys, batches, jobs, results, audit_log, model_registry.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATES = "'queued','running','succeeded','failed','cancelled'"


def upgrade() -> None:
    ts = lambda name, **kw: sa.Column(name, sa.DateTime(timezone=True), **kw)  # noqa: E731
    now = dict(nullable=False, server_default=sa.func.now())
    op.create_table(
        "tenants",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        ts("created_at", **now),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("prefix", sa.Text, nullable=False, unique=True),
        sa.Column("key_hash", sa.LargeBinary, nullable=False),
        sa.Column("scopes", ARRAY(sa.Text), nullable=False),
        ts("created_at", **now),
        ts("revoked_at"),
    )
    op.create_table(
        "batches",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("priority", sa.Text, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        ts("created_at", **now),
    )
    op.create_table(
        "jobs",
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
        sa.Column("input_ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("patient_ref_hash", sa.Text),
        sa.Column("options", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("callback_url", sa.Text),
        sa.Column("idempotency_key", sa.Text),
        sa.Column("body_hash", sa.Text),
        sa.Column("error", JSONB),
        sa.Column("lease_owner", sa.Text),
        ts("lease_expires_at"),
        ts("created_at", **now),
        ts("updated_at", **now),
        ts("started_at"),
        ts("finished_at"),
        sa.CheckConstraint(f"state IN ({STATES})", name="jobs_state_valid"),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name="jobs_progress_range"),
    )
    op.create_index("jobs_idempotency", "jobs", ["tenant_id", "idempotency_key"], unique=True,
                    postgresql_where=sa.text("idempotency_key IS NOT NULL"))
    op.create_index("jobs_active", "jobs", ["state", "updated_at"],
                    postgresql_where=sa.text("state IN ('queued','running')"))
    op.create_index("jobs_batch", "jobs", ["batch_id"], postgresql_where=sa.text("batch_id IS NOT NULL"))
    op.create_index("jobs_tenant_created", "jobs", ["tenant_id", "created_at"])
    op.create_table(
        "results",
        sa.Column("job_id", UUID(as_uuid=True), sa.ForeignKey("jobs.id"), primary_key=True),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("model_id", sa.Text),
        sa.Column("prompt_version", sa.Text),
        ts("created_at", **now),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        ts("at", **now),
        sa.Column("tenant_id", UUID(as_uuid=True)),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("job_id", UUID(as_uuid=True)),
        sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    # append-only: the database itself refuses to rewrite history
    op.execute("""
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
    """)
    op.execute("""
        CREATE TRIGGER audit_log_no_rewrite BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
    """)
    op.create_table(
        "model_registry",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("version", sa.Text, primary_key=True),
        sa.Column("metrics", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("artefact_path", sa.Text, nullable=False),
        sa.Column("artefact_hash", sa.Text, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.false()),
        ts("created_at", **now),
    )
    op.create_index("model_registry_one_active", "model_registry", ["name"], unique=True,
                    postgresql_where=sa.text("active"))


def downgrade() -> None:
    op.drop_table("model_registry")
    op.execute("DROP TRIGGER audit_log_no_rewrite ON audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
    for table in ("audit_log", "results", "jobs", "batches", "api_keys", "tenants"):
        op.drop_table(table)
