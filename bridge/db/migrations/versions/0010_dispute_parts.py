"""Disputes on payments carried by several Kill Bill payments (lump sums): one chargeback per part.

Each dispute recorded before this revision had one chargeback, keyed by the dispute id alone, on the
dispute's Kill Bill payment: it becomes that dispute's only part, with the same key, so reversing it later
finds it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)

# The invoice comes from the bridge's own transactions of that payment (it chose the endpoint then too).
ADOPT_RECORDED = """
INSERT INTO dispute_parts (kb_tenant_id, hs_dispute_id, position, kb_payment_id, kb_invoice_id, amount_minor,
                           chargeback_key, chargeback_recorded, chargeback_reversed, created_at, updated_at)
SELECT d.kb_tenant_id, d.hs_dispute_id, 0, d.kb_payment_id,
       (SELECT MAX(t.kb_invoice_id) FROM payment_transactions t
         WHERE t.kb_tenant_id = d.kb_tenant_id AND t.kb_payment_id = d.kb_payment_id),
       COALESCE(d.amount_minor, 0), 'hs-dispute-' || d.hs_dispute_id, d.chargeback_recorded, d.chargeback_reversed,
       d.updated_at, d.updated_at
  FROM disputes d
 WHERE d.chargeback_recorded = :recorded
"""


def upgrade() -> None:
    op.create_table(
        "dispute_parts",
        sa.Column("kb_tenant_id", sa.String(36), nullable=False),
        sa.Column("hs_dispute_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kb_payment_id", sa.String(36), nullable=False),
        sa.Column("kb_invoice_id", sa.String(36), nullable=True),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("chargeback_key", sa.String(128), nullable=False),
        sa.Column("chargeback_recorded", sa.Boolean(), nullable=False),
        sa.Column("chargeback_reversed", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("updated_at", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["kb_tenant_id", "hs_dispute_id"], ["disputes.kb_tenant_id", "disputes.hs_dispute_id"],
                                ondelete="CASCADE", name=op.f("fk_dispute_parts_kb_tenant_id_disputes")),
        sa.PrimaryKeyConstraint("kb_tenant_id", "hs_dispute_id", "position", name=op.f("pk_dispute_parts")),
        sa.UniqueConstraint("kb_tenant_id", "hs_dispute_id", "kb_payment_id",
                            name=op.f("uq_dispute_parts_kb_tenant_id_hs_dispute_id_kb_payment_id")),
    )
    op.get_bind().execute(sa.text(ADOPT_RECORDED).bindparams(sa.bindparam("recorded", True, sa.Boolean())))


def downgrade() -> None:
    op.drop_table("dispute_parts")
