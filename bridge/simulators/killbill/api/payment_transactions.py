"""``/1.0/kb/paymentTransactions/{id}``: the payment of a transaction, and notifyStateChanged (§B4)."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, Response

from bridge.simulators.killbill import errors
from bridge.simulators.killbill.api.common import (
    body_object,
    call_context,
    control_plugins,
    created,
    flag,
    require,
    state,
    tenant,
)
from bridge.simulators.killbill.api.views import payment_view
from bridge.simulators.killbill.wire import json_response, to_uuid

bp = Blueprint("kb_payment_transactions", __name__, url_prefix="/1.0/kb/paymentTransactions")


@bp.get("/<uuid:transaction_id>")
def get_payment_by_transaction(transaction_id: UUID) -> Response:
    payment, _ = state().payment_by_transaction(tenant().id, transaction_id)
    return json_response(payment_view(payment, flag("withPluginInfo"), flag("withAttempts")))


@bp.post("/<uuid:transaction_id>")
def notify_state_changed(transaction_id: UUID) -> Response:
    """Only a PENDING transaction; ``"SUCCESS"`` succeeds, any other status fails; the plugin is not called."""
    data = body_object("PaymentTransactionJson")
    payment_id = require(to_uuid(data.get("paymentId")), "PaymentTransactionJson paymentId needs to be set")
    status = require(data.get("status"), "PaymentTransactionJson status needs to be set")
    call_context()
    sim = state()
    injected = sim.take_notify_failure()
    if injected is not None:
        raise errors.simulated_failure(injected, "notifyStateChanged")
    payment = sim.payment(tenant().id, payment_id)
    txn = payment.transaction(transaction_id)
    if txn is None:
        # Kill Bill dereferences a missing transaction (NullPointerException → 400).
        raise errors.KillBillApiError(400, None, class_name="java.lang.NullPointerException")
    sim.payments_engine.notify_state_changed(payment, txn, status == "SUCCESS", control_plugins())
    return created(f"/1.0/kb/payments/{payment.id}")
