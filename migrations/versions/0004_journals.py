"""Journals and their nightly re-analysis: entries (text encrypted, refs as keyed hashes), one
analysis per (entry, type, versions), runs with their counts, flags, per-tenant schedules.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "journal_entries",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("patient_ref_hash", sa.Text, nullable=False),
        sa.Column("entry_ref_hash", sa.Text, nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.UniqueConstraint("tenant_id", "patient_ref_hash", "entry_ref_hash", name="journal_entries_once"),
    )
    op.create_index("journal_entries_patient", "journal_entries", ["tenant_id", "patient_ref_hash", "written_at"])
    op.create_index("journal_entries_tenant_written", "journal_entries", ["tenant_id", "written_at"])

    op.create_table(
        "reanalysis_runs",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("trigger", sa.Text, nullable=False),
        sa.Column("versions", JSONB, nullable=False),
        sa.Column("patient_ref_hashes", ARRAY(sa.Text)),
        sa.Column("since", sa.DateTime(timezone=True)),
        sa.Column("selected", sa.Integer, nullable=False, server_default="0"),
        sa.Column("done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("progress", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("flags_raised", sa.Integer, nullable=False, server_default="0"),
        sa.Column("callback_url", sa.Text),
        sa.Column("nightly_key", sa.Text),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("error", JSONB),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("reanalysis_runs_nightly", "reanalysis_runs", ["nightly_key"], unique=True,
                    postgresql_where=sa.text("nightly_key IS NOT NULL"))
    op.create_index("reanalysis_runs_active", "reanalysis_runs", ["state", "updated_at"],
                    postgresql_where=sa.text("state IN ('queued','running')"))
    op.create_index("reanalysis_runs_tenant_created", "reanalysis_runs", ["tenant_id", "created_at"])

    op.create_table(
        "journal_analyses",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("journal_entry_id", UUID(as_uuid=True),
                  sa.ForeignKey("journal_entries.id", ondelete="CASCADE"), nullable=False),
        sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("version_key", sa.Text, nullable=False),
        sa.Column("versions", JSONB, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("run_id", UUID(as_uuid=True), sa.ForeignKey("reanalysis_runs.id")),
        sa.Column("lease_owner", sa.Text),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("label", sa.Text),
        sa.Column("confidence", sa.Float),
        sa.Column("result_ciphertext", sa.LargeBinary),
        sa.Column("error", JSONB),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        # exactly one analysis per entry, type and versions, however many runs reach the pair
        sa.UniqueConstraint("journal_entry_id", "type", "version_key", name="journal_analyses_once"),
    )
    op.create_index("journal_analyses_run", "journal_analyses", ["run_id", "state"])
    op.create_index("journal_analyses_leased", "journal_analyses", ["lease_expires_at"],
                    postgresql_where=sa.text("state = 'running'"))

    op.create_table(
        "journal_flags",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("patient_ref_hash", sa.Text, nullable=False),
        sa.Column("journal_entry_id", UUID(as_uuid=True),
                  sa.ForeignKey("journal_entries.id", ondelete="CASCADE"), nullable=False),
        sa.Column("analysis_id", UUID(as_uuid=True),
                  sa.ForeignKey("journal_analyses.id", ondelete="CASCADE"), nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("from_label", sa.Text),
        sa.Column("to_label", sa.Text),
        sa.Column("requires_attention", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("run_id", UUID(as_uuid=True), sa.ForeignKey("reanalysis_runs.id")),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.UniqueConstraint("analysis_id", "kind", name="journal_flags_once"),
    )
    op.create_index("journal_flags_patient", "journal_flags", ["tenant_id", "patient_ref_hash", "raised_at"])
    op.create_index("journal_flags_run", "journal_flags", ["run_id"])

    op.create_table(
        "journal_schedules",
        sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("time_zone", sa.Text, nullable=False, server_default=sa.text("'UTC'")),
        sa.Column("types", ARRAY(sa.Text)),
        sa.Column("callback_url", sa.Text),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
    )


def downgrade() -> None:
    for table in ("journal_schedules", "journal_flags", "journal_analyses", "reanalysis_runs", "journal_entries"):
        op.drop_table(table)
