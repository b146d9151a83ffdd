"""Indexes the bridge's lookups need once a database holds a million transactions (benchmarks/scale.py).

- payment_methods by Hyperswitch payment method and by mandate, within a tenant: addPaymentMethod's "already
  added?" check, mandate webhooks and cards saved on pay-by-link payments read every payment method of the
  tenant through ix_payment_methods_account (tens of milliseconds for a tenant with 15,000 accounts);
- the sweeper's stale transactions, tenant by tenant: ix_payment_transactions_open gains kb_tenant_id first,
  instead of intersecting (status, updated_at) with a scan of all the tenant's transactions.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_payment_methods_hs_payment_method", "payment_methods", ["kb_tenant_id", "hs_payment_method_id"])
    op.create_index("ix_payment_methods_hs_mandate", "payment_methods", ["kb_tenant_id", "hs_mandate_id"])
    op.drop_index("ix_payment_transactions_open", table_name="payment_transactions")
    op.create_index("ix_payment_transactions_open", "payment_transactions", ["kb_tenant_id", "status", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_payment_transactions_open", table_name="payment_transactions")
    op.create_index("ix_payment_transactions_open", "payment_transactions", ["status", "updated_at"])
    op.drop_index("ix_payment_methods_hs_mandate", table_name="payment_methods")
    op.drop_index("ix_payment_methods_hs_payment_method", table_name="payment_methods")
