"""``/1.0/kb/invoicePayments``: invoice-aware reads, completion, refunds and chargebacks.

Every write here goes through the invoice payment control plugin, so the invoice follows.
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from flask import Blueprint, Response

from bridge.simulators.killbill import errors
from bridge.simulators.killbill.api.common import (
    body_object,
    body_properties,
    call_context,
    control_plugins,
    created,
    flag,
    no_content,
    plugin_properties,
    require,
    state,
    tenant,
)
from bridge.simulators.killbill.api.payments import follow_up, pending_or_success
from bridge.simulators.killbill.api.views import payment_view
from bridge.simulators.killbill.model import (
    INVOICE_PAYMENT_CONTROL_PLUGIN,
    Payment,
    TxnStatus,
    TxnType,
)
from bridge.simulators.killbill.wire import json_response, to_decimal, to_uuid

bp = Blueprint("kb_invoice_payments", __name__, url_prefix="/1.0/kb/invoicePayments")


def _payment(payment_id: UUID) -> Payment:
    return state().payment(tenant().id, payment_id)


def _location(payment: Payment) -> Response:
    return created(f"/1.0/kb/invoicePayments/{payment.id}")


@bp.get("/<uuid:payment_id>")
def get_invoice_payment(payment_id: UUID) -> Response:
    return json_response(payment_view(_payment(payment_id), flag("withPluginInfo"), flag("withAttempts"),
                                      as_invoice_payment=True))


@bp.put("/<uuid:payment_id>")
def complete(payment_id: UUID) -> Response:
    """404 without an unpaid invoice attempt; 204 once the purchase was re-run."""
    data = body_object("PaymentTransactionJson", required=False)
    payment = _payment(payment_id)
    with state().lock:
        invoice = state().invoices.get(payment.invoice_id) if payment.invoice_id else None
        open_attempt = invoice is not None and any(
            r.kind == "ATTEMPT" and r.payment_id == payment.id and r.status != "SUCCESS" for r in invoice.payments)
    if not open_attempt:
        return Response(status=404)
    context = call_context(payment.account_id)
    txn = pending_or_success(payment, data)
    if txn.status == TxnStatus.SUCCESS:
        return no_content()
    pm = state().payment_method(tenant().id, payment.payment_method_id, include_deleted=True)
    result = state().payments_engine.complete(payment, txn, pm, [*plugin_properties(), *body_properties(data)],
                                              context)
    if result.error is not None:
        raise result.error
    return no_content()


@bp.post("/<uuid:payment_id>/refunds")
def refund(payment_id: UUID) -> Response:
    data = body_object("InvoicePaymentTransactionJson")
    payment = _payment(payment_id)
    context = call_context(payment.account_id)
    adjustments = {to_uuid(item.get("invoiceItemId")): to_decimal(item.get("amount")) or Decimal(0)
                   for item in data.get("adjustments") or [] if item.get("invoiceItemId")}
    amount = to_decimal(data.get("amount"))
    if amount is None:
        raise errors.invalid_parameter("amount", None)
    result = state().invoices_engine.refund(payment, amount, bool(data.get("isAdjusted")), adjustments,  # type: ignore[arg-type]
                                            data.get("transactionExternalKey"), plugin_properties(), context)
    if result.error is not None:
        raise result.error
    return _location(payment)


@bp.post("/<uuid:payment_id>/chargebacks")
def chargeback(payment_id: UUID) -> Response:
    data = body_object("InvoicePaymentTransactionJson")
    require(data.get("amount"), "InvoicePaymentTransactionJson amount needs to be set")
    payment = _payment(payment_id)
    context = call_context(payment.account_id)
    req = follow_up(payment, TxnType.CHARGEBACK, data, context, [INVOICE_PAYMENT_CONTROL_PLUGIN, *control_plugins()])
    result = state().payments_engine.process(req)
    if result.error is not None:
        raise result.error
    return _location(payment)


@bp.post("/<uuid:payment_id>/chargebackReversals")
def chargeback_reversal(payment_id: UUID) -> Response:
    data = body_object("InvoicePaymentTransactionJson")
    key = require(data.get("transactionExternalKey"),
                  "InvoicePaymentTransactionJson transactionExternalKey needs to be set")
    payment = _payment(payment_id)
    call_context(payment.account_id)
    txn = state().payments_engine.chargeback_reversal(payment, key)
    state().payments_engine.finish_attempt(payment, txn, [INVOICE_PAYMENT_CONTROL_PLUGIN])
    return _location(payment)
