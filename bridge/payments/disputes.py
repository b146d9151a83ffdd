"""Disputes become Kill Bill chargebacks: lost (or accepted) → a chargeback, won after it → a reversal.

Chargebacks never call the plugin; Kill Bill records them as given. The invoice-aware endpoints are
used for invoice payments, so the invoice balance reopens (and closes again on reversal). Each
chargeback carries the dispute as its transaction external key, which makes a retried job find the
chargeback it already recorded instead of adding a second one.
"""

from __future__ import annotations

import logging
from uuid import UUID

from sqlalchemy import select

import hyperswitch_client as hs
from bridge.db.engine import session_scope
from bridge.db.payments import Transaction
from bridge.db.webhooks import Dispute
from bridge.payments.status import PluginStatus, TransactionType
from bridge.tenancy.env import TenantEnv
from bridge.webhooks.inbox import EventResult

log = logging.getLogger(__name__)

MONEY_LOST = frozenset({"dispute_lost", "dispute_accepted"})
MONEY_KEPT = frozenset({"dispute_won"})


def chargeback_key(hs_dispute_id: str) -> str:
    return f"hs-dispute-{hs_dispute_id}"


def _charged(env: TenantEnv, hs_payment_id: str) -> Transaction | None:
    with session_scope(env.sessions) as session:
        return session.scalars(select(Transaction).where(
            Transaction.kb_tenant_id == env.tenant_id, Transaction.hs_payment_id == hs_payment_id,
            Transaction.transaction_type.in_((TransactionType.PURCHASE, TransactionType.CAPTURE)),
            Transaction.status == PluginStatus.PROCESSED).order_by(Transaction.id)).first()


def _record(env: TenantEnv, dispute: hs.disputes.Dispute, charged: Transaction) -> Dispute:
    with session_scope(env.sessions) as session:
        row = session.get(Dispute, (env.tenant_id, dispute.dispute_id), with_for_update=True)
        if row is None:
            row = Dispute(kb_tenant_id=env.tenant_id, hs_dispute_id=dispute.dispute_id,
                          hs_payment_id=dispute.payment_id, kb_payment_id=charged.kb_payment_id,
                          hs_status=str(dispute.dispute_status), amount_minor=dispute.amount_minor,
                          currency=dispute.currency, created_at=env.now(), updated_at=env.now())
            session.add(row)
        row.hs_status, row.updated_at = str(dispute.dispute_status), env.now()
        return row


def _mark(env: TenantEnv, hs_dispute_id: str, **flags: bool) -> None:
    with session_scope(env.sessions) as session:
        row = session.get(Dispute, (env.tenant_id, hs_dispute_id))
        for name, value in flags.items():
            setattr(row, name, value)


def _chargeback_statuses(env: TenantEnv, kb_payment_id: str, key: str) -> list[str]:
    """Statuses of Kill Bill's CHARGEBACK transactions with this key: a reversal leaves a failed one."""
    payment = env.killbill.payments.get(UUID(kb_payment_id))
    return [str(txn.status) for txn in payment.transactions or []
            if txn.transaction_external_key == key and str(txn.transaction_type) == "CHARGEBACK"]


def apply_dispute(env: TenantEnv, hs_dispute_id: str) -> EventResult:
    try:
        dispute = env.hyperswitch.disputes.retrieve(hs_dispute_id)
    except hs.NotFoundError:
        return EventResult.skipped(f"Hyperswitch has no dispute {hs_dispute_id}")
    charged = _charged(env, dispute.payment_id)
    if charged is None:
        return EventResult.skipped(f"dispute {hs_dispute_id} is on payment {dispute.payment_id}, "
                                   "which carries no Kill Bill payment")
    row = _record(env, dispute, charged)
    status, key = str(dispute.dispute_status), chargeback_key(hs_dispute_id)
    if status in MONEY_LOST and not row.chargeback_recorded:
        if not _chargeback_statuses(env, charged.kb_payment_id, key):
            _chargeback(env, charged, dispute, key)
        _mark(env, hs_dispute_id, chargeback_recorded=True)
        return EventResult.processed(f"{status}: chargeback recorded on Kill Bill payment {charged.kb_payment_id}")
    if status in MONEY_KEPT and row.chargeback_recorded and not row.chargeback_reversed:
        if "PAYMENT_FAILURE" not in _chargeback_statuses(env, charged.kb_payment_id, key):
            _reverse(env, charged, key)
        _mark(env, hs_dispute_id, chargeback_reversed=True)
        return EventResult.processed(f"{status}: chargeback reversed on Kill Bill payment {charged.kb_payment_id}")
    return EventResult.processed(f"dispute {hs_dispute_id} is {status}; Kill Bill already agrees")


def _chargeback(env: TenantEnv, charged: Transaction, dispute: hs.disputes.Dispute, key: str) -> None:
    amount = hs.from_minor_units(dispute.amount_minor, dispute.currency)
    payment_id = UUID(charged.kb_payment_id)
    if charged.kb_invoice_id:
        env.killbill.invoice_payments.chargeback(payment_id, amount, currency=dispute.currency,
                                                 transaction_external_key=key, reason="hyperswitch dispute lost")
    else:
        env.killbill.payments.chargeback(payment_id, amount, currency=dispute.currency,
                                         transaction_external_key=key, reason="hyperswitch dispute lost")
    log.info("chargeback of %s %s recorded on Kill Bill payment %s (dispute %s)", amount, dispute.currency,
             charged.kb_payment_id, dispute.dispute_id)


def _reverse(env: TenantEnv, charged: Transaction, key: str) -> None:
    payment_id = UUID(charged.kb_payment_id)
    if charged.kb_invoice_id:
        env.killbill.invoice_payments.chargeback_reversal(payment_id, key, reason="hyperswitch dispute won")
    else:
        env.killbill.payments.chargeback_reversal(payment_id, key, reason="hyperswitch dispute won")
