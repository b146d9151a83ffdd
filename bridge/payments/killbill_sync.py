"""Telling Kill Bill what the bridge learnt after its own answer (DESIGN rule 6).

Kill Bill was last told ``kb_reported_status``. When a webhook, the sweeper or a relayed notification
moves a transaction on, a job brings Kill Bill level:
- Kill Bill has it PENDING and it is now final → ``notifyStateChanged`` (with the invoice payment
  control plugin for invoice payments, so the invoice follows);
- Kill Bill has it UNKNOWN (or never got an answer) → ``GET payment?withPluginInfo=true``, which makes
  Kill Bill call getPaymentInfo and fix the transaction, the attempt and the invoice itself.
The job is idempotent and retried with backoff while Kill Bill is unreachable.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from sqlalchemy import update

import killbill_client as kb
from bridge.db.engine import session_scope
from bridge.db.payments import Transaction
from bridge.jobs import JobContext, PermanentFailure, enqueue
from bridge.payments.status import PluginStatus, is_terminal
from bridge.tenancy.env import TenantEnv

log = logging.getLogger(__name__)

SYNC_JOB = "killbill.sync_transaction"


def needs_telling(txn: Transaction) -> bool:
    reported = txn.kb_reported_status or PluginStatus.UNDEFINED
    if is_terminal(reported) or reported is txn.status:
        return False
    # Kill Bill's PENDING stays right until the transaction is final.
    return not (reported is PluginStatus.PENDING and txn.status is PluginStatus.PENDING)


def schedule_sync(env: TenantEnv, transactions: Iterable[Transaction]) -> None:
    due = [txn for txn in transactions if needs_telling(txn)]
    if not due:
        return
    with session_scope(env.sessions) as session:
        for txn in due:
            enqueue(session, SYNC_JOB, {"transaction_id": txn.id}, kb_tenant_id=env.tenant_id,
                    dedupe_key=f"kb-sync:{txn.id}:{txn.status.value}", max_attempts=20)


def mark_reported(env: TenantEnv, transactions: Iterable[Transaction]) -> None:
    """Kill Bill has just been given these statuses (a plugin answer or getPaymentInfo)."""
    rows = [(txn.id, txn.status) for txn in transactions if txn.kb_reported_status is not txn.status]
    if not rows:
        return
    with session_scope(env.sessions) as session:
        for txn_id, status in rows:
            # Bookkeeping, not a change of the transaction: its updated_at (effectiveDate) stays.
            session.execute(update(Transaction).where(Transaction.id == txn_id).values(
                kb_reported_status=status, updated_at=Transaction.updated_at))


def sync_transaction(ctx: JobContext, payload: dict[str, Any]) -> None:
    env: TenantEnv = ctx.services.tenant_env(ctx.kb_tenant_id)
    with session_scope(env.sessions) as session:
        txn = session.get(Transaction, payload["transaction_id"])
    if txn is None or txn.kb_tenant_id != env.tenant_id:
        raise PermanentFailure(f"no transaction {payload['transaction_id']} for tenant {ctx.kb_tenant_id}")
    if not needs_telling(txn):
        return
    reported = txn.kb_reported_status or PluginStatus.UNDEFINED
    if reported is PluginStatus.PENDING and _notify(env, txn):
        mark_reported(env, [txn])
        return
    # Kill Bill asks getPaymentInfo, whose answer records what Kill Bill now knows.
    env.killbill.payments.get(UUID(txn.kb_payment_id), with_plugin_info=True)


def _notify(env: TenantEnv, txn: Transaction) -> bool:
    """notifyStateChanged; False when Kill Bill's transaction is no longer PENDING (then refresh instead)."""
    status = "SUCCESS" if txn.status is PluginStatus.PROCESSED else "PAYMENT_FAILURE"
    try:
        env.killbill.payment_transactions.notify_state_changed(
            UUID(txn.kb_transaction_id), UUID(txn.kb_payment_id), status, invoice_payment=bool(txn.kb_invoice_id),
            reason="hyperswitch-bridge", comment=f"Hyperswitch: {txn.hs_status or txn.status.value}")
    except (kb.NotFoundError, kb.BadRequestError) as exc:
        log.info("notifyStateChanged refused for %s (%s): refreshing instead", txn.kb_transaction_id, exc)
        return False
    log.info("told Kill Bill: transaction %s is %s", txn.kb_transaction_id, status)
    return True
