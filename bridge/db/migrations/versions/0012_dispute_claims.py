"""Disputes are applied to Kill Bill by one run at a time: ``disputes.applying_until``, a claim with an expiry.

Two events about one dispute (opened, then lost) processed side by side both found no chargeback in Kill Bill
and both recorded one; Kill Bill does not refuse the second chargeback's external key.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disputes") as batch:
        batch.add_column(sa.Column("applying_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disputes") as batch:
        batch.drop_column("applying_until")
