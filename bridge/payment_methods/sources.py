"""What a Kill Bill payment method stands for in Hyperswitch, checked against the account's customer.

addPaymentMethod names it with a property (in ``paymentMethodProps.properties`` or the call's own):
``hsPaymentMethodId`` (a saved ``pm_…``), ``hsMandateId`` (a ``man_…``), or ``hsPaymentId`` (the
payment of a hosted form, whose saved payment method and mandate are used); ``externalPaymentMethodId``
may carry a ``pm_…`` or ``man_…`` id too. Every id is read back from Hyperswitch and must belong to the
customer; nothing is written here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import hyperswitch_client as hs
from bridge.payment_methods import errors
from bridge.plugin_api import models as m
from bridge.plugin_api.errors import invalid, unknown
from bridge.tenancy.env import TenantEnv
from hyperswitch_client.mandates import Mandate, MandateCard
from hyperswitch_client.payment_methods import CustomerPaymentMethod, PaymentMethod, SavedCard

PROP_PAYMENT_METHOD = "hsPaymentMethodId"
PROP_MANDATE = "hsMandateId"
PROP_PAYMENT = "hsPaymentId"
_HS_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MANDATE_ACTIVE = "active"


@dataclass(frozen=True)
class SourceRequest:
    """The Hyperswitch ids a call names; at least one is set."""

    payment_method_id: str | None = None
    mandate_id: str | None = None
    payment_id: str | None = None


@dataclass(frozen=True)
class Card:
    """Masked card facts; never more than the last four digits."""

    network: str | None
    last4: str | None
    exp_month: str | None
    exp_year: str | None


@dataclass(frozen=True)
class Saved:
    """A saved payment method of the customer, with its mandate if one is used."""

    customer_id: str
    payment_method_id: str
    payment_method: str | None
    card: Card | None
    mandate_id: str | None = None
    mandate_status: str | None = None


# -- reading the request ----------------------------------------------------------------------------
def source_request(call: m.AddPaymentMethodCall) -> SourceRequest:
    properties = [*call.paymentMethodProps.properties, *call.properties]
    request = SourceRequest(_one(properties, PROP_PAYMENT_METHOD), _one(properties, PROP_MANDATE),
                            _one(properties, PROP_PAYMENT))
    request = _with_external_id(request, call.paymentMethodProps.externalPaymentMethodId)
    if not (request.payment_method_id or request.mandate_id or request.payment_id):
        raise errors.refused(errors.MISSING_SOURCE, f"name the Hyperswitch payment method with a property: "
                                                    f"{PROP_PAYMENT_METHOD} (pm_…), {PROP_MANDATE} (man_…) or "
                                                    f"{PROP_PAYMENT} (the payment of a hosted form)")
    return request


def _one(properties: Iterable[m.PluginProperty], key: str) -> str | None:
    values = {str(p.value).strip() for p in properties if p.key == key and p.value not in (None, "")}
    if len(values) > 1:
        raise errors.refused(errors.INCONSISTENT_SOURCE, f"property {key} is given with different values")
    value = values.pop() if values else None
    if value is not None and not _HS_ID.match(value):
        raise invalid(f"property {key} is not a Hyperswitch id (1-64 of A-Z, a-z, 0-9, _ and -)")
    return value


def _with_external_id(request: SourceRequest, external_id: str | None) -> SourceRequest:
    """``externalPaymentMethodId`` counts when it is a Hyperswitch id and no property says otherwise."""
    if not external_id or not _HS_ID.match(external_id):
        return request
    if external_id.startswith("pm_") and request.payment_method_id is None:
        return SourceRequest(external_id, request.mandate_id, request.payment_id)
    if external_id.startswith("man_") and request.mandate_id is None:
        return SourceRequest(request.payment_method_id, external_id, request.payment_id)
    return request


# -- checking it against Hyperswitch ------------------------------------------------------------------
def resolve(env: TenantEnv, customer_id: str, request: SourceRequest) -> Saved:
    """The saved payment method the request names, checked to be the customer's and chargeable."""
    if request.payment_id:
        saved = from_payment(env, customer_id, request.payment_id)
    elif request.mandate_id:
        saved = from_mandate(env, customer_id, request.mandate_id)
    else:
        saved = from_payment_method(env, customer_id, request.payment_method_id or "")
    _check_consistent(request, saved)
    return saved


def _check_consistent(request: SourceRequest, saved: Saved) -> None:
    if request.payment_method_id and request.payment_method_id != saved.payment_method_id:
        raise errors.refused(errors.INCONSISTENT_SOURCE, f"{PROP_PAYMENT_METHOD} {request.payment_method_id} is not "
                                                         f"the payment method of the other ids given")
    if request.mandate_id and request.mandate_id != saved.mandate_id:
        raise errors.refused(errors.INCONSISTENT_SOURCE, f"{PROP_MANDATE} {request.mandate_id} is not the "
                                                         f"mandate of the other ids given")


def from_payment_method(env: TenantEnv, customer_id: str, pm_id: str) -> Saved:
    try:
        pm = env.hyperswitch.payment_methods.retrieve(pm_id)
    except hs.NotFoundError:
        raise unknown("hs_payment_method", f"Hyperswitch has no payment method {pm_id}") from None
    except hs.HyperswitchError as error:
        raise errors.hyperswitch_failure(f"reading payment method {pm_id}", error) from None
    _check_owner(pm, customer_id)
    if pm.recurring_enabled is False:
        raise errors.refused(errors.NOT_RECURRING, f"payment method {pm_id} was not saved for merchant-initiated "
                                                   f"payments (setup_future_usage=off_session)")
    return Saved(customer_id, pm.payment_method_id, pm.payment_method, saved_card(pm.card))


def _check_owner(pm: PaymentMethod, customer_id: str) -> None:
    if pm.customer_id != customer_id:
        raise errors.refused(errors.FOREIGN, f"payment method {pm.payment_method_id} belongs to another "
                                             f"Hyperswitch customer than this account's ({customer_id})")


def from_mandate(env: TenantEnv, customer_id: str, mandate_id: str) -> Saved:
    mandate = _mandate(env, mandate_id)
    if str(mandate.status) != MANDATE_ACTIVE:
        raise errors.refused(errors.MANDATE_NOT_ACTIVE, f"mandate {mandate_id} is {mandate.status}, not active",
                             409)
    try:
        pm = env.hyperswitch.payment_methods.retrieve(mandate.payment_method_id)
    except hs.NotFoundError:
        raise errors.refused(errors.GONE, f"the payment method of mandate {mandate_id} no longer exists",
                             409) from None
    except hs.HyperswitchError as error:
        raise errors.hyperswitch_failure(f"reading payment method {mandate.payment_method_id}", error) from None
    _check_owner(pm, customer_id)
    card = saved_card(pm.card) or mandate_card(mandate.card)
    return Saved(customer_id, pm.payment_method_id, pm.payment_method, card, mandate.mandate_id,
                 str(mandate.status))


def _mandate(env: TenantEnv, mandate_id: str) -> Mandate:
    try:
        return env.hyperswitch.mandates.retrieve(mandate_id)
    except hs.NotFoundError:
        raise unknown("hs_mandate", f"Hyperswitch has no mandate {mandate_id}") from None
    except hs.HyperswitchError as error:
        raise errors.hyperswitch_failure(f"reading mandate {mandate_id}", error) from None


def from_payment(env: TenantEnv, customer_id: str, payment_id: str) -> Saved:
    """The payment method a completed hosted form saved for the customer."""
    try:
        payment = env.hyperswitch.payments.retrieve(payment_id)
    except hs.NotFoundError:
        raise unknown("hs_payment", f"Hyperswitch has no payment {payment_id}") from None
    except hs.HyperswitchError as error:
        raise errors.hyperswitch_failure(f"reading payment {payment_id}", error) from None
    if payment.customer_id != customer_id:
        raise errors.refused(errors.FOREIGN, f"payment {payment_id} belongs to another Hyperswitch customer "
                                             f"than this account's ({customer_id})")
    if str(payment.status) != "succeeded":
        raise errors.refused(errors.FORM_NOT_COMPLETED, f"payment {payment_id} is {payment.status}: the payor has "
                                                        f"not completed the form", 409)
    if payment.mandate_id:
        return from_mandate(env, customer_id, payment.mandate_id)
    if not payment.payment_method_id:
        raise errors.refused(errors.NOTHING_SAVED, f"payment {payment_id} saved no payment method (the payor did "
                                                   f"not agree to save it)", 409)
    return from_payment_method(env, customer_id, payment.payment_method_id)


# -- masked card facts ----------------------------------------------------------------------------------
def saved_card(card: SavedCard | None) -> Card | None:
    if card is None:
        return None
    return _card(card.card_network or card.scheme, card.last4_digits, card.expiry_month, card.expiry_year)


def mandate_card(card: MandateCard | None) -> Card | None:
    if card is None:
        return None
    return _card(card.card_network, card.last4_digits, card.card_exp_month, card.card_exp_year)


def listed_card(pm: CustomerPaymentMethod) -> Card | None:
    return saved_card(pm.card)


def _card(network: str | None, last4: str | None, month: str | None, year: str | None) -> Card:
    # Cut to the columns' sizes; the last four digits are all that is ever kept of a number.
    return Card(network[:32] if network else None, last4[-4:] if last4 else None,
                month[-2:] if month else None, year[-4:] if year else None)
