"""Bring the bridge's transactions up to date with a Hyperswitch object someone told us about.

Webhooks, Kill Bill's relayed notifications and the sweeper are only hints: each re-reads the object
from Hyperswitch (through :func:`bridge.payments.service.refresh`) and moves transactions forward.
"""

from __future__ import annotations

from sqlalchemy import select

from bridge.db.engine import session_scope
from bridge.db.payments import Transaction, TransitionSource
from bridge.payments import service
from bridge.payments.status import is_terminal
from bridge.tenancy.env import TenantEnv


def _transactions(env: TenantEnv, *, hs_payment_id: str | None = None,
                  hs_refund_id: str | None = None) -> list[Transaction]:
    query = select(Transaction).where(Transaction.kb_tenant_id == env.tenant_id)
    if hs_refund_id is not None:
        query = query.where(Transaction.hs_refund_id == hs_refund_id)
    else:
        query = query.where(Transaction.hs_payment_id == hs_payment_id, Transaction.hs_refund_id.is_(None))
    with session_scope(env.sessions) as session:
        return list(session.scalars(query.order_by(Transaction.id)))


def reconcile_payment(env: TenantEnv, hs_payment_id: str, source: TransitionSource) -> list[Transaction]:
    """Every transaction carried by this Hyperswitch payment (charge, captures, void), refreshed."""
    return [txn if is_terminal(txn.status) else service.refresh(env, txn.id, source)
            for txn in _transactions(env, hs_payment_id=hs_payment_id)]


def reconcile_refund(env: TenantEnv, hs_refund_id: str, source: TransitionSource) -> list[Transaction]:
    return [txn if is_terminal(txn.status) else service.refresh(env, txn.id, source)
            for txn in _transactions(env, hs_refund_id=hs_refund_id)]
