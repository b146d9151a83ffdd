"""Payor channels: the tenant's messaging provider (SMS, WhatsApp), and a message's send key per channel.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("messaging_base_url", sa.String(500), nullable=True))
        batch.add_column(sa.Column("messaging_account_sid", sa.String(64), nullable=True))
        batch.add_column(sa.Column("messaging_auth_token_encrypted", sa.Text(), nullable=True))
    # One invoice email, SMS and WhatsApp message share a send key: each is sent once on its channel.
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("uq_messages_kb_tenant_id_send_key", type_="unique")
        batch.create_unique_constraint("uq_messages_kb_tenant_id_channel_send_key",
                                       ["kb_tenant_id", "channel", "send_key"])


def downgrade() -> None:
    # Text messages cannot keep a send key their email also has: they go with the channels.
    op.execute(sa.text("DELETE FROM messages WHERE channel <> 'email'"))
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("uq_messages_kb_tenant_id_channel_send_key", type_="unique")
        batch.create_unique_constraint("uq_messages_kb_tenant_id_send_key", ["kb_tenant_id", "send_key"])
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("messaging_auth_token_encrypted")
        batch.drop_column("messaging_account_sid")
        batch.drop_column("messaging_base_url")
