"""Kill Bill payment methods as Hyperswitch saved payment methods and mandates of the account's customer.

Hyperswitch is read (and, for default and delete, changed) first, outside any database transaction;
the row is written last, in one short transaction, so a refusal or a failure stores nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

import hyperswitch_client as hs
from bridge.db.payments import PaymentMethod, PaymentMethodState
from bridge.payment_methods import errors, sources, store
from bridge.payment_methods.customers import customer_id_of, ensure_customer
from bridge.plugin_api import models as m
from bridge.plugin_api.errors import invalid, unknown
from bridge.tenancy.env import TenantEnv
from hyperswitch_client.mandates import Mandate
from hyperswitch_client.payment_methods import CustomerPaymentMethod

log = logging.getLogger(__name__)


# -- add --------------------------------------------------------------------------------------------------
def add(env: TenantEnv, call: m.AddPaymentMethodCall) -> PaymentMethod:
    request = sources.source_request(call)
    existing = store.find(env, call.kbPaymentMethodId)
    if existing is not None:
        return _repeat(env, call, request, existing)
    customer_id = ensure_customer(env, call.kbAccountId)
    saved = sources.resolve(env, customer_id, request)
    if call.setDefault:
        _hyperswitch_default(env, customer_id, saved.payment_method_id)
    new = store.NewMethod(str(call.kbPaymentMethodId), saved)
    row = store.insert(env, call.kbAccountId, [new], make_default=call.setDefault)[0]
    _check_same(call, row, saved.payment_method_id, saved.mandate_id)
    return row


def _repeat(env: TenantEnv, call: m.AddPaymentMethodCall, request: sources.SourceRequest,
            row: PaymentMethod) -> PaymentMethod:
    """Kill Bill sent this kbPaymentMethodId before: fine with the same data, refused with other data."""
    if row.state is PaymentMethodState.DELETED:
        raise errors.refused(errors.DELETED, f"payment method {call.kbPaymentMethodId} was deleted", 409)
    pm_id, mandate_id = request.payment_method_id, request.mandate_id
    if request.payment_id and row.kb_account_id == str(call.kbAccountId):
        saved = sources.resolve(env, row.hs_customer_id, request)
        pm_id, mandate_id = saved.payment_method_id, saved.mandate_id
    _check_same(call, row, pm_id, mandate_id)
    if call.setDefault and not row.is_default:
        make_default(env, row)
    return row


def _check_same(call: m.AddPaymentMethodCall, row: PaymentMethod, pm_id: str | None, mandate_id: str | None) -> None:
    same = (row.kb_account_id == str(call.kbAccountId) and pm_id in (None, row.hs_payment_method_id)
            and mandate_id in (None, row.hs_mandate_id))
    if not same:
        raise errors.refused(errors.CONFLICT, f"payment method {call.kbPaymentMethodId} already exists with "
                                              f"other data", 409)


# -- lookup, default --------------------------------------------------------------------------------------------
def owned(env: TenantEnv, kb_account_id: UUID, kb_payment_method_id: UUID) -> PaymentMethod:
    """The account's payment method, deleted or not; unknown if it is another account's."""
    row = store.find(env, kb_payment_method_id)
    if row is None or row.kb_account_id != str(kb_account_id):
        raise unknown("payment_method", f"account {kb_account_id} has no payment method {kb_payment_method_id} "
                                        f"in the bridge")
    return row


def set_default(env: TenantEnv, call: m.PaymentMethodCall) -> None:
    row = owned(env, call.kbAccountId, call.kbPaymentMethodId)
    if row.state is PaymentMethodState.DELETED:
        raise errors.refused(errors.DELETED, f"payment method {call.kbPaymentMethodId} was deleted", 409)
    make_default(env, row)


def make_default(env: TenantEnv, row: PaymentMethod) -> None:
    if row.hs_payment_method_id:
        _hyperswitch_default(env, row.hs_customer_id, row.hs_payment_method_id)
    store.make_default(env, row.kb_account_id, row.kb_payment_method_id)


def _hyperswitch_default(env: TenantEnv, customer_id: str, pm_id: str) -> None:
    try:
        env.hyperswitch.payment_methods.set_default(customer_id, pm_id)
    except hs.NotFoundError:
        raise errors.refused(errors.GONE, f"Hyperswitch no longer has payment method {pm_id}", 409) from None
    except hs.OperationRefusedError as error:
        # Refused when it already is the default (e.g. a repeated call): check instead of guessing.
        if _hyperswitch_default_of(env, customer_id) != pm_id:
            raise errors.hyperswitch_failure(f"making {pm_id} the default", error) from None
    except hs.HyperswitchError as error:
        raise errors.hyperswitch_failure(f"making {pm_id} the default", error) from None


def _hyperswitch_default_of(env: TenantEnv, customer_id: str) -> str | None:
    try:
        return env.hyperswitch.customers.retrieve(customer_id).default_payment_method_id
    except hs.HyperswitchError as error:
        raise errors.hyperswitch_failure(f"reading customer {customer_id}", error) from None


# -- delete ---------------------------------------------------------------------------------------------------
def delete(env: TenantEnv, call: m.PaymentMethodCall) -> None:
    """Revoke its mandate and delete the saved method in Hyperswitch, then mark it deleted."""
    row = owned(env, call.kbAccountId, call.kbPaymentMethodId)
    if row.state is PaymentMethodState.DELETED:
        return
    mandate_status = None
    if row.hs_mandate_id and row.mandate_status != "revoked":
        _revoke(env, row.hs_mandate_id)
        mandate_status = "revoked"
    if row.hs_payment_method_id:
        _delete_saved(env, row.hs_payment_method_id)
    store.mark_deleted(env, row.kb_payment_method_id, mandate_status)


def _revoke(env: TenantEnv, mandate_id: str) -> None:
    try:
        env.hyperswitch.mandates.revoke(mandate_id)
    except (hs.NotFoundError, hs.OperationRefusedError) as error:
        # Gone, or already revoked (HE_03): nothing left to revoke.
        log.info("mandate %s not revoked: %s", mandate_id, error)
    except hs.HyperswitchError as error:
        raise errors.hyperswitch_failure(f"revoking mandate {mandate_id}", error) from None


def _delete_saved(env: TenantEnv, pm_id: str) -> None:
    try:
        env.hyperswitch.payment_methods.delete(pm_id)
    except hs.NotFoundError:
        log.info("payment method %s was already gone from Hyperswitch", pm_id)
    except hs.HyperswitchError as error:
        raise errors.hyperswitch_failure(f"deleting payment method {pm_id}", error) from None


# -- list, refresh, reset ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountMethods:
    known: list[PaymentMethod]  # with their Kill Bill ids
    gateway_only: list[CustomerPaymentMethod]  # saved in Hyperswitch, not yet in Kill Bill


def account_methods(env: TenantEnv, kb_account_id: UUID, refresh: bool) -> AccountMethods:
    if not refresh:
        return AccountMethods(store.account_rows(env, kb_account_id), [])
    customer_id = customer_id_of(env, kb_account_id)
    listed = _listed(env, customer_id)
    if listed is None:
        # No such customer: nothing was ever saved for it. Rows are left alone rather than all marked
        # unusable on an answer that a misconfigured merchant would give too.
        return AccountMethods(store.account_rows(env, kb_account_id), [])
    with_mandates = any(row.hs_mandate_id for row in store.account_rows(env, kb_account_id))
    mandates = _mandates(env, customer_id) if with_mandates else {}
    known = store.apply_gateway_view(env, kb_account_id, listed, mandates)
    mapped = {row.hs_payment_method_id for row in known}
    others = [pm for pm in listed.values() if pm.payment_method_id not in mapped and pm.recurring_enabled is not False]
    return AccountMethods(known, others)


def _listed(env: TenantEnv, customer_id: str) -> dict[str, CustomerPaymentMethod] | None:
    """The customer's saved payment methods; None when Hyperswitch has no such customer."""
    try:
        found = env.hyperswitch.payment_methods.list_for_customer(customer_id).customer_payment_methods
    except hs.NotFoundError:
        return None
    except hs.HyperswitchError as error:
        raise errors.hyperswitch_failure(f"listing the payment methods of {customer_id}", error) from None
    return {pm.payment_method_id: pm for pm in found}


def _mandates(env: TenantEnv, customer_id: str) -> dict[str, Mandate]:
    try:
        return {mandate.mandate_id: mandate for mandate in env.hyperswitch.mandates.list_for_customer(customer_id)}
    except hs.HyperswitchError as error:
        raise errors.hyperswitch_failure(f"listing the mandates of {customer_id}", error) from None


def reset(env: TenantEnv, call: m.ResetPaymentMethodsCall) -> None:
    """Store the Kill Bill ids given to payment methods found in Hyperswitch; all of them or none."""
    new = [info for info in call.paymentMethods if info.paymentMethodId and store.find(env, info.paymentMethodId)
           is None]
    if not new:
        return
    customer_id = ensure_customer(env, call.kbAccountId)
    methods = [store.NewMethod(str(info.paymentMethodId), _saved_for(env, call.kbAccountId, customer_id, info))
               for info in new]
    for row, method in zip(store.insert(env, call.kbAccountId, methods), methods, strict=True):
        if row.kb_account_id != str(call.kbAccountId) or row.hs_payment_method_id != method.saved.payment_method_id:
            raise errors.refused(errors.CONFLICT, f"payment method {row.kb_payment_method_id} already exists with "
                                                  f"other data", 409)


def _saved_for(env: TenantEnv, kb_account_id: UUID, customer_id: str,
               info: m.PaymentMethodInfoPlugin) -> sources.Saved:
    if info.accountId is not None and info.accountId != kb_account_id:
        raise invalid(f"payment method {info.paymentMethodId} is given for account {info.accountId}, "
                      f"not {kb_account_id}")
    external = info.externalPaymentMethodId or ""
    if external.startswith("man_"):
        return sources.resolve(env, customer_id, sources.SourceRequest(mandate_id=external))
    if external.startswith("pm_"):
        return sources.resolve(env, customer_id, sources.SourceRequest(payment_method_id=external))
    raise invalid(f"payment method {info.paymentMethodId} has externalPaymentMethodId {external!r}, not a "
                  f"Hyperswitch pm_… or man_… id")
