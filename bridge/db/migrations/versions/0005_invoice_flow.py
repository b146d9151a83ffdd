"""Invoice flow: pay-by-link records and the log of messages to payors.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "pay_links",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kb_tenant_id", sa.String(36), nullable=False),
        sa.Column("kb_account_id", sa.String(36), nullable=False),
        sa.Column("kb_invoice_id", sa.String(36), nullable=False),
        sa.Column("state", sa.Enum("open", "paid", "voided", "expired", name="paylinkstate", native_enum=False,
                                   length=16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("expires_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("hs_payment_id", sa.String(64), nullable=True),
        sa.Column("hs_link_url", sa.Text(), nullable=True),
        sa.Column("hs_link_expires_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("amount_minor", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("kb_payment_id", sa.String(36), nullable=True),
        sa.Column("paid_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("updated_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_links")),
        sa.UniqueConstraint("kb_tenant_id", "kb_invoice_id", name=op.f("uq_pay_links_kb_tenant_id_kb_invoice_id")),
    )
    op.create_index("ix_pay_links_account", "pay_links", ["kb_tenant_id", "kb_account_id"])
    op.create_table(
        "messages",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kb_tenant_id", sa.String(36), nullable=False),
        sa.Column("kb_account_id", sa.String(36), nullable=True),
        sa.Column("kb_invoice_id", sa.String(36), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("send_key", sa.String(200), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=True),
        sa.Column("subject", sa.String(500), nullable=True),
        sa.Column("status", sa.Enum("queued", "sent", "failed", "skipped", name="messagestatus", native_enum=False,
                                    length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("provider_message_id", sa.String(255), nullable=True),
        sa.Column("context", JSON_DOCUMENT, nullable=False),
        sa.Column("sent_at", UTC_TIMESTAMP, nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("updated_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("kb_tenant_id", "send_key", name=op.f("uq_messages_kb_tenant_id_send_key")),
    )
    op.create_index("ix_messages_invoice", "messages", ["kb_tenant_id", "kb_invoice_id"])


def downgrade() -> None:
    op.drop_index("ix_messages_invoice", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_pay_links_account", table_name="pay_links")
    op.drop_table("pay_links")
