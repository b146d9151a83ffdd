"""``/1.0/kb/invoices``: read, external charges, commit, void, item adjustments, and paying one invoice."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, request

from bridge.simulators.killbill import errors
from bridge.simulators.killbill.api.common import (
    body,
    body_object,
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
from bridge.simulators.killbill.api.views import payment_view
from bridge.simulators.killbill.serialize import invoice_json, item_json
from bridge.simulators.killbill.wire import json_response, to_decimal, to_uuid

bp = Blueprint("kb_invoices", __name__, url_prefix="/1.0/kb/invoices")


@bp.get("/<uuid:invoice_id>")
def get_invoice(invoice_id: UUID) -> Response:
    invoice = state().invoice(tenant().id, invoice_id)
    with state().lock:
        return json_response(invoice_json(invoice))


def _charge(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise errors.json_error("InvoiceItemJson must be a JSON object")
    try:
        amount = to_decimal(raw.get("amount"))
        start = date.fromisoformat(raw["startDate"]) if raw.get("startDate") else None
        end = date.fromisoformat(raw["endDate"]) if raw.get("endDate") else None
    except ValueError as exc:
        raise errors.json_error(str(exc)) from exc
    return {"amount": amount, "currency": raw.get("currency"), "description": raw.get("description"),
            "startDate": start, "endDate": end, "itemDetails": raw.get("itemDetails")}


@bp.post("/charges/<uuid:account_id>")
def create_external_charges(account_id: UUID) -> Response:
    """Kill Bill 0.24 answers 200 with the created items (its swagger declares 201)."""
    data = body("List<InvoiceItemJson>")
    call_context(account_id)
    account = state().account(tenant().id, account_id)
    requested = request.args.get("requestedDate")
    items = state().invoices_engine.create_external_charges(
        account, [_charge(raw) for raw in (data if isinstance(data, list) else [])], flag("autoCommit"),
        date.fromisoformat(requested) if requested else None)
    with state().lock:
        return json_response([item_json(i) for i in items], status=200)


@bp.put("/<uuid:invoice_id>/commitInvoice")
def commit_invoice(invoice_id: UUID) -> Response:
    call_context()
    state().invoices_engine.commit(state().invoice(tenant().id, invoice_id))
    return no_content()


@bp.put("/<uuid:invoice_id>/voidInvoice")
def void_invoice(invoice_id: UUID) -> Response:
    call_context()
    state().invoices_engine.void(state().invoice(tenant().id, invoice_id))
    return no_content()


def _requested_date() -> date:
    """JaxRsResourceBase#toLocalDateDefaultToday: a date or an instant; today when absent."""
    raw = request.args.get("requestedDate")
    if not raw:
        return state().clock.now().date()
    try:
        return date.fromisoformat(raw) if len(raw) == 10 else datetime.fromisoformat(raw).date()
    except ValueError as exc:
        raise errors.bad_request(f"Invalid requestedDate: {raw}") from exc


@bp.post("/<uuid:invoice_id>")
def adjust_invoice_item(invoice_id: UUID) -> Response:
    """201 with the invoice's Location; 404 without a body when nothing is left to adjust."""
    data = body_object("InvoiceItemJson")
    try:  # what Jackson cannot map is a 400
        account_id, item_id = to_uuid(data.get("accountId")), to_uuid(data.get("invoiceItemId"))
        amount = to_decimal(data.get("amount"))
    except ValueError as exc:
        raise errors.json_error(f"Unable to parse InvoiceItemJson: {exc}") from exc
    require(account_id, "InvoiceItemJson accountId needs to be set")
    require(item_id, "InvoiceItemJson invoiceItemId needs to be set")
    call_context(account_id)
    sim = state()
    account = sim.account(tenant().id, account_id)
    invoice = sim.invoice(tenant().id, invoice_id)
    if invoice.account_id != account.id:
        raise errors.no_invoice(invoice_id)
    adjustment = sim.invoices_engine.adjust_item(invoice, item_id, amount, data.get("currency"), _requested_date(),
                                                 data.get("description"), data.get("itemDetails"))
    if adjustment is None:
        return Response(status=404)
    return created(f"/1.0/kb/invoices/{invoice.id}")


@bp.get("/<uuid:invoice_id>/payments")
def list_invoice_payments(invoice_id: UUID) -> Response:
    invoice = state().invoice(tenant().id, invoice_id)
    with state().lock:
        ids = {r.payment_id for r in invoice.payments if r.payment_id is not None}
        payments = sorted((state().payments[i] for i in ids), key=lambda p: p.transactions[0].effective_date)
    return json_response([payment_view(p, flag("withPluginInfo"), flag("withAttempts"), as_invoice_payment=True)
                          for p in payments])


@bp.post("/<uuid:invoice_id>/payments")
def pay_invoice(invoice_id: UUID) -> Response:
    """201 for any payment that ran (a declined one too: read its status), 204 when aborted."""
    data = body_object("InvoicePaymentJson")
    account_id = require(to_uuid(data.get("accountId")), "InvoicePaymentJson accountId needs to be set")
    external = flag("externalPayment")
    if external and data.get("paymentMethodId"):
        raise errors.bad_request("InvoicePaymentJson should not contain a paymentMethodId when this is an "
                                 "external payment")
    context = call_context()
    sim = state()
    account = sim.account(tenant().id, account_id)
    invoice = sim.invoice(tenant().id, invoice_id)
    pm_id = (sim.invoices_engine.external_payment_method(account).id if external
             else to_uuid(data.get("paymentMethodId")) or account.payment_method_id)
    if pm_id is not None and sim.payment_method(tenant().id, pm_id).account_id != account.id:
        raise errors.no_payment_method(pm_id)
    result = sim.invoices_engine.pay(account, invoice, pm_id, to_decimal(data.get("purchasedAmount")),
                                     plugin_properties(), data.get("paymentExternalKey"), context, is_api=True,
                                     control_plugins=control_plugins())
    if result is None:
        return no_content()
    if result.error is not None:
        raise result.error
    return created(f"/1.0/kb/invoicePayments/{result.payment.id}")
