"""Model registry: each version's promotion decision and backtest table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("model_registry", sa.Column("decision", sa.Text, nullable=False, server_default=sa.text("'promoted'")))
    op.add_column("model_registry", sa.Column("backtest", JSONB, nullable=False,
                                              server_default=sa.text("'[]'::jsonb")))


def downgrade() -> None:
    op.drop_column("model_registry", "backtest")
    op.drop_column("model_registry", "decision")
