"""``/1.0/kb/accounts``: accounts and their payment methods, invoices, payments, tags and custom fields."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask import Blueprint, Response, request

from bridge.simulators.killbill import errors
from bridge.simulators.killbill.api.common import (
    body_object,
    body_properties,
    call_context,
    control_plugins,
    created,
    flag,
    no_content,
    paged,
    payment_response,
    plugin_properties,
    require,
    state,
    tenant,
    uuid_arg,
)
from bridge.simulators.killbill.api.views import (
    account_view,
    payment_method_view,
    payment_view,
)
from bridge.simulators.killbill.model import Account, TxnType, new_id
from bridge.simulators.killbill.payments import TxnRequest
from bridge.simulators.killbill.serialize import (
    ACCOUNT_FIELDS,
    ACCOUNT_TAIL_FIELDS,
    invoice_json,
)
from bridge.simulators.killbill.wire import (
    json_response,
    parse_instant,
    to_decimal,
    to_uuid,
)

bp = Blueprint("kb_accounts", __name__, url_prefix="/1.0/kb/accounts")

_STORED_FIELDS = frozenset(ACCOUNT_FIELDS + ACCOUNT_TAIL_FIELDS)


def _account(account_id: UUID) -> Account:
    return state().account(tenant().id, account_id)


@bp.post("")
def create_account() -> Response:
    data = body_object("AccountJson")
    context = call_context()
    sim = state()
    with sim.lock:
        key = data.get("externalKey")
        if key is not None and any(a.tenant_id == context.tenant_id and a.fields.get("externalKey") == key
                                   for a in sim.accounts.values()):
            raise errors.account_exists(key)
        account_id = new_id()
        fields = {k: v for k, v in data.items() if k in _STORED_FIELDS}
        fields["externalKey"] = key or str(account_id)  # Kill Bill defaults the key to the id
        account = Account(account_id, context.tenant_id, fields, sim.clock.now())
        sim.accounts[account.id] = account
    sim.post_event(account.tenant_id, "ACCOUNT_CREATION", "ACCOUNT", account.id, account.id)
    return created(f"/1.0/kb/accounts/{account.id}")


@bp.get("")
def get_account_by_key() -> Response:
    key = request.args.get("externalKey")
    with state().lock:
        found = next((a for a in state().accounts.values()
                      if a.tenant_id == tenant().id and a.fields.get("externalKey") == key), None)
    if found is None:
        raise errors.no_account_for_key(str(key))
    return json_response(account_view(found))


@bp.get("/<uuid:account_id>")
def get_account(account_id: UUID) -> Response:
    return json_response(account_view(_account(account_id)))


# Fields Kill Bill keeps once set (AccountModelDao#validateAccountUpdateInput), with their defaults.
_FIXED_FIELDS = (("externalKey", "external key", None), ("currency", "currency", None),
                 ("timeZone", "timeZone", "UTC"))


@bp.put("/<uuid:account_id>")
def update_account(account_id: UUID) -> Response:
    """Unset fields keep their values; with ``treatNullAsReset=true`` they are cleared. The external key,
    currency, time zone, a set bill cycle day and the reference time cannot change. Posts ACCOUNT_CHANGE."""
    data = body_object("AccountJson")
    reset = flag("treatNullAsReset")
    context = call_context(account_id)
    account = _account(account_id)
    with state().lock:
        _check_fixed_fields(account, data, reset)
        for name in _STORED_FIELDS - {f for f, _, _ in _FIXED_FIELDS} - {"billCycleDayLocal"}:
            if reset or data.get(name) is not None:
                account.fields[name] = data.get(name)
        if not account.fields.get("billCycleDayLocal") and data.get("billCycleDayLocal"):
            account.fields["billCycleDayLocal"] = data["billCycleDayLocal"]
    state().post_event(context.tenant_id, "ACCOUNT_CHANGE", "ACCOUNT", account.id, account.id)
    return no_content()


def _check_fixed_fields(account: Account, data: dict[str, Any], reset: bool) -> None:
    """IllegalArgumentException (400) for a change Kill Bill does not support; with reset, null is a change."""
    for name, label, default in _FIXED_FIELDS:
        current, new = account.fields.get(name) or default, data.get(name)
        if (reset or new is not None) and current is not None and current != new:
            raise errors.bad_request(f"Killbill doesn't support updating the account {label}: "
                                     f"new={new}, current={current}")
    current_bcd, new_bcd = account.fields.get("billCycleDayLocal") or 0, data.get("billCycleDayLocal") or 0
    if (reset or new_bcd) and current_bcd and current_bcd != new_bcd:
        raise errors.bad_request(f"Killbill doesn't support updating the account BCD: new={new_bcd}, "
                                 f"current={current_bcd}")
    try:
        reference = parse_instant(data.get("referenceTime"))
    except ValueError as exc:
        raise errors.json_error(f"Unable to parse AccountJson: {exc}") from exc
    if reference is not None and reference.date() != account.reference_time.date():
        raise errors.bad_request(f"Killbill doesn't support updating the account referenceTime: "
                                 f"new={data['referenceTime']}, current={account.reference_time}")


@bp.get("/pagination")
def list_accounts() -> Response:
    with state().lock:
        accounts = [a for a in state().accounts.values() if a.tenant_id == tenant().id]
    return paged(accounts, "/1.0/kb/accounts/pagination", account_view)


# -- payment methods ----------------------------------------------------------------------------------
@bp.post("/<uuid:account_id>/paymentMethods")
def create_payment_method(account_id: UUID) -> Response:
    data = body_object("PaymentMethodJson")
    plugin_name = require(data.get("pluginName"), "PaymentMethodJson pluginName should be specified")
    context = call_context(account_id)
    account = _account(account_id)
    if flag("payAllUnpaidInvoices") and _unpaid(account) and not (account.payment_method_id or flag("isDefault")):
        return Response(status=400)
    info = data.get("pluginInfo") or {}
    pm = state().payment_methods_engine.add(account, plugin_name, data.get("externalKey"), flag("isDefault"),
                                            {**info, "properties": body_properties(info)}, plugin_properties(),
                                            context)
    if flag("payAllUnpaidInvoices"):
        _pay_all(account, pm.id, context)
    return created(f"/1.0/kb/paymentMethods/{pm.id}")


@bp.get("/<uuid:account_id>/paymentMethods")
def list_payment_methods(account_id: UUID) -> Response:
    account = _account(account_id)
    include_deleted = flag("includedDeleted")
    with state().lock:
        pms = [pm for pm in state().payment_methods.values()
               if pm.account_id == account.id and (pm.active or include_deleted)]
    return json_response([payment_method_view(pm, flag("withPluginInfo")) for pm in pms])


@bp.put("/<uuid:account_id>/paymentMethods/<uuid:pm_id>/setDefault")
def set_default_payment_method(account_id: UUID, pm_id: UUID) -> Response:
    context = call_context(account_id)
    account = _account(account_id)
    pm = state().payment_method(tenant().id, pm_id)
    state().payment_methods_engine.set_default(account, pm, plugin_properties(), context)
    if flag("payAllUnpaidInvoices"):
        _pay_all(account, pm.id, context)
    return Response(status=204)


@bp.put("/<uuid:account_id>/paymentMethods/refresh")
def refresh_payment_methods(account_id: UUID) -> Response:
    context = call_context(account_id)
    account = _account(account_id)
    state().payment_methods_engine.refresh(account, request.args.get("pluginName"), plugin_properties(), context)
    return Response(status=204)


def _unpaid(account: Account) -> list[Any]:
    with state().lock:
        return [i for i in state().invoices.values() if i.account_id == account.id and i.balance > 0]


def _pay_all(account: Account, pm_id: UUID, context: Any) -> None:
    for invoice in _unpaid(account):
        state().invoices_engine.pay(account, invoice, pm_id, invoice.balance, plugin_properties(), None, context,
                                    is_api=True)


# -- invoices and payments -----------------------------------------------------------------------------
@bp.get("/<uuid:account_id>/invoices")
def list_invoices(account_id: UUID) -> Response:
    account = _account(account_id)
    unpaid_only, include_voided = flag("unpaidInvoicesOnly"), flag("includeVoidedInvoices")
    wanted = {s for s in (request.args.get("invoicesFilter") or "").split(",") if s}
    with state().lock:
        invoices = sorted((i for i in state().invoices.values() if i.account_id == account.id),
                          key=lambda i: i.number)
        views = [invoice_json(i) for i in invoices
                 if (not unpaid_only or (i.status == "COMMITTED" and i.balance > 0))
                 and (include_voided or i.status != "VOID") and (not wanted or str(i.id) in wanted)]
    return json_response(views)


@bp.get("/<uuid:account_id>/invoicePayments")
def list_invoice_payments(account_id: UUID) -> Response:
    account = _account(account_id)
    with state().lock:
        payments = [p for p in state().payments.values() if p.account_id == account.id and p.invoice_id]
    return json_response([payment_view(p, flag("withPluginInfo"), flag("withAttempts"), as_invoice_payment=True)
                          for p in payments])


@bp.get("/<uuid:account_id>/payments")
def list_payments(account_id: UUID) -> Response:
    account = _account(account_id)
    with state().lock:
        payments = [p for p in state().payments.values() if p.account_id == account.id]
    return json_response([payment_view(p, flag("withPluginInfo"), flag("withAttempts")) for p in payments])


@bp.post("/<uuid:account_id>/payments")
def process_payment(account_id: UUID) -> Response:
    """AUTHORIZE, PURCHASE or CREDIT; with ``paymentId`` the completion of a PENDING transaction."""
    data = body_object("PaymentTransactionJson")
    txn_type = require(data.get("transactionType"), "PaymentTransactionJson transactionType needs to be set")
    amount = require(to_decimal(data.get("amount")), "PaymentTransactionJson amount needs to be set")
    context = call_context(account_id)
    account = _account(account_id)
    if txn_type not in (TxnType.AUTHORIZE, TxnType.PURCHASE, TxnType.CREDIT):
        return Response(f"TransactionType {txn_type} is not allowed for an account", status=412)
    if data.get("paymentId"):
        return _complete_from_account(account, data, context)
    pm_id = uuid_arg("paymentMethodId") or account.payment_method_id
    if pm_id is None:
        raise errors.no_default_payment_method(account.id)
    pm = state().payment_method(tenant().id, pm_id)
    if pm.account_id != account.id:
        raise errors.no_payment_method(pm_id)
    req = TxnRequest(tenant().id, account.id, pm, TxnType(txn_type), amount, data.get("currency") or account.currency,
                     context, payment_external_key=data.get("paymentExternalKey"),
                     transaction_external_key=data.get("transactionExternalKey"), properties=plugin_properties(),
                     control_plugins=control_plugins())
    return payment_response(state().payments_engine.process(req))


def _complete_from_account(account: Account, data: dict[str, Any], context: Any) -> Response:
    """Backward-compatible completion through the account resource."""
    from bridge.simulators.killbill.api.payments import complete_pending
    payment = state().payment(tenant().id, to_uuid(data["paymentId"]))  # type: ignore[arg-type]
    if payment.account_id != account.id:
        raise errors.no_payment(payment.id)
    return complete_pending(payment, data, context, respond_created=True)
