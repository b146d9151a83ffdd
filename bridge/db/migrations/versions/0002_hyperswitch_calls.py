"""The audit trail of calls to Hyperswitch.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "hyperswitch_calls",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kb_tenant_id", sa.String(36), nullable=True),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("error_kind", sa.String(32), nullable=True),
        sa.Column("error_code", sa.String(32), nullable=True),
        sa.Column("request_body", JSON_DOCUMENT, nullable=True),
        sa.Column("response_body", JSON_DOCUMENT, nullable=True),
        sa.Column("started_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hyperswitch_calls")),
    )
    op.create_index("ix_hyperswitch_calls_tenant_time", "hyperswitch_calls", ["kb_tenant_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_hyperswitch_calls_tenant_time", table_name="hyperswitch_calls")
    op.drop_table("hyperswitch_calls")
