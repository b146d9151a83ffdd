"""Inbound events (Hyperswitch webhooks, Kill Bill push notifications), disputes, callback tokens.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "inbound_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("source", sa.Enum("hyperswitch", "killbill", name="eventsource", native_enum=False, length=16),
                  nullable=False),
        sa.Column("kb_tenant_id", sa.String(36), nullable=False),
        sa.Column("event_key", sa.String(128), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(64), nullable=True),
        sa.Column("object_id", sa.String(64), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.Enum("received", "processed", "skipped", "failed", name="eventstate",
                                   native_enum=False, length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("received_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("processed_at", UTC_TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_events")),
        sa.UniqueConstraint("source", "kb_tenant_id", "event_key",
                            name=op.f("uq_inbound_events_source_kb_tenant_id_event_key")),
    )
    op.create_index("ix_inbound_events_received", "inbound_events", ["source", "received_at"])
    op.create_index("ix_inbound_events_object", "inbound_events", ["kb_tenant_id", "object_id"])
    op.create_table(
        "disputes",
        sa.Column("kb_tenant_id", sa.String(36), nullable=False),
        sa.Column("hs_dispute_id", sa.String(64), nullable=False),
        sa.Column("hs_payment_id", sa.String(64), nullable=False),
        sa.Column("kb_payment_id", sa.String(36), nullable=False),
        sa.Column("hs_status", sa.String(32), nullable=False),
        sa.Column("amount_minor", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("chargeback_recorded", sa.Boolean(), nullable=False),
        sa.Column("chargeback_reversed", sa.Boolean(), nullable=False),
        sa.Column("details", JSON_DOCUMENT, nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("updated_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("kb_tenant_id", "hs_dispute_id", name=op.f("pk_disputes")),
    )
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("kb_callback_token_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("kb_callback_token_encrypted", sa.Text(), nullable=True))
        batch.create_unique_constraint(op.f("uq_tenants_kb_callback_token_hash"), ["kb_callback_token_hash"])


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_constraint(op.f("uq_tenants_kb_callback_token_hash"), type_="unique")
        batch.drop_column("kb_callback_token_encrypted")
        batch.drop_column("kb_callback_token_hash")
    op.drop_table("disputes")
    op.drop_index("ix_inbound_events_object", table_name="inbound_events")
    op.drop_index("ix_inbound_events_received", table_name="inbound_events")
    op.drop_table("inbound_events")
