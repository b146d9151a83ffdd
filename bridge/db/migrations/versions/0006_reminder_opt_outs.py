"""Invoice flow: payors' opt-outs from payment reminders (List-Unsubscribe).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "reminder_opt_outs",
        sa.Column("kb_tenant_id", sa.String(36), nullable=False),
        sa.Column("kb_account_id", sa.String(36), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("kb_tenant_id", "kb_account_id", name=op.f("pk_reminder_opt_outs")),
    )


def downgrade() -> None:
    op.drop_table("reminder_opt_outs")
