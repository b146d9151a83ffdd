"""Payments: transactions with their history, customers, payment methods, linked payments.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

UTC_TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table('hs_customers',
    sa.Column('kb_tenant_id', sa.String(length=36), nullable=False),
    sa.Column('kb_account_id', sa.String(length=36), nullable=False),
    sa.Column('hs_customer_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.PrimaryKeyConstraint('kb_tenant_id', 'kb_account_id', name=op.f('pk_hs_customers'))
    )
    op.create_table('linked_payments',
    sa.Column('kb_tenant_id', sa.String(length=36), nullable=False),
    sa.Column('hs_payment_id', sa.String(length=64), nullable=False),
    sa.Column('kb_transaction_id', sa.String(length=36), nullable=False),
    sa.Column('details', JSON_DOCUMENT, nullable=False),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.PrimaryKeyConstraint('kb_tenant_id', 'hs_payment_id', name=op.f('pk_linked_payments'))
    )
    op.create_table('payment_methods',
    sa.Column('kb_tenant_id', sa.String(length=36), nullable=False),
    sa.Column('kb_payment_method_id', sa.String(length=36), nullable=False),
    sa.Column('kb_account_id', sa.String(length=36), nullable=False),
    sa.Column('hs_customer_id', sa.String(length=64), nullable=False),
    sa.Column('hs_payment_method_id', sa.String(length=64), nullable=True),
    sa.Column('hs_mandate_id', sa.String(length=64), nullable=True),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('state', sa.Enum('active', 'unusable', 'deleted', name='paymentmethodstate', native_enum=False, length=16), nullable=False),
    sa.Column('payment_method', sa.String(length=32), nullable=True),
    sa.Column('card_network', sa.String(length=32), nullable=True),
    sa.Column('card_last4', sa.String(length=4), nullable=True),
    sa.Column('card_exp_month', sa.String(length=2), nullable=True),
    sa.Column('card_exp_year', sa.String(length=4), nullable=True),
    sa.Column('mandate_status', sa.String(length=16), nullable=True),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.Column('updated_at', UTC_TIMESTAMP, nullable=False),
    sa.PrimaryKeyConstraint('kb_tenant_id', 'kb_payment_method_id', name=op.f('pk_payment_methods'))
    )
    op.create_index('ix_payment_methods_account', 'payment_methods', ['kb_tenant_id', 'kb_account_id'])

    op.create_table('payment_transactions',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('kb_tenant_id', sa.String(length=36), nullable=False),
    sa.Column('kb_account_id', sa.String(length=36), nullable=False),
    sa.Column('kb_payment_id', sa.String(length=36), nullable=False),
    sa.Column('kb_transaction_id', sa.String(length=36), nullable=False),
    sa.Column('transaction_type', sa.Enum('AUTHORIZE', 'CAPTURE', 'CHARGEBACK', 'CREDIT', 'PURCHASE', 'REFUND', 'VOID', name='transactiontype', native_enum=False, length=16), nullable=False),
    sa.Column('amount', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('processed_amount', sa.Numeric(precision=20, scale=4), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('status', sa.Enum('PROCESSED', 'PENDING', 'ERROR', 'CANCELED', 'UNDEFINED', name='pluginstatus', native_enum=False, length=16), nullable=False),
    sa.Column('hs_payment_id', sa.String(length=64), nullable=True),
    sa.Column('hs_refund_id', sa.String(length=64), nullable=True),
    sa.Column('hs_status', sa.String(length=64), nullable=True),
    sa.Column('hs_expected_received', sa.Integer(), nullable=True),
    sa.Column('gateway_error_code', sa.String(length=128), nullable=True),
    sa.Column('gateway_error', sa.Text(), nullable=True),
    sa.Column('second_reference_id', sa.String(length=128), nullable=True),
    sa.Column('redirect_url', sa.Text(), nullable=True),
    sa.Column('linked', sa.Boolean(), nullable=False),
    sa.Column('kb_invoice_id', sa.String(length=36), nullable=True),
    sa.Column('kb_reported_status', sa.Enum('PROCESSED', 'PENDING', 'ERROR', 'CANCELED', 'UNDEFINED', name='pluginstatus', native_enum=False, length=16), nullable=True),
    sa.Column('in_flight_until', UTC_TIMESTAMP, nullable=True),
    sa.Column('attempted_at', UTC_TIMESTAMP, nullable=True),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.Column('updated_at', UTC_TIMESTAMP, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_transactions')),
    sa.UniqueConstraint('kb_tenant_id', 'kb_transaction_id', name=op.f('uq_payment_transactions_kb_tenant_id_kb_transaction_id'))
    )
    op.create_index('ix_payment_transactions_hs_payment', 'payment_transactions', ['kb_tenant_id', 'hs_payment_id'])
    op.create_index('ix_payment_transactions_hs_refund', 'payment_transactions', ['kb_tenant_id', 'hs_refund_id'])
    op.create_index('ix_payment_transactions_open', 'payment_transactions', ['status', 'updated_at'])
    op.create_index('ix_payment_transactions_payment', 'payment_transactions', ['kb_tenant_id', 'kb_payment_id'])

    op.create_table('payments',
    sa.Column('kb_tenant_id', sa.String(length=36), nullable=False),
    sa.Column('kb_payment_id', sa.String(length=36), nullable=False),
    sa.Column('kb_account_id', sa.String(length=36), nullable=False),
    sa.Column('kb_payment_method_id', sa.String(length=36), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.PrimaryKeyConstraint('kb_tenant_id', 'kb_payment_id', name=op.f('pk_payments'))
    )
    op.create_index(op.f('ix_payments_kb_account_id'), 'payments', ['kb_account_id'])

    op.create_table('payment_transaction_history',
    sa.Column('id', BIG_ID, autoincrement=True, nullable=False),
    sa.Column('transaction_id', BIG_ID, nullable=False),
    sa.Column('from_status', sa.Enum('PROCESSED', 'PENDING', 'ERROR', 'CANCELED', 'UNDEFINED', name='pluginstatus', native_enum=False, length=16), nullable=True),
    sa.Column('to_status', sa.Enum('PROCESSED', 'PENDING', 'ERROR', 'CANCELED', 'UNDEFINED', name='pluginstatus', native_enum=False, length=16), nullable=False),
    sa.Column('hs_status', sa.String(length=64), nullable=True),
    sa.Column('source', sa.Enum('plugin', 'refresh', 'webhook', 'sweeper', 'notification', name='transitionsource', native_enum=False, length=16), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('created_at', UTC_TIMESTAMP, nullable=False),
    sa.ForeignKeyConstraint(['transaction_id'], ['payment_transactions.id'], name=op.f('fk_payment_transaction_history_transaction_id_payment_transactions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_transaction_history'))
    )
    op.create_index(op.f('ix_payment_transaction_history_transaction_id'), 'payment_transaction_history', ['transaction_id'])



def downgrade() -> None:
    op.drop_index(op.f('ix_payment_transaction_history_transaction_id'), table_name='payment_transaction_history')

    op.drop_table('payment_transaction_history')
    op.drop_index(op.f('ix_payments_kb_account_id'), table_name='payments')

    op.drop_table('payments')
    op.drop_index('ix_payment_transactions_payment', table_name='payment_transactions')
    op.drop_index('ix_payment_transactions_open', table_name='payment_transactions')
    op.drop_index('ix_payment_transactions_hs_refund', table_name='payment_transactions')
    op.drop_index('ix_payment_transactions_hs_payment', table_name='payment_transactions')

    op.drop_table('payment_transactions')
    op.drop_index('ix_payment_methods_account', table_name='payment_methods')

    op.drop_table('payment_methods')
    op.drop_table('linked_payments')
    op.drop_table('hs_customers')
