"""``/1.0/kb/payments``: read, capture, refund, void, complete, chargebacks."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, Response

from bridge.simulators.killbill import errors
from bridge.simulators.killbill.api.common import (
    account_of,
    body_object,
    body_properties,
    call_context,
    control_plugins,
    flag,
    no_content,
    paged,
    payment_path,
    payment_response,
    plugin_properties,
    require,
    state,
    tenant,
    transaction_response,
)
from bridge.simulators.killbill.api.views import payment_view
from bridge.simulators.killbill.model import Payment, Transaction, TxnStatus, TxnType
from bridge.simulators.killbill.payments import TxnRequest
from bridge.simulators.killbill.plugin import CallContext
from bridge.simulators.killbill.wire import json_response, to_decimal, to_uuid

bp = Blueprint("kb_payments", __name__, url_prefix="/1.0/kb/payments")


def _payment(payment_id: UUID) -> Payment:
    return state().payment(tenant().id, payment_id)


@bp.get("/<uuid:payment_id>")
def get_payment(payment_id: UUID) -> Response:
    return json_response(payment_view(_payment(payment_id), flag("withPluginInfo"), flag("withAttempts")))


@bp.get("/pagination")
def list_payments() -> Response:
    with state().lock:
        payments = sorted((p for p in state().payments.values() if p.tenant_id == tenant().id),
                          key=lambda p: p.number)
    return paged(payments, "/1.0/kb/payments/pagination",
                 lambda p: payment_view(p, flag("withPluginInfo"), flag("withAttempts")))


def follow_up(payment: Payment, txn_type: TxnType, data: dict[str, Any], context: CallContext,
              control: list[str]) -> TxnRequest:
    """A transaction on an existing payment, with the payment's own method; query properties first.
    A VOID carries no amount or currency."""
    account = account_of(payment)
    pm = state().payment_method(tenant().id, payment.payment_method_id, include_deleted=True)
    is_void = txn_type == TxnType.VOID
    return TxnRequest(tenant().id, account.id, pm, txn_type, None if is_void else to_decimal(data.get("amount")),
                      None if is_void else data.get("currency") or account.currency, context, payment=payment,
                      transaction_external_key=data.get("transactionExternalKey"),
                      properties=[*plugin_properties(), *body_properties(data)], control_plugins=control)


@bp.post("/<uuid:payment_id>")
def capture(payment_id: UUID) -> Response:
    data = body_object("PaymentTransactionJson")
    require(data.get("amount"), "PaymentTransactionJson amount needs to be set")
    payment = _payment(payment_id)
    context = call_context(payment.account_id)
    req = follow_up(payment, TxnType.CAPTURE, data, context, control_plugins())
    return payment_response(state().payments_engine.process(req))


@bp.post("/<uuid:payment_id>/refunds")
def refund(payment_id: UUID) -> Response:
    data = body_object("PaymentTransactionJson")
    require(data.get("amount"), "PaymentTransactionJson amount needs to be set")
    payment = _payment(payment_id)
    context = call_context(payment.account_id)
    req = follow_up(payment, TxnType.REFUND, data, context, control_plugins())
    return payment_response(state().payments_engine.process(req))


@bp.delete("/<uuid:payment_id>")
def void(payment_id: UUID) -> Response:
    """204 whatever the VOID transaction's status (voidPaymentInternal)."""
    data = body_object("PaymentTransactionJson", required=False)
    payment = _payment(payment_id)
    context = call_context(payment.account_id)
    req = follow_up(payment, TxnType.VOID, data, context, control_plugins())
    result = state().payments_engine.process(req)
    if result.error is not None:
        raise result.error
    return no_content()


@bp.put("/<uuid:payment_id>")
def complete(payment_id: UUID) -> Response:
    data = body_object("PaymentTransactionJson", required=False)
    payment = _payment(payment_id)
    return complete_pending(payment, data, call_context(payment.account_id))


def pending_or_success(payment: Payment, data: dict[str, Any]) -> Transaction:
    """JaxRsResourceBase#lookupPendingOrSuccessTransaction."""
    txn_id, key, kind = to_uuid(data.get("transactionId")), data.get("transactionExternalKey"), \
        data.get("transactionType")
    with state().lock:
        found = [t for t in payment.transactions if t.status in (TxnStatus.PENDING, TxnStatus.SUCCESS)
                 and (txn_id is None or t.id == txn_id) and (key is None or t.external_key == key)
                 and (kind is None or t.type == kind)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise errors.KillBillApiError(500, "Internal payment error : Illegal payment state: Found multiple PENDING "
                                           f"payment transactions for paymentId='{payment.id}'",
                                      class_name=errors.PAYMENT_API_EXCEPTION, code=7019)
    name, value = next(((n, v) for n, v in (("transactionId", txn_id), ("transactionExternalKey", key),
                                            ("transactionType", kind)) if v is not None), ("paymentId", payment.id))
    raise errors.invalid_parameter(name, value)


def complete_pending(payment: Payment, data: dict[str, Any], context: CallContext, *,
                     respond_created: bool = False) -> Response:
    """Re-run a PENDING transaction: the plugin is called again with the same kbTransactionId."""
    txn = pending_or_success(payment, data)
    if txn.status == TxnStatus.SUCCESS:
        return transaction_response(payment, txn) if respond_created else no_content()
    pm = state().payment_method(tenant().id, payment.payment_method_id, include_deleted=True)
    properties = [*plugin_properties(), *body_properties(data)]
    result = state().payments_engine.complete(payment, txn, pm, properties, context)
    if respond_created:
        return payment_response(result)
    if result.error is not None:
        raise result.error
    return no_content()


@bp.post("/<uuid:payment_id>/chargebacks")
def chargeback(payment_id: UUID) -> Response:
    data = body_object("PaymentTransactionJson")
    require(data.get("amount"), "PaymentTransactionJson amount needs to be set")
    payment = _payment(payment_id)
    context = call_context(payment.account_id)
    req = follow_up(payment, TxnType.CHARGEBACK, data, context, control_plugins())
    return payment_response(state().payments_engine.process(req))


@bp.post("/<uuid:payment_id>/chargebackReversals")
def chargeback_reversal(payment_id: UUID) -> Response:
    """The reversal is a failed CHARGEBACK transaction, so Kill Bill's payment response here is a 402."""
    data = body_object("PaymentTransactionJson")
    key = require(data.get("transactionExternalKey"), "PaymentTransactionJson transactionExternalKey needs to be set")
    payment = _payment(payment_id)
    call_context(payment.account_id)
    txn = state().payments_engine.chargeback_reversal(payment, key)
    state().payments_engine.finish_attempt(payment, txn, control_plugins())
    return transaction_response(payment, txn, payment_path(payment))

