"""Customers, their saved payment methods and mandates (reference/hyperswitch.md §4).

Everything is scoped to the calling merchant: another merchant's object is "does not exist" (HE_02).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from . import errors, schema
from .cards import OUTCOMES
from .model import Card, Customer, Mandate, Payment, PaymentMethod, RequestContext, iso, new_id
from .validation import optional_id

if TYPE_CHECKING:
    from .state import SimulatorState

REDACTED = "Redacted"
BEHAVIOURS_HELP = "approve, decline, insufficient_funds, lost_card, stolen_card, processing, requires_customer_action"


# -- customers -------------------------------------------------------------------------------

def create(state: SimulatorState, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
    customer_id = optional_id(body, "customer_id") or new_id("cus")
    if (ctx.merchant_id, customer_id) in state.customers:
        raise errors.duplicate_customer()
    fields = {key: body.get(key) for key in schema.CUSTOMER_UPDATE_FIELDS if body.get(key) is not None}
    customer = Customer(customer_id, ctx.merchant_id, state.clock(), fields)
    state.customers[(ctx.merchant_id, customer_id)] = customer
    return render(customer)


def ensure_customer(state: SimulatorState, merchant_id: str, customer_id: str,
                    details: dict[str, Any] | None) -> Customer:
    """A payment naming an unknown customer creates it (helpers.rs create_customer_if_not_exist)."""
    customer = state.customers.get((merchant_id, customer_id))
    if customer is None:
        fields = {key: value for key, value in (details or {}).items()
                  if key in ("name", "email", "phone", "phone_country_code") and value is not None}
        customer = Customer(customer_id, merchant_id, state.clock(), fields)
        state.customers[(merchant_id, customer_id)] = customer
    elif customer.redacted:
        raise errors.customer_redacted()
    return customer


def get_customer(state: SimulatorState, merchant_id: str, customer_id: str) -> Customer:
    customer = state.customers.get((merchant_id, customer_id))
    if customer is None:
        raise errors.customer_not_found()
    if customer.redacted:
        raise errors.customer_redacted()
    return customer


def retrieve(state: SimulatorState, ctx: RequestContext, customer_id: str) -> dict[str, Any]:
    return render(get_customer(state, ctx.merchant_id, customer_id))


def update(state: SimulatorState, ctx: RequestContext, customer_id: str, body: dict[str, Any]) -> dict[str, Any]:
    customer = get_customer(state, ctx.merchant_id, customer_id)
    customer.fields.update({key: value for key, value in body.items() if value is not None})
    return render(customer)


def delete(state: SimulatorState, ctx: RequestContext, customer_id: str) -> dict[str, Any]:
    """Redact: fields become "Redacted", saved methods go; refused while a mandate is active."""
    customer = get_customer(state, ctx.merchant_id, customer_id)
    if any(m.status == "active" for m in _mandates_of(state, ctx.merchant_id, customer_id)):
        raise errors.mandate_active()
    for pm in _methods_of(state, ctx.merchant_id, customer_id):
        del state.payment_methods[pm.payment_method_id]
    customer.fields = {key: REDACTED for key in ("name", "email", "phone", "description")
                       if key in customer.fields}
    customer.default_payment_method_id = None
    customer.redacted = True
    return {"customer_id": customer_id, "customer_deleted": True, "address_deleted": True,
            "payment_methods_deleted": True}


def list_customers(state: SimulatorState, ctx: RequestContext, query: dict[str, str]) -> list[dict[str, Any]]:
    limit, offset = _int_query(query, "limit", 100), _int_query(query, "offset", 0)
    found = [c for (merchant_id, _), c in state.customers.items() if merchant_id == ctx.merchant_id and not c.redacted]
    return [render(customer) for customer in found[offset:offset + limit]]


def _int_query(query: dict[str, str], key: str, default: int) -> int:
    raw = query.get(key)
    if raw is None:
        return default
    if not raw.isdigit():
        raise errors.json_deserialize("invalid digit found in string")
    return int(raw)


def render(customer: Customer) -> dict[str, Any]:
    response: dict[str, Any] = dict.fromkeys(schema.CUSTOMER_RESPONSE_KEYS)
    response.update({key: value for key, value in customer.fields.items() if key in response})
    response.update({"customer_id": customer.customer_id, "created_at": iso(customer.created_at),
                     "default_payment_method_id": customer.default_payment_method_id})
    return response


def details_for_payment(state: SimulatorState, payment: Payment) -> dict[str, Any] | None:
    """``PaymentsResponse.customer`` (CustomerDetailsResponse) from the stored customer."""
    if payment.customer_id is None:
        return None
    customer = state.customers.get((payment.merchant_id, payment.customer_id))
    fields = customer.fields if customer else {}
    return {"id": payment.customer_id, "name": fields.get("name"), "email": fields.get("email"),
            "phone": fields.get("phone"), "phone_country_code": fields.get("phone_country_code")}


# -- saving a card ---------------------------------------------------------------------------

def save_card(state: SimulatorState, payment: Payment, save: dict[str, Any]) -> None:
    """Tokenize the card for the customer (once per card) and, with mandate_data, create a mandate."""
    card = payment.card
    if card is None or payment.customer_id is None:
        return
    pm = _existing_method(state, payment.merchant_id, payment.customer_id, card.fingerprint)
    if pm is None:
        pm = PaymentMethod(new_id("pm"), payment.merchant_id, payment.customer_id, card, state.clock(),
                           recurring_enabled=False)
        state.payment_methods[pm.payment_method_id] = pm
    if save["off_session"]:
        # The network transaction id is kept only for off_session (reference §2).
        pm.recurring_enabled = True
        pm.network_transaction_id = pm.network_transaction_id or _network_transaction_id()
        payment.network_transaction_id = pm.network_transaction_id
    payment.payment_method_id = pm.payment_method_id
    if save["with_mandate"]:
        mandate = Mandate(new_id("man"), payment.merchant_id, payment.profile_id, payment.customer_id,
                          pm.payment_method_id, card, state.clock(), save["mandate_type"], save["acceptance"],
                          new_id("seti", 24))
        state.mandates[mandate.mandate_id] = mandate
        payment.mandate_id, payment.connector_mandate_id = mandate.mandate_id, mandate.connector_mandate_id


def _existing_method(state: SimulatorState, merchant_id: str, customer_id: str,
                     fingerprint: str) -> PaymentMethod | None:
    for pm in _methods_of(state, merchant_id, customer_id):
        if pm.card.fingerprint == fingerprint:
            return pm
    return None


def _network_transaction_id() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(15))


# -- payment methods -------------------------------------------------------------------------

def _methods_of(state: SimulatorState, merchant_id: str, customer_id: str) -> list[PaymentMethod]:
    return [pm for pm in state.payment_methods.values()
            if pm.merchant_id == merchant_id and pm.customer_id == customer_id]


def get_payment_method(state: SimulatorState, merchant_id: str, pm_id: str) -> PaymentMethod:
    pm = state.payment_methods.get(pm_id)
    if pm is None or pm.merchant_id != merchant_id:
        raise errors.payment_method_not_found()
    return pm


def list_payment_methods(state: SimulatorState, ctx: RequestContext, customer_id: str) -> dict[str, Any]:
    customer = get_customer(state, ctx.merchant_id, customer_id)
    methods = sorted(_methods_of(state, ctx.merchant_id, customer_id), key=lambda pm: pm.created, reverse=True)
    return {"customer_payment_methods": [_customer_method(state, customer, pm) for pm in methods],
            "is_guest_customer": False}


def _customer_method(state: SimulatorState, customer: Customer, pm: PaymentMethod) -> dict[str, Any]:
    # payment_token is a short-lived SDK token; a create with it pays with this method.
    token = new_id("token")
    state.payment_tokens[token] = pm.payment_method_id
    return {
        "payment_token": token, "payment_method_id": pm.payment_method_id, "customer_id": pm.customer_id,
        "payment_method": "card", "payment_method_type": "credit", "payment_method_issuer": None,
        "payment_method_issuer_code": None, "recurring_enabled": pm.recurring_enabled,
        "installment_payment_enabled": False, "payment_experience": ["redirect_to_url"],
        "card": _locker_card(pm.card), "metadata": None, "created": iso(pm.created),
        "bank_transfer": None, "bank": None, "surcharge_details": None, "requires_cvv": False,
        "last_used_at": iso(pm.last_used_at or pm.created),
        "default_payment_method_set": customer.default_payment_method_id == pm.payment_method_id,
        "billing": None,
    }


def _locker_card(card: Card) -> dict[str, Any]:
    """CardDetailFromLocker."""
    return {"scheme": card.network, "issuer_country": None, "issuer_country_code": None,
            "last4_digits": card.last4, "expiry_month": card.exp_month, "expiry_year": card.exp_year,
            "card_token": None, "card_holder_name": card.holder_name, "card_fingerprint": None,
            "nick_name": None, "card_network": card.network, "card_isin": card.isin, "card_issuer": None,
            "card_type": "CREDIT", "saved_to_locker": True}


def retrieve_payment_method(state: SimulatorState, ctx: RequestContext, pm_id: str) -> dict[str, Any]:
    pm = get_payment_method(state, ctx.merchant_id, pm_id)
    return {"merchant_id": pm.merchant_id, "customer_id": pm.customer_id,
            "payment_method_id": pm.payment_method_id, "payment_method": "card",
            "payment_method_type": "credit", "card": _locker_card(pm.card),
            "recurring_enabled": pm.recurring_enabled, "installment_payment_enabled": False,
            "payment_experience": ["redirect_to_url"], "metadata": None, "created": iso(pm.created),
            "bank_transfer": None, "last_used_at": iso(pm.last_used_at or pm.created), "client_secret": None}


def delete_payment_method(state: SimulatorState, ctx: RequestContext, pm_id: str) -> dict[str, Any]:
    pm = get_payment_method(state, ctx.merchant_id, pm_id)
    del state.payment_methods[pm_id]
    customer = state.customers.get((ctx.merchant_id, pm.customer_id))
    if customer is not None and customer.default_payment_method_id == pm_id:
        customer.default_payment_method_id = None
    return {"payment_method_id": pm_id, "deleted": True}


def set_default(state: SimulatorState, ctx: RequestContext, customer_id: str, pm_id: str) -> dict[str, Any]:
    customer = get_customer(state, ctx.merchant_id, customer_id)
    pm = get_payment_method(state, ctx.merchant_id, pm_id)
    if pm.customer_id != customer_id:
        raise errors.precondition_failed("The payment_method_id is not valid")
    if customer.default_payment_method_id == pm_id:
        raise errors.precondition_failed("Payment Method is already set as default")
    customer.default_payment_method_id = pm_id
    return {"default_payment_method_id": pm_id, "customer_id": customer_id,
            "payment_method": "card", "payment_method_type": "credit"}


# -- mandates ----------------------------------------------------------------------------------

def _mandates_of(state: SimulatorState, merchant_id: str, customer_id: str) -> list[Mandate]:
    return [m for m in state.mandates.values() if m.merchant_id == merchant_id and m.customer_id == customer_id]


def get_mandate(state: SimulatorState, merchant_id: str, mandate_id: str) -> Mandate:
    mandate = state.mandates.get(mandate_id)
    if mandate is None or mandate.merchant_id != merchant_id:
        raise errors.mandate_not_found()
    return mandate


def retrieve_mandate(state: SimulatorState, ctx: RequestContext, mandate_id: str) -> dict[str, Any]:
    return render_mandate(get_mandate(state, ctx.merchant_id, mandate_id))


def revoke_mandate(state: SimulatorState, ctx: RequestContext, mandate_id: str) -> dict[str, Any]:
    """API revoke: no webhook, since mandate events come only from the connector (reference §6)."""
    mandate = get_mandate(state, ctx.merchant_id, mandate_id)
    if mandate.status == "revoked":
        raise errors.mandate_validation_failed("Mandate has already been revoked")
    mandate.status = "revoked"
    return {"mandate_id": mandate_id, "status": "revoked", "error_code": None, "error_message": None}


def revoke_at_connector(state: SimulatorState, mandate: Mandate) -> dict[str, Any]:
    """The customer or the bank revoked it: the router learns it from the connector and notifies."""
    mandate.status = "revoked"
    body = render_mandate(mandate)
    profile = state.profile(mandate.merchant_id, mandate.profile_id)
    if profile is not None:
        state.emit(profile, mandate.mandate_id, "mandate_revoked", "mandate_details", body)
    return body


def list_mandates(state: SimulatorState, ctx: RequestContext, customer_id: str) -> list[dict[str, Any]]:
    get_customer(state, ctx.merchant_id, customer_id)
    return [render_mandate(m) for m in _mandates_of(state, ctx.merchant_id, customer_id)]


def render_mandate(mandate: Mandate) -> dict[str, Any]:
    card = mandate.card
    return {
        "mandate_id": mandate.mandate_id, "status": mandate.status,
        "payment_method_id": mandate.payment_method_id, "payment_method": "card",
        "payment_method_type": "credit",
        "card": {"last4_digits": card.last4, "card_exp_month": card.exp_month, "card_exp_year": card.exp_year,
                 "card_holder_name": card.holder_name, "card_token": None, "scheme": card.network,
                 "issuer_country": None, "card_fingerprint": None, "card_isin": card.isin,
                 "card_issuer": None, "card_network": card.network, "card_type": "CREDIT", "nick_name": None},
        "customer_acceptance": mandate.customer_acceptance,
    }


def set_behaviour(target: PaymentMethod | Mandate, outcome: str) -> None:
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}; expected one of: {BEHAVIOURS_HELP}")
    target.behaviour = outcome

