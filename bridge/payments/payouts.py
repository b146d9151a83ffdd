"""creditPayment as a Hyperswitch payout, exactly once per ``kbTransactionId``.

Used by :func:`bridge.payments.service.credit` when the tenant enables payouts
(``settings.payouts.enabled``). The rules are the charges' (see ``service``): the CREDIT row is written
first with an in-flight lease, then one payout is created with ``payout_id`` derived from the
``kbTransactionId`` (``ids.IdKind.PAYOUT``), confirmed and auto-fulfilled in the same call, to the
account's Hyperswitch customer and the saved payment method behind ``kbPaymentMethodId``. The payout id is
kept in the row's ``hs_payment_id`` (a credit has no payment). A create whose answer was lost is sent
again with the same id only when Hyperswitch shows no such payout; ``HE_01`` means: read it back.
:func:`refresh_payout` re-reads it for getPaymentInfo, webhooks, Kill Bill's notifications and the sweeper.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from bridge.db.engine import session_scope
from bridge.db.payments import (
    PaymentMethod,
    PaymentMethodState,
    Transaction,
    TransitionSource,
)
from bridge.payments import gateway, ids, service
from bridge.payments.service import (
    claim_retry,
    id_taken,
    insert_transaction,
    made_for,
    never_received,
    payment_metadata,
    resume,
    stored,
)
from bridge.payments.status import Outcome, PluginStatus, TransactionType, is_terminal
from bridge.payments.transitions import transition
from bridge.plugin_api.errors import invalid, unknown
from bridge.tenancy.env import TenantEnv
from hyperswitch_client.enums import PayoutStatus, PayoutType
from hyperswitch_client.payouts import Payout, PayoutCreateParams

log = logging.getLogger(__name__)

# PayoutStatus → Kill Bill status (DESIGN rule 3). Anything else, a status added later included, is
# UNDEFINED: the janitor asks again rather than the bridge guessing.
_PROCESSED = frozenset({PayoutStatus.SUCCESS})
# Hyperswitch or the connector still working on the confirmed payout (the requires_* steps of its own
# confirm flow included: they move on without the bridge).
_PENDING = frozenset({PayoutStatus.PENDING, PayoutStatus.INITIATED, PayoutStatus.REQUIRES_FULFILLMENT,
                      PayoutStatus.REQUIRES_CREATION, PayoutStatus.REQUIRES_VENDOR_ACCOUNT_CREATION, "processing"})
_ERROR = frozenset({PayoutStatus.FAILED, PayoutStatus.CANCELLED, PayoutStatus.EXPIRED, PayoutStatus.REVERSED,
                    PayoutStatus.INELIGIBLE})
# Saved payment methods by kind → the payout_type the router needs to confirm (derived when absent).
_PAYOUT_TYPES = {None: PayoutType.CARD, "card": PayoutType.CARD, "wallet": PayoutType.WALLET,
                 "bank_transfer": PayoutType.BANK, "bank_redirect": PayoutType.BANK_REDIRECT}


def payout_status(hs_status: str) -> PluginStatus:
    if hs_status in _PROCESSED:
        return PluginStatus.PROCESSED
    if hs_status in _PENDING:
        return PluginStatus.PENDING
    if hs_status in _ERROR:
        return PluginStatus.ERROR
    return PluginStatus.UNDEFINED


def payout_outcome(payout: Payout) -> Outcome:
    status = payout_status(str(payout.status))
    code = payout.error_code or payout.unified_code
    if status is PluginStatus.ERROR and not code:
        code = str(payout.status)
    return Outcome(status, str(payout.status), code, payout.error_message or payout.unified_message)


# -- the plugin call ------------------------------------------------------------------------------------
def credit_via_payout(env: TenantEnv, call: Any, minor: int, existing: int | None) -> Transaction:
    """A credit for a tenant with payouts on: the stored result for a known ``kbTransactionId``,
    else one new payout."""
    if existing is not None:
        return _complete(env, existing, call, minor)
    target = _target(env, call)
    if isinstance(target, Outcome):  # known refusal before anything is sent
        txn_id = insert_transaction(env, call, TransactionType.CREDIT, currency=call.currency, amount=call.amount,
                         hs_payment_id=None, start=target)
        return stored(env, txn_id, call)
    txn_id = insert_transaction(env, call, TransactionType.CREDIT, currency=call.currency, amount=call.amount,
                     hs_payment_id=ids.payout_id(call.kbTransactionId))
    if txn_id is None:
        return stored(env, None, call)
    return _send_create(env, txn_id, call, minor, target)


def _target(env: TenantEnv, call: Any) -> PaymentMethod | Outcome:
    """The saved payment method the money goes to: the row of ``kbPaymentMethodId``."""
    with session_scope(env.sessions) as session:
        row = session.get(PaymentMethod, (env.tenant_id, str(call.kbPaymentMethodId))) \
            if call.kbPaymentMethodId else None
        if row is not None and row.kb_account_id != str(call.kbAccountId):
            raise invalid(f"payment method {call.kbPaymentMethodId} belongs to another account")
        if row is None or row.state is PaymentMethodState.DELETED:
            raise unknown("payment_method", f"payment method {call.kbPaymentMethodId} is not known to the bridge")
        if not row.hs_payment_method_id:
            return Outcome(PluginStatus.ERROR, None, "NO_PAYOUT_METHOD",
                           "the payment method has no saved Hyperswitch payment method to pay out to; nothing "
                           "was sent")
        return row


def _create_params(env: TenantEnv, call: Any, minor: int, target: PaymentMethod) -> PayoutCreateParams:
    return PayoutCreateParams(
        amount=minor, currency=call.currency, payout_id=ids.payout_id(call.kbTransactionId), confirm=True,
        auto_fulfill=True, customer_id=target.hs_customer_id, payout_method_id=target.hs_payment_method_id,
        payout_type=_PAYOUT_TYPES.get(target.payment_method), metadata=payment_metadata(env, call),
        description=((call.context and call.context.comments) or "credit from Kill Bill")[:255],
        merchant_order_reference_id=str(call.kbPaymentId))


def _send_create(env: TenantEnv, txn_id: int, call: Any, minor: int, target: PaymentMethod) -> Transaction:
    params = _create_params(env, call, minor, target)
    answer = gateway.call(lambda: env.hyperswitch.payouts.create(params))
    if gateway.is_duplicate(answer):  # our own earlier request landed: read it back
        answer = gateway.call(lambda: env.hyperswitch.payouts.retrieve(params.payout_id))
    if answer.value is None:
        return _finish(env, txn_id, answer.failure, TransitionSource.PLUGIN)
    if not made_for(env, call, answer.value.metadata):
        return _finish(env, txn_id, id_taken("payout", params.payout_id), TransitionSource.PLUGIN)
    return _finish(env, txn_id, payout_outcome(answer.value), TransitionSource.PLUGIN, payout=answer.value)


def _complete(env: TenantEnv, txn_id: int, call: Any, minor: int) -> Transaction:
    """Kill Bill calls again with the same kbTransactionId to complete or refresh the credit."""
    txn = resume(env, txn_id)
    if txn.transaction_type is not TransactionType.CREDIT:
        raise invalid(f"transaction {call.kbTransactionId} is a {txn.transaction_type.value}, not a credit")
    lost = txn.status is PluginStatus.UNDEFINED and txn.hs_payment_id
    if lost and _hyperswitch_lacks(env, txn.hs_payment_id) and claim_retry(env, txn_id):
        target = _target(env, call)
        if isinstance(target, Outcome):
            return _finish(env, txn_id, target, TransitionSource.PLUGIN)
        return _send_create(env, txn_id, call, minor, target)
    return txn


def _hyperswitch_lacks(env: TenantEnv, hs_payout_id: str) -> bool:
    return gateway.is_not_found(gateway.call(lambda: env.hyperswitch.payouts.retrieve(hs_payout_id)))


def _finish(env: TenantEnv, txn_id: int, outcome: Outcome, source: TransitionSource, *,
            payout: Payout | None = None) -> Transaction:
    with session_scope(env.sessions) as session:
        txn = session.get(Transaction, txn_id, with_for_update=True)
        transition(session, txn, outcome, source, now=env.now())
        txn.in_flight_until = None
        if payout is not None:
            txn.second_reference_id = payout.connector_transaction_id or txn.second_reference_id
        return txn


# -- refresh and reconciliation -----------------------------------------------------------------------
def refresh_payout(env: TenantEnv, txn: Transaction, source: TransitionSource, *, past_grace: bool) -> Transaction:
    """Move a non-final CREDIT forward from the payout Hyperswitch has now (``service.refresh``)."""
    if txn.hs_payment_id is None:
        return txn
    answer = gateway.call(lambda: env.hyperswitch.payouts.retrieve(txn.hs_payment_id, force_sync=True))
    if answer.value is not None:
        return _finish(env, txn.id, payout_outcome(answer.value), source, payout=answer.value)
    if gateway.is_not_found(answer) and past_grace:
        return _finish(env, txn.id, never_received(txn, f"payout {txn.hs_payment_id}"), source)
    return txn


def reconcile_payout(env: TenantEnv, hs_payout_id: str, source: TransitionSource) -> list[Transaction]:
    """The credits carried by this Hyperswitch payout (one, or none if it was not made for Kill Bill),
    refreshed."""
    with session_scope(env.sessions) as session:
        rows = list(session.scalars(select(Transaction).where(
            Transaction.kb_tenant_id == env.tenant_id, Transaction.hs_payment_id == hs_payout_id,
            Transaction.transaction_type == TransactionType.CREDIT).order_by(Transaction.id)))
    return [txn if is_terminal(txn.status) else service.refresh(env, txn.id, source) for txn in rows]

