"""Payouts: create (optionally confirming and fulfilling), confirm, fulfill, retrieve, cancel, list, and
settlement of pending ones (``core/payouts`` of the router; reference/hyperswitch.md §6 for the events).

A payout goes to a customer's saved payment method (``payout_method_id``, which needs ``confirm=true``),
a ``payout_token`` from the customer's payment-method list, or raw card or bank data. Statuses follow the
router: without a payout method ``requires_payout_method_data``; with one but unconfirmed
``requires_confirmation``; confirmed, the connector creates it (``requires_fulfillment``), or refuses the
card (``ineligible``); fulfilled (at once with ``auto_fulfill``) it ends ``success``, ``failed``, or stays
``pending``/``initiated`` until control settles it.

What the connector answers is the payout's outcome: the one set through control for the payout method
(or for all of the merchant's payouts), else the test card's (decline cards fail, the processing card
stays pending), else ``success``.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from . import cards, customers, errors, schema, webhooks
from .model import Card, Payout, RequestContext, iso, new_id
from .validation import (
    check_fields,
    optional_bool,
    optional_enum,
    optional_id,
    optional_int,
    optional_list,
    optional_object,
    optional_str,
)

if TYPE_CHECKING:
    from .state import SimulatorState

PAYOUT_CONNECTOR = "adyen"  # a payout connector (PayoutConnectors); the dummy connectors have no payouts
OUTCOMES = ("success", "pending", "initiated", "failed", "ineligible")
LIST_LIMIT_MAX = 100  # common_utils::consts::PAYOUTS_LIST_MAX_LIMIT_GET
DECLINED = ("payout_declined", "The payout was declined by the connector")
INELIGIBLE = ("payout_ineligible", "The payout method is not eligible for payouts")
# core/payouts helpers: final statuses, and those cancelled locally without the connector.
TERMINAL = ("success", "failed", "cancelled", "ineligible", "expired", "reversed")
LOCALLY_CANCELLABLE = ("requires_creation", "requires_confirmation", "requires_payout_method_data",
                       "requires_vendor_account_creation")
CONFIRMABLE = ("requires_confirmation", "requires_payout_method_data", "requires_creation")
SETTLEABLE = ("pending", "initiated")
# Request fields the response returns under the same name with the same schema.
ECHOED = ("merchant_order_reference_id", "billing", "return_url", "business_country", "business_label",
          "description", "metadata", "priority")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CARD_OUTCOMES = {"decline": "failed", "insufficient_funds": "failed", "lost_card": "failed",
                  "stolen_card": "failed", "processing": "pending"}


# -- reading the request ---------------------------------------------------------------------------

def _read_request(body: dict[str, Any]) -> dict[str, Any]:
    """The fields the simulator acts on, type-checked like serde would (PayoutCreateRequest)."""
    request = {
        "merchant_id": optional_str(body, "merchant_id"),
        "amount": optional_int(body, "amount"),
        "currency": optional_enum(body, "currency", schema.CURRENCIES),
        "confirm": optional_bool(body, "confirm"),
        "auto_fulfill": optional_bool(body, "auto_fulfill"),
        "payout_type": optional_enum(body, "payout_type", schema.PAYOUT_TYPES),
        "payout_method_data": optional_object(body, "payout_method_data"),
        "payout_method_id": optional_str(body, "payout_method_id"),
        "payout_token": optional_str(body, "payout_token"),
        "customer_id": optional_id(body, "customer_id"),
        "customer": optional_object(body, "customer"),
        "entity_type": optional_enum(body, "entity_type", schema.PAYOUT_ENTITY_TYPES),
        "recurring": optional_bool(body, "recurring"),
        "payout_link": optional_bool(body, "payout_link"),
        "priority": optional_enum(body, "priority", schema.PAYOUT_PRIORITIES),
        "connector": optional_list(body, "connector"),
    }
    for key in ("description", "return_url", "business_label", "merchant_order_reference_id", "client_secret",
                "email", "name", "phone", "phone_country_code", "profile_id"):
        request[key] = optional_str(body, key)
    for key in ("metadata", "billing", "browser_info", "routing", "source_bank_data"):
        optional_object(body, key)
    country = optional_str(body, "business_country")
    if country is not None and not _COUNTRY.match(country):
        raise errors.json_deserialize(f"unknown variant `{country}`, expected a CountryAlpha2")
    if request["customer"] is not None:
        request["customer"]["id"] = optional_id(request["customer"], "id")
    request["echo"] = {key: body[key] for key in ECHOED if body.get(key) is not None}
    return request


# -- create / confirm / fulfill --------------------------------------------------------------------

def create(state: SimulatorState, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
    supplied_id = optional_id(body, "payout_id")
    payout_id = supplied_id or new_id("payout")
    if supplied_id:
        # Counted before validation: a retry that fails still reached the router with this id.
        state.count_payout_create_call(ctx.merchant_id, payout_id)
    request = _read_request(body)
    # validator.rs validate_create_request, in its order.
    if request["payout_method_id"] is not None and request["confirm"] is not True:
        raise errors.invalid_request_data("Confirm must be true for recurring payouts")
    if request["payout_link"]:
        _refuse_payout_link(request)
    if request["merchant_id"] is not None and request["merchant_id"] != ctx.merchant_id:
        raise errors.invalid_data_format("merchant_id", "merchant_id from merchant account")
    if (ctx.merchant_id, payout_id) in state.payouts:
        raise errors.duplicate_payout(payout_id)
    amount, currency = request["amount"], request["currency"]
    if amount is None:
        raise errors.missing_field("amount")
    if amount < 0:
        raise errors.invalid_data_format("amount", "positive integer")
    if currency is None:
        raise errors.missing_field("currency")
    customer_id = _customer_id(state, ctx, request)
    method = _payout_method(state, ctx, request, customer_id)
    if request["confirm"] and method is None:
        raise errors.missing_field("payout_method_data")
    payout = _new_payout(state, ctx, payout_id, request, customer_id, method)
    state.payouts[(ctx.merchant_id, payout_id)] = payout
    if not supplied_id:
        state.count_payout_create_call(ctx.merchant_id, payout_id)
    if request["confirm"]:
        _send_to_connector(state, payout)
    notify(state, payout)
    return render(state, payout)


def _refuse_payout_link(request: dict[str, Any]) -> None:
    if request["confirm"]:
        raise errors.invalid_request_data("cannot confirm a payout while creating a payout link")
    if request["customer_id"] is None:
        raise errors.missing_field("customer or customer_id when payout_link is true")
    raise errors.ApiError(400, "IR_19", "Payout links are not supported",
                          reason="the simulator does not serve payout links")


def _customer_id(state: SimulatorState, ctx: RequestContext, request: dict[str, Any]) -> str | None:
    """customer_id or customer.id; a payout naming an unknown customer creates it (get_or_create)."""
    customer = request["customer"] or {}
    customer_id = request["customer_id"] or customer.get("id")
    if customer.get("id") and request["customer_id"] and customer["id"] != request["customer_id"]:
        raise errors.precondition_failed("customer_id must match customer.id")
    if customer_id is None:
        return None
    details = {key: customer.get(key) or request.get(key) for key in ("name", "email", "phone", "phone_country_code")}
    customers.ensure_customer(state, ctx.merchant_id, customer_id, details)
    return customer_id


def _payout_method(state: SimulatorState, ctx: RequestContext, request: dict[str, Any],
                   customer_id: str | None) -> dict[str, Any] | None:
    """The payout method of the request: {type, card | bank, payment_method_id, outcome}, or None."""
    pm_id, token = request["payout_method_id"], request["payout_token"]
    if pm_id is not None and token is not None:
        raise errors.invalid_request_data("Only one of payout_method_id or payout_token should be provided.")
    if pm_id is not None:
        if customer_id is None:
            raise errors.missing_field("customer_id when payment_method_id is passed")
        return _saved_method(state, ctx, pm_id, customer_id)
    if token is not None:
        if customer_id is None:
            raise errors.missing_field("customer or customer_id when payout_token is provided")
        resolved = state.payment_tokens.get(token)
        if resolved is None:
            raise errors.invalid_request_data("payout_token is invalid or expired")
        return _saved_method(state, ctx, resolved, customer_id)
    data = request["payout_method_data"]
    if data is None:
        return None
    return _method_data(state, ctx, data)


def _saved_method(state: SimulatorState, ctx: RequestContext, pm_id: str, customer_id: str) -> dict[str, Any]:
    pm = customers.get_payment_method(state, ctx.merchant_id, pm_id)
    if pm.customer_id != customer_id:
        raise errors.invalid_request_data("Payment method does not belong to this customer_id")
    pm.last_used_at = state.clock()
    return {"type": "card", "card": pm.card, "payment_method_id": pm.payment_method_id,
            "outcome": state.payout_outcome(ctx.merchant_id, pm.payment_method_id)}


def _method_data(state: SimulatorState, ctx: RequestContext, data: dict[str, Any]) -> dict[str, Any]:
    if len(data) != 1:
        raise errors.json_deserialize("expected a map with a single key (card, bank, wallet, ...)")
    (kind, value), = data.items()
    if not isinstance(value, dict):
        raise errors.json_deserialize(f"invalid type for `{kind}`, expected a map")
    explicit = state.payout_outcome(ctx.merchant_id, None, default=None)
    if kind == "card":
        check_fields(value, schema.PAYOUT_CARD_FIELDS)
        card_data = {"card_number": value.get("card_number"), "card_exp_month": value.get("expiry_month"),
                     "card_exp_year": value.get("expiry_year"), "card_holder_name": value.get("card_holder_name")}
        card, card_outcome = cards.read_card({"card": card_data}, ctx.merchant_id, state.clock())
        return {"type": "card", "card": card, "payment_method_id": None,
                "outcome": explicit or _CARD_OUTCOMES.get(card_outcome, "success")}
    if kind == "bank":
        return {"type": "bank", "bank": _masked_bank(value), "payment_method_id": None,
                "outcome": explicit or "success"}
    raise errors.ApiError(400, "IR_19", "Payout method type not supported",
                          reason=f"the simulator pays out to card or bank, not {kind}")


_BANK_VARIANTS = (  # (key that tells the variant, required keys, response keys in spec order)
    ("bank_routing_number", ("bank_account_number", "bank_routing_number"),
     ("bank_account_number", "bank_routing_number", "bank_name", "bank_country_code", "bank_city",
      "account_holder_name")),
    ("bank_sort_code", ("bank_account_number", "bank_sort_code"),
     ("bank_sort_code", "bank_account_number", "bank_name", "bank_country_code", "bank_city",
      "account_holder_name")),
    ("iban", ("iban",), ("iban", "bank_name", "bank_country_code", "bank_city", "bic", "account_holder_name")),
)
_MASKED = {"bank_account_number", "bank_routing_number", "bank_sort_code", "iban"}


def _masked_bank(value: dict[str, Any]) -> dict[str, Any]:
    """The untagged Bank enum: ACH, BACS or SEPA, by its fields; returned masked."""
    for marker, required, keys in _BANK_VARIANTS:
        if marker in value:
            for key in required:
                if not isinstance(value.get(key), str) or not value[key]:
                    raise errors.json_deserialize(f"missing field `{key}`")
            return {key: _mask(value[key]) if key in _MASKED and value.get(key) else value.get(key)
                    for key in keys}
    raise errors.json_deserialize("data did not match any variant of untagged enum Bank")


def _mask(value: str) -> str:
    keep = 6 if len(value) > 12 else 2
    return value[:keep] + "*" * max(len(value) - 2 * keep, 4) + value[-keep:]


def _new_payout(state: SimulatorState, ctx: RequestContext, payout_id: str, request: dict[str, Any],
                customer_id: str | None, method: dict[str, Any] | None) -> Payout:
    now = state.clock()
    payout = Payout(
        payout_id=payout_id, merchant_id=ctx.merchant_id, profile_id=ctx.profile.profile_id,
        amount=request["amount"], currency=request["currency"],
        status="requires_payout_method_data", created=now, modified_at=now,
        client_secret=f"payout_{payout_id}_secret_" + "".join(
            secrets.choice(string.ascii_letters + string.digits) for _ in range(20)),
        attempt_id=f"{payout_id}_1", outcome="success", customer_id=customer_id,
        payout_type=request["payout_type"], auto_fulfill=bool(request["auto_fulfill"]),
        entity_type=request["entity_type"] or "Individual", recurring=bool(request["recurring"]),
        echo=request["echo"],
    )
    if method is not None:
        _attach_method(payout, method)
    return payout


def _attach_method(payout: Payout, method: dict[str, Any]) -> None:
    payout.payout_type = payout.payout_type or method["type"]
    payout.card, payout.bank = method.get("card"), method.get("bank")
    payout.payout_method_id = method["payment_method_id"]
    payout.outcome = method["outcome"]
    payout.status = "requires_confirmation"


def _send_to_connector(state: SimulatorState, payout: Payout) -> None:
    """Confirm: eligibility, then creation at the connector; with auto_fulfill, the fulfillment too."""
    payout.modified_at = state.clock()
    if payout.outcome == "ineligible":
        _fail(payout, "ineligible", INELIGIBLE)
        return
    payout.connector_transaction_id = new_id("po", 24)
    payout.status = "requires_fulfillment"
    if payout.auto_fulfill:
        _fulfill_at_connector(state, payout)


def _fulfill_at_connector(state: SimulatorState, payout: Payout) -> None:
    payout.modified_at = state.clock()
    if payout.outcome == "failed":
        _fail(payout, "failed", DECLINED)
    else:
        payout.status = payout.outcome


def _fail(payout: Payout, status: str, error: tuple[str, str]) -> None:
    payout.status = status
    payout.error_code, payout.error_message = error
    payout.unified_code, payout.unified_message = "UE_9000", "Something went wrong"


def confirm(state: SimulatorState, ctx: RequestContext, payout_id: str, body: dict[str, Any]) -> dict[str, Any]:
    payout = get(state, ctx.merchant_id, payout_id)
    if payout.status not in CONFIRMABLE:
        raise errors.payout_not_allowed(payout_id, "confirmed", payout.status)
    request = _read_request(body)
    request["customer_id"] = request["customer_id"] or payout.customer_id
    if request["payout_token"] or request["payout_method_id"] or request["payout_method_data"]:
        _attach_method(payout, _payout_method(state, ctx, request, request["customer_id"]))
    elif payout.status == "requires_payout_method_data":
        raise errors.missing_field("payout_method_data")
    if request["auto_fulfill"] is not None:
        payout.auto_fulfill = request["auto_fulfill"]
    payout.echo.update(request["echo"])
    _send_to_connector(state, payout)
    notify(state, payout)
    return render(state, payout)


def fulfill(state: SimulatorState, ctx: RequestContext, payout_id: str) -> dict[str, Any]:
    payout = get(state, ctx.merchant_id, payout_id)
    if payout.status != "requires_fulfillment":
        raise errors.payout_not_allowed(payout_id, "fulfilled", payout.status)
    _fulfill_at_connector(state, payout)
    notify(state, payout)
    return render(state, payout)


# -- retrieve, cancel, list --------------------------------------------------------------------------

def get(state: SimulatorState, merchant_id: str, payout_id: str) -> Payout:
    payout = state.payouts.get((merchant_id, payout_id))
    if payout is None:
        raise errors.payout_not_found()
    return payout


def retrieve(state: SimulatorState, ctx: RequestContext, payout_id: str, *, force_sync: bool) -> dict[str, Any]:
    payout = get(state, ctx.merchant_id, payout_id)
    if force_sync:
        notify(state, payout)
    return render(state, payout)


def cancel(state: SimulatorState, ctx: RequestContext, payout_id: str) -> dict[str, Any]:
    """Local cancellation before the connector has it; otherwise the connector's cancel."""
    payout = get(state, ctx.merchant_id, payout_id)
    if payout.status in TERMINAL:
        raise errors.payout_not_allowed(payout_id, "cancelled", payout.status)
    payout.status, payout.modified_at = "cancelled", state.clock()
    payout.cancellation_reason = "cancelled by the merchant"
    notify(state, payout)
    return render(state, payout)


def list_payouts(state: SimulatorState, ctx: RequestContext, query: dict[str, str]) -> dict[str, Any]:
    for key in query:
        if key not in schema.PAYOUT_LIST_QUERY:
            expected = ", ".join(f"`{name}`" for name in schema.PAYOUT_LIST_QUERY)
            raise errors.json_deserialize(f"unknown field `{key}`, expected one of {expected}")
    limit = _list_limit(query.get("limit"))
    found = [p for (merchant_id, _), p in state.payouts.items() if merchant_id == ctx.merchant_id]
    found.sort(key=lambda p: p.created, reverse=True)
    if query.get("customer_id"):
        found = [p for p in found if p.customer_id == query["customer_id"]]
    if query.get("created"):
        found = [p for p in found if iso(p.created) == iso(_parse_time(query["created"]))]
    total = len(found)
    ids = [p.payout_id for p in found]
    if query.get("starting_after") in ids:
        found = found[ids.index(query["starting_after"]) + 1:]
    elif query.get("ending_before") in ids:
        found = found[:ids.index(query["ending_before"])]
    page = found[:limit]
    return {"size": len(page), "data": [render(state, p) for p in page], "total_count": total}


def _list_limit(raw: str | None) -> int:
    try:
        limit = 10 if raw is None else int(raw)
    except ValueError:
        raise errors.json_deserialize("invalid digit found in string") from None
    if not 1 <= limit <= LIST_LIMIT_MAX:
        raise errors.invalid_request_data(f"limit should be in between 1 and {LIST_LIMIT_MAX}")
    return limit


def _parse_time(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise errors.json_deserialize(f"invalid datetime: {raw}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- settlement (control) ---------------------------------------------------------------------------

def settle(state: SimulatorState, payout: Payout, status: str, *, error_code: str | None = None,
           error_message: str | None = None, notify_merchant: bool = True) -> dict[str, Any]:
    """The connector's final answer for a ``pending`` or ``initiated`` payout."""
    if payout.status not in SETTLEABLE:
        raise ValueError(f"payout {payout.payout_id} is {payout.status}; only {SETTLEABLE} can be settled")
    if status == "success":
        payout.status = "success"
    elif status in ("failed", "expired", "reversed"):
        _fail(payout, status, (error_code or DECLINED[0], error_message or DECLINED[1]))
    else:
        raise ValueError("status must be 'success', 'failed', 'expired' or 'reversed'")
    payout.modified_at = state.clock()
    if notify_merchant:
        notify(state, payout)
    return render(state, payout)


# -- webhooks and rendering ------------------------------------------------------------------------

def notify(state: SimulatorState, payout: Payout) -> None:
    """Emit the event of the payout's current status, if it has one and the profile wants it."""
    state.emit_for_status(merchant_id=payout.merchant_id, profile_id=payout.profile_id,
                          object_id=payout.payout_id, status=payout.status, events=webhooks.PAYOUT_EVENTS,
                          statuses_enabled="payout_statuses_enabled", content_type="payout_details",
                          render=lambda: render(state, payout))


def render(state: SimulatorState, payout: Payout) -> dict[str, Any]:
    response: dict[str, Any] = dict.fromkeys(schema.PAYOUT_RESPONSE_KEYS)
    response.update(payout.echo)
    customer = _customer_details(state, payout)
    sent = payout.connector_transaction_id is not None
    response.update({
        "payout_id": payout.payout_id, "merchant_id": payout.merchant_id, "amount": payout.amount,
        "currency": payout.currency, "connector": PAYOUT_CONNECTOR if sent else None,
        "payout_type": payout.payout_type, "payout_method_data": _method_response(payout),
        "auto_fulfill": payout.auto_fulfill, "customer_id": payout.customer_id, "customer": customer,
        "client_secret": payout.client_secret, "entity_type": payout.entity_type,
        "recurring": payout.recurring, "merchant_connector_id": _connector_account(state, payout) if sent else None,
        "status": payout.status, "error_message": payout.error_message, "error_code": payout.error_code,
        "profile_id": payout.profile_id, "created": iso(payout.created),
        "connector_transaction_id": payout.connector_transaction_id,
        "unified_code": payout.unified_code, "unified_message": payout.unified_message,
        "payout_method_id": payout.payout_method_id,
    })
    if customer is not None:
        response.update({"email": customer["email"], "name": customer["name"], "phone": customer["phone"],
                         "phone_country_code": customer["phone_country_code"]})
    return response


def _customer_details(state: SimulatorState, payout: Payout) -> dict[str, Any] | None:
    if payout.customer_id is None:
        return None
    customer = state.customers.get((payout.merchant_id, payout.customer_id))
    fields = customer.fields if customer else {}
    return {"id": payout.customer_id, "name": fields.get("name"), "email": fields.get("email"),
            "phone": fields.get("phone"), "phone_country_code": fields.get("phone_country_code")}


def _method_response(payout: Payout) -> dict[str, Any] | None:
    if payout.card is not None:
        return {"card": _card_response(payout.card)}
    if payout.bank is not None:
        return {"bank": dict(payout.bank)}
    return None


def _card_response(card: Card) -> dict[str, Any]:
    """CardAdditionalData: the masked card."""
    return {"card_issuer": None, "card_network": card.network, "card_type": "CREDIT",
            "card_issuing_country": None, "bank_code": None, "last4": card.last4, "card_isin": card.isin,
            "card_extended_bin": None, "card_exp_month": card.exp_month, "card_exp_year": card.exp_year,
            "card_holder_name": card.holder_name or ""}


def _connector_account(state: SimulatorState, payout: Payout) -> str | None:
    profile = state.profile(payout.merchant_id, payout.profile_id)
    return profile.merchant_connector_id if profile else None
