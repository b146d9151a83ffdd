"""Read views that may need the plugin (``withPluginInfo``) or computed balances."""

from __future__ import annotations

from typing import Any

from flask import request

from bridge.simulators.killbill.api.common import flag, state, tenant
from bridge.simulators.killbill.janitor import PluginInfoError
from bridge.simulators.killbill.model import Account, Payment, PaymentMethod
from bridge.simulators.killbill.plugin import CallContext
from bridge.simulators.killbill.serialize import (
    account_json,
    payment_json,
    payment_method_json,
)


def account_view(account: Account) -> dict[str, Any]:
    with_cba = flag("accountWithBalanceAndCBA")
    if not (flag("accountWithBalance") or with_cba):
        return account_json(account)
    engine = state().invoices_engine
    cba = engine.account_credit(account.id)
    # DefaultInvoiceDao#getAccountBalance: the invoices' balances less the account's credit.
    return account_json(account, engine.account_balance(account.id) - cba, cba if with_cba else None)


def read_context(account_id: Any = None) -> CallContext:
    return CallContext(tenant().id, account_id, request.headers.get("X-Killbill-CreatedBy") or "", "EXTERNAL",
                       "CUSTOMER", None, None, state().clock.now())


def payment_method_view(pm: PaymentMethod, with_plugin_info: bool) -> dict[str, Any]:
    sim = state()
    is_default = sim.accounts[pm.account_id].payment_method_id == pm.id
    info = sim.payment_methods_engine.plugin_info(pm, read_context(pm.account_id)) if with_plugin_info else None
    return payment_method_json(pm, is_default, info)


def payment_view(payment: Payment, with_plugin_info: bool, with_attempts: bool, *,
                 as_invoice_payment: bool = False) -> dict[str, Any]:
    """With plugin info Kill Bill calls getPaymentInfo and settles PENDING/UNKNOWN transactions on the fly."""
    rows = None
    if with_plugin_info:
        try:
            rows = state().janitor.refresh(payment, raise_errors=True)
        except PluginInfoError as exc:
            raise exc.api_error from exc
    with state().lock:
        return payment_json(payment, with_attempts=with_attempts, plugin_rows=rows, invoice_id=payment.invoice_id,
                            as_invoice_payment=as_invoice_payment)
