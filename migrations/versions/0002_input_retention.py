"""Input retention: a finished job's encrypted input can be erased after a retention period.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("jobs", "input_ciphertext", nullable=True)
    op.add_column("jobs", sa.Column("input_purged_at", sa.DateTime(timezone=True)))
    # the purge's scan: finished jobs that still hold their input, oldest first
    op.create_index("jobs_input_retention", "jobs", ["finished_at"],
                    postgresql_where=sa.text("input_ciphertext IS NOT NULL AND finished_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("jobs_input_retention", table_name="jobs")
    op.drop_column("jobs", "input_purged_at")
    # purged rows have no input to restore; an empty ciphertext keeps the old NOT NULL
    op.execute("UPDATE jobs SET input_ciphertext = ''::bytea WHERE input_ciphertext IS NULL")
    op.alter_column("jobs", "input_ciphertext", nullable=False)
