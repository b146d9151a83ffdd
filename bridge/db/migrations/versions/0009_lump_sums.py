"""Several invoices at once and part payments: account pay links, lump sums and their allocations; how much
of a Hyperswitch payment Kill Bill carries (a payment recorded in parts).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "account_pay_links",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("kb_tenant_id", sa.String(36), nullable=False),
        sa.Column("kb_account_id", sa.String(36), nullable=False),
        sa.Column("expires_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("updated_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_pay_links")),
        sa.UniqueConstraint("kb_tenant_id", "kb_account_id", name=op.f("uq_account_pay_links_kb_tenant_id_kb_account_id")),
    )
    op.create_table(
        "lump_sums",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("kb_tenant_id", sa.String(36), nullable=False),
        sa.Column("kb_account_id", sa.String(36), nullable=False),
        sa.Column("part", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("hs_payment_id", sa.String(64), nullable=False),
        sa.Column("hs_link_url", sa.Text(), nullable=False),
        sa.Column("hs_link_expires_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("recording_since", UTC_TIMESTAMP, nullable=True),
        sa.Column("excess_minor", sa.Integer(), nullable=True),
        sa.Column("hs_refund_id", sa.String(64), nullable=True),
        sa.Column("recorded_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("updated_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lump_sums")),
        sa.UniqueConstraint("kb_tenant_id", "hs_payment_id", name=op.f("uq_lump_sums_kb_tenant_id_hs_payment_id")),
    )
    op.create_index("ix_lump_sums_account", "lump_sums", ["kb_tenant_id", "kb_account_id", "state"])
    op.create_table(
        "lump_sum_allocations",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("lump_sum_id", ID, nullable=False),
        sa.Column("kb_tenant_id", sa.String(36), nullable=False),
        sa.Column("kb_invoice_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=False),
        sa.Column("recorded_minor", sa.Integer(), nullable=True),
        sa.Column("kb_payment_id", sa.String(36), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["lump_sum_id"], ["lump_sums.id"], ondelete="CASCADE",
                                name=op.f("fk_lump_sum_allocations_lump_sum_id_lump_sums")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lump_sum_allocations")),
        sa.UniqueConstraint("lump_sum_id", "kb_invoice_id",
                            name=op.f("uq_lump_sum_allocations_lump_sum_id_kb_invoice_id")),
    )
    op.create_index("ix_lump_sum_allocations_invoice", "lump_sum_allocations", ["kb_tenant_id", "kb_invoice_id"])
    with op.batch_alter_table("linked_payments") as batch:
        batch.add_column(sa.Column("linked_minor", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("linked_payments") as batch:
        batch.drop_column("linked_minor")
    op.drop_index("ix_lump_sum_allocations_invoice", table_name="lump_sum_allocations")
    op.drop_table("lump_sum_allocations")
    op.drop_index("ix_lump_sums_account", table_name="lump_sums")
    op.drop_table("lump_sums")
    op.drop_table("account_pay_links")
