"""Edges: token buckets shared by every process (pacing toward Hyperswitch, inbound rate limits).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("tat", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_buckets")),
    )
    op.create_index(op.f("ix_rate_buckets_tat"), "rate_buckets", ["tat"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_buckets_tat"), table_name="rate_buckets")
    op.drop_table("rate_buckets")
