"""The only writer of a transaction's status: forward only, with a history row for every change.

Order: UNDEFINED (nothing known) < PENDING (known, not final) < PROCESSED | ERROR | CANCELED (final).
A refresh may refine a non-final status (e.g. processing → requires_customer_action, both PENDING)
but never moves back, and a final status never changes: a later contradiction is logged, not applied.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from bridge.db.payments import Transaction, TransactionHistory, TransitionSource
from bridge.payments.status import Outcome, PluginStatus, is_terminal

log = logging.getLogger(__name__)


def _rank(status: PluginStatus) -> int:
    if is_terminal(status):
        return 2
    return 1 if status is PluginStatus.PENDING else 0


def transition(session: Session, txn: Transaction, outcome: Outcome, source: TransitionSource, *,
               now: datetime, processed_amount: Decimal | None = None, detail: str | None = None) -> bool:
    """Apply ``outcome`` if it moves ``txn`` forward; True when something changed."""
    current, new = txn.status, outcome.status
    if is_terminal(current):
        if new is not current:
            log.error("transaction %s is %s; refusing %s from %s (Hyperswitch says %s)", txn.kb_transaction_id,
                      current.value, new.value, source.value, outcome.hs_status)
        return False
    if _rank(new) < _rank(current):
        return False
    if new is current and outcome.hs_status in (None, txn.hs_status):
        return False
    session.add(TransactionHistory(transaction_id=txn.id, from_status=current, to_status=new,
                                   hs_status=outcome.hs_status, source=source, detail=detail, created_at=now))
    txn.status = new
    txn.hs_status = outcome.hs_status or txn.hs_status
    txn.gateway_error_code = outcome.gateway_error_code
    txn.gateway_error = outcome.gateway_error
    if processed_amount is not None:
        txn.processed_amount = processed_amount
    txn.updated_at = now
    log.info("transaction %s %s: %s → %s (%s, hyperswitch %s)", txn.kb_transaction_id,
             txn.transaction_type.value, current.value, new.value, source.value, outcome.hs_status)
    return True
