"""Payments: create (optionally confirming), confirm, retrieve, capture, cancel, list, and settlement.

Rules come from reference/hyperswitch.md §2 and the router's ``core/payments`` operations; every function
here runs under the state lock and returns the ``PaymentsResponse`` dict the router would send.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from . import cards, customers, errors, payment_links, refunds, schema, webhooks
from .model import CONNECTOR, Card, Mandate, Payment, PaymentMethod, RequestContext, iso, new_id
from .validation import (
    optional_bool,
    optional_enum,
    optional_id,
    optional_int,
    optional_list,
    optional_object,
    optional_str,
    required_enum,
    required_int,
)

if TYPE_CHECKING:
    from .state import SimulatorState

MAX_AMOUNT = 999_999_999  # consts::MAX_ALLOWED_AMOUNT
DEFAULT_SESSION_EXPIRY = 900  # seconds, DEFAULT_SESSION_EXPIRY
SESSION_EXPIRY_RANGE = (60, 7_890_000)
LIST_LIMIT_MAX = 100
UNIFIED_CODE, UNIFIED_MESSAGE = "UE_9000", "Something went wrong"  # the router's default unified error

# Request fields the response returns under the same name with the same schema.
ECHOED = ("description", "metadata", "billing", "shipping", "return_url", "authentication_type",
          "statement_descriptor_name", "statement_descriptor_suffix", "browser_info",
          "merchant_order_reference_id", "mit_category", "is_stored_credential", "frm_metadata",
          "connector_metadata", "email", "name", "phone", "payment_experience",
          "allowed_payment_method_types", "business_country", "business_label", "shipping_cost",
          "order_details", "request_extended_authorization", "force_3ds_challenge",
          "is_iframe_redirection_enabled", "enable_partial_authorization", "enable_overcapture")
CONFIRMABLE = ("requires_payment_method", "requires_confirmation")
CAPTURABLE = ("requires_capture", "partially_captured_and_capturable", "partially_authorized_and_requires_capture")
# payment_cancel.rs refuses these; the terminal ones are added so a final state never changes.
NOT_CANCELLABLE = ("failed", "succeeded", "cancelled", "processing", "requires_merchant_action", "review",
                   "cancelled_post_capture", "partially_captured", "expired")
SETTLEABLE = ("processing", "requires_customer_action")
MANUAL_CAPTURE = ("manual", "manual_multiple")


@dataclass
class Source:
    """Where the money comes from for one authorization."""

    card: Card | None
    outcome: str
    payment_method: PaymentMethod | None = None
    mandate: Mandate | None = None
    customer_initiated: bool = True  # a new card the customer typed (may be saved)


# -- create / confirm ------------------------------------------------------------------------

def create(state: SimulatorState, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
    supplied_id = optional_id(body, "payment_id")
    payment_id = supplied_id or new_id("pay")
    if supplied_id:
        # Counted before validation: a retry that fails still reached the router with this id.
        state.count_create_call(ctx.merchant_id, payment_id)
    request = _read_payment_request(body, creating=True)
    _validate_create(ctx, request)
    if state.payments.get((ctx.merchant_id, payment_id)) is not None:
        raise errors.duplicate_payment(payment_id)
    source = _resolve_source(state, ctx, request) if request["confirm"] else None
    payment = _new_payment(state, ctx, payment_id, request)
    state.payments[(ctx.merchant_id, payment_id)] = payment
    if not supplied_id:
        state.count_create_call(ctx.merchant_id, payment_id)
    if request["payment_link"]:
        _attach_link(state, ctx, payment, request)
    if source is not None:
        _authorize(state, ctx, payment, source)
    notify(state, payment)
    return render(state, payment)


def confirm(state: SimulatorState, ctx: RequestContext, payment_id: str, body: dict[str, Any]) -> dict[str, Any]:
    payment = get(state, ctx.merchant_id, payment_id)
    if payment.status not in CONFIRMABLE:
        raise errors.precondition_failed(f"You cannot confirm this payment because it has status {payment.status}")
    request = _read_payment_request(body, creating=False)
    request.update(confirm=True, customer_id=request["customer_id"] or payment.customer_id,
                   amount=payment.amount, currency=payment.currency)
    if payment.staged_card is not None and not _has_source(request):
        source = Source(*payment.staged_card)
    else:
        _validate_sources(request)
        source = _resolve_source(state, ctx, request)
    _merge_confirm_fields(payment, request)
    _authorize(state, ctx, payment, source)
    notify(state, payment)
    return render(state, payment)


def confirm_with_card(state: SimulatorState, ctx: RequestContext, payment: Payment, card_data: dict[str, Any],
                      customer_acceptance: dict[str, Any] | None) -> None:
    """The hosted payment-link page's confirm: a typed card and, when ticked, consent to save it."""
    card, outcome = cards.read_card({"card": card_data}, payment.merchant_id, state.clock())
    if customer_acceptance is not None:
        payment.customer_acceptance = customer_acceptance
    payment.payment_method, payment.payment_method_type = "card", "credit"
    _authorize(state, ctx, payment, Source(card, outcome))
    notify(state, payment)


def _read_payment_request(body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """The fields the simulator acts on, type-checked like serde would."""
    request = {
        "amount": required_int(body, "amount") if creating else optional_int(body, "amount"),
        "currency": (required_enum(body, "currency", schema.CURRENCIES) if creating
                     else optional_enum(body, "currency", schema.CURRENCIES)),
        "amount_to_capture": optional_int(body, "amount_to_capture"),
        "capture_method": optional_enum(body, "capture_method", schema.CAPTURE_METHODS),
        "confirm": bool(optional_bool(body, "confirm")),
        "customer_id": optional_id(body, "customer_id"),
        "customer": optional_object(body, "customer"),
        "off_session": optional_bool(body, "off_session"),
        "setup_future_usage": optional_enum(body, "setup_future_usage", schema.FUTURE_USAGES),
        "customer_acceptance": _customer_acceptance(optional_object(body, "customer_acceptance")),
        "mandate_data": optional_object(body, "mandate_data"),
        "mandate_id": optional_str(body, "mandate_id"),
        "recurring_details": _recurring_details(optional_object(body, "recurring_details")),
        "payment_method": optional_enum(body, "payment_method", schema.PAYMENT_METHODS),
        "payment_method_type": optional_str(body, "payment_method_type"),
        "payment_method_data": optional_object(body, "payment_method_data"),
        "payment_token": optional_str(body, "payment_token"),
        "payment_link": bool(optional_bool(body, "payment_link")),
        "session_expiry": optional_int(body, "session_expiry"),
        "return_url": optional_str(body, "return_url"),
        "description": optional_str(body, "description"),
        "metadata": optional_object(body, "metadata"),
        "authentication_type": optional_enum(body, "authentication_type", schema.AUTHENTICATION_TYPES),
        "order_details": optional_list(body, "order_details"),
    }
    if request["customer"] is not None:
        request["customer"]["id"] = optional_id(request["customer"], "id")
    if request["mandate_data"] is not None:
        acceptance = optional_object(request["mandate_data"], "customer_acceptance")
        request["mandate_data"]["customer_acceptance"] = _customer_acceptance(acceptance)
    request["echo"] = {key: body[key] for key in ECHOED if body.get(key) is not None}
    return request


def _customer_acceptance(acceptance: dict[str, Any] | None) -> dict[str, Any] | None:
    if acceptance is not None:
        required_enum(acceptance, "acceptance_type", schema.ACCEPTANCE_TYPES)
    return acceptance


def _recurring_details(details: dict[str, Any] | None) -> dict[str, Any] | None:
    if details is not None:
        required_enum(details, "type", schema.RECURRING_DETAIL_TYPES)
        if "data" not in details:
            raise errors.json_deserialize("missing field `data`")
        if details["type"] in ("mandate_id", "payment_method_id") and not isinstance(details["data"], str):
            raise errors.json_deserialize("invalid type: expected a string")
    return details


def _validate_create(ctx: RequestContext, request: dict[str, Any]) -> None:
    amount = request["amount"]
    if amount < 0:
        raise errors.invalid_data_format("amount", "positive integer")
    if amount > MAX_AMOUNT:
        raise errors.precondition_failed(f"amount should not be more than {MAX_AMOUNT}")
    to_capture = request["amount_to_capture"]
    if to_capture is not None and to_capture > amount:
        # The router's own suites see this one as 400 (cypress Commons.js InvalidAmountToCapture).
        raise errors.ApiError(400, "IR_05", "amount_to_capture contains invalid data. "
                                            "Expected format is amount_to_capture lesser than amount")
    if request["payment_link"]:
        _validate_payment_link(ctx, request)
    _validate_customer(request)
    _validate_sources(request)


def _validate_payment_link(ctx: RequestContext, request: dict[str, Any]) -> None:
    if request["confirm"]:
        raise errors.invalid_request_data("cannot confirm a payment while creating a payment link")
    if not (request["return_url"] or ctx.profile.return_url):
        raise errors.invalid_request_data("return_url must be sent while creating a payment link")
    expiry = request["session_expiry"]
    low, high = SESSION_EXPIRY_RANGE
    if expiry is not None and not low <= expiry <= high:
        raise errors.invalid_request_data(f"session_expiry should be between {low}(1 min) to {high}(3 months).")


def _validate_customer(request: dict[str, Any]) -> None:
    customer = request["customer"] or {}
    if customer.get("id") and request["customer_id"] and customer["id"] != request["customer_id"]:
        raise errors.precondition_failed("customer_id must match customer.id")
    request["customer_id"] = request["customer_id"] or customer.get("id")


def _validate_sources(request: dict[str, Any]) -> None:
    if request["mandate_data"] is not None and request["setup_future_usage"] != "off_session":
        raise errors.precondition_failed("`setup_future_usage` must be `off_session` for mandates")
    if _recurring_reference(request) is not None:
        _validate_recurring(request)
    if request["payment_method_data"] is not None:
        if request["payment_method"] is None:
            raise errors.missing_field("payment_method")
        if request["payment_method"] != "card" or "card" not in request["payment_method_data"]:
            raise errors.invalid_request_data("payment_method_data doesn't correspond to the specified payment_method")
    elif request["payment_method"] is not None and request["payment_token"] is None \
            and request["recurring_details"] is None:
        raise errors.missing_field("payment_method_data")
    if request["confirm"] and not _has_source(request):
        raise errors.missing_field("payment_method")


def _recurring_reference(request: dict[str, Any]) -> tuple[str, str] | None:
    """(kind, id) for a mandate or saved-payment-method MIT, the two kinds validate_recurring_mandate checks."""
    details = request["recurring_details"]
    if details is not None and details["type"] in ("mandate_id", "payment_method_id"):
        return details["type"], details["data"]
    if request["mandate_id"]:
        return "mandate_id", request["mandate_id"]
    return None


def _validate_recurring(request: dict[str, Any]) -> None:
    if not request["customer_id"]:
        raise errors.missing_field("customer_id")
    if not request["confirm"]:
        raise errors.precondition_failed("`confirm` must be `true` for mandates")
    if not request["off_session"]:
        raise errors.precondition_failed("`off_session` should be `true` for mandates")


def _has_source(request: dict[str, Any]) -> bool:
    return any(request[key] is not None for key in
               ("payment_method_data", "payment_token", "recurring_details", "mandate_id"))


# -- sources and authorization ---------------------------------------------------------------

def _resolve_source(state: SimulatorState, ctx: RequestContext, request: dict[str, Any]) -> Source:
    reference = _recurring_reference(request)
    if reference is not None and reference[0] == "mandate_id":
        return _mandate_source(state, ctx, request, reference[1])
    if reference is not None:
        return _saved_method_source(state, ctx, request["customer_id"], reference[1])
    if request["payment_token"] is not None:
        pm_id = state.payment_tokens.get(request["payment_token"])
        if pm_id is None:
            raise errors.ApiError(400, "IR_16", "payment_token is invalid or expired")
        return _saved_method_source(state, ctx, request["customer_id"], pm_id)
    details = request["recurring_details"]
    if details is not None:
        return _connector_agnostic_source(state, ctx, details)
    card, outcome = cards.read_card(request["payment_method_data"], ctx.merchant_id, state.clock())
    return Source(card, outcome)


def _saved_method_source(state: SimulatorState, ctx: RequestContext, customer_id: str | None,
                         pm_id: str) -> Source:
    pm = customers.get_payment_method(state, ctx.merchant_id, pm_id)
    if customer_id is not None and pm.customer_id != customer_id:
        raise errors.precondition_failed(
            "customer associated with payment method and customer passed in payment are not same")
    pm.last_used_at = state.clock()
    return Source(pm.card, pm.behaviour, payment_method=pm, customer_initiated=False)


def _mandate_source(state: SimulatorState, ctx: RequestContext, request: dict[str, Any], mandate_id: str) -> Source:
    mandate = customers.get_mandate(state, ctx.merchant_id, mandate_id)
    if mandate.status != "active":
        raise errors.precondition_failed("mandate is not active")
    if mandate.customer_id != request["customer_id"]:
        raise errors.precondition_failed("customer_id must match mandate customer_id")
    limits = _mandate_limits(mandate)
    if limits is not None:
        if request["currency"] is not None and request["currency"] != limits.get("currency"):
            raise errors.precondition_failed("cross currency mandates not supported")
        if request["amount"] is not None and request["amount"] > limits.get("amount", MAX_AMOUNT):
            raise errors.precondition_failed("amount is greater than the mandate amount")
    return Source(mandate.card, mandate.behaviour, mandate=mandate, customer_initiated=False)


def _mandate_limits(mandate: Mandate) -> dict[str, Any] | None:
    mandate_type = mandate.mandate_type or {}
    return mandate_type.get("single_use") or mandate_type.get("multi_use")


def _connector_agnostic_source(state: SimulatorState, ctx: RequestContext, details: dict[str, Any]) -> Source:
    data = details["data"]
    if details["type"] == "network_transaction_id_and_card_details" and isinstance(data, dict):
        card_data = {key: data[key] for key in ("card_number", "card_exp_month", "card_exp_year",
                                                "card_holder_name") if key in data}
        card, outcome = cards.read_card({"card": card_data}, ctx.merchant_id, state.clock())
        return Source(card, outcome, customer_initiated=False)
    if details["type"] == "processor_payment_token":
        return Source(None, "approve", customer_initiated=False)
    raise errors.ApiError(400, "IR_19", "Payment method type not supported",
                          reason=f"recurring_details type {details['type']} is not supported by the simulator")


def _new_payment(state: SimulatorState, ctx: RequestContext, payment_id: str, request: dict[str, Any]) -> Payment:
    now = state.clock()
    customer_id = request["customer_id"]
    if customer_id is not None:
        customers.ensure_customer(state, ctx.merchant_id, customer_id, request["customer"])
    payment = Payment(
        payment_id=payment_id, merchant_id=ctx.merchant_id, profile_id=ctx.profile.profile_id,
        amount=request["amount"], currency=request["currency"],
        status="requires_payment_method", capture_method=request["capture_method"] or "automatic",
        created=now, modified_at=now,
        client_secret=f"{payment_id}_secret_{secrets.token_hex(10)}",
        attempt_id=f"{payment_id}_1", attempt_status="payment_method_awaited", attempt_created=now,
        customer_id=customer_id, setup_future_usage=request["setup_future_usage"],
        off_session=request["off_session"], customer_acceptance=request["customer_acceptance"],
        mandate_data=request["mandate_data"], echo=request["echo"],
        amount_capturable=request["amount"],
    )
    if request["payment_method_data"] is not None and not request["confirm"]:
        payment.payment_method = request["payment_method"]
        payment.payment_method_type = request["payment_method_type"]
        payment.staged_card = cards.read_card(request["payment_method_data"], ctx.merchant_id, now)
        payment.status, payment.attempt_status = "requires_confirmation", "confirmation_awaited"
    return payment


def _merge_confirm_fields(payment: Payment, request: dict[str, Any]) -> None:
    for key in ("setup_future_usage", "off_session", "customer_acceptance", "mandate_data"):
        if request[key] is not None:
            setattr(payment, key, request[key])
    if request["capture_method"] is not None:
        payment.capture_method = request["capture_method"]
    payment.customer_id = request["customer_id"]
    payment.echo.update(request["echo"])


def _authorize(state: SimulatorState, ctx: RequestContext, payment: Payment, source: Source) -> None:
    now = state.clock()
    payment.modified_at = now
    payment.card = source.card
    payment.payment_method = "card"
    payment.payment_method_type = "credit" if source.card is not None else payment.payment_method_type
    payment.connector_transaction_id = new_id("pi", 24)
    payment.pending_save = _save_request(payment) if source.customer_initiated else None
    payment.staged_card = None
    _link_recurring_source(payment, source)
    outcome = cards.outcome(source.outcome)
    if outcome.kind == "approve":
        approve(state, payment)
    elif outcome.kind == "decline":
        decline(payment, outcome.error_code, outcome.error_message)
    elif outcome.kind == "processing":
        payment.status, payment.attempt_status = "processing", "pending"
    else:
        _require_authentication(ctx, payment)


def _link_recurring_source(payment: Payment, source: Source) -> None:
    if source.mandate is not None:
        payment.mandate_id = source.mandate.mandate_id
        payment.connector_mandate_id = source.mandate.connector_mandate_id
        payment.payment_method_id = source.mandate.payment_method_id
    elif source.payment_method is not None:
        payment.payment_method_id = source.payment_method.payment_method_id


def _save_request(payment: Payment) -> dict[str, Any] | None:
    """The card is saved only with customer_acceptance (tokenization.rs), for a known customer."""
    mandate_acceptance = (payment.mandate_data or {}).get("customer_acceptance")
    acceptance = payment.customer_acceptance or mandate_acceptance
    if acceptance is None or payment.customer_id is None:
        return None
    return {"acceptance": acceptance, "off_session": payment.setup_future_usage == "off_session",
            "with_mandate": payment.mandate_data is not None,
            "mandate_type": (payment.mandate_data or {}).get("mandate_type")}


def _require_authentication(ctx: RequestContext, payment: Payment) -> None:
    payment.status, payment.attempt_status = "requires_customer_action", "authentication_pending"
    url = f"{ctx.base_url}/payments/redirect/{payment.payment_id}/{payment.merchant_id}/{payment.attempt_id}"
    payment.next_action = {"type": "redirect_to_url", "redirect_to_url": url}


def approve(state: SimulatorState, payment: Payment) -> None:
    """The connector authorized: captured at once unless the capture is manual."""
    payment.next_action = None
    payment.manual_retry_allowed = False
    payment.modified_at = state.clock()
    if payment.capture_method in MANUAL_CAPTURE:
        payment.status, payment.attempt_status = "requires_capture", "authorized"
        payment.amount_capturable = payment.amount
    else:
        payment.status, payment.attempt_status = "succeeded", "charged"
        payment.amount_captured, payment.amount_capturable = payment.amount, 0
    if payment.pending_save is not None and payment.card is not None:
        customers.save_card(state, payment, payment.pending_save)
    payment.pending_save = None


def decline(payment: Payment, error_code: str | None, error_message: str | None) -> None:
    payment.status, payment.attempt_status = "failed", "failure"
    payment.next_action, payment.pending_save = None, None
    payment.amount_capturable = 0
    payment.error_code, payment.error_message = error_code, error_message
    payment.unified_code, payment.unified_message = UNIFIED_CODE, UNIFIED_MESSAGE
    payment.manual_retry_allowed = True


def complete_authentication(state: SimulatorState, payment: Payment, succeeded: bool) -> None:
    """The customer finished (or failed) the 3DS challenge behind ``next_action``."""
    if payment.status != "requires_customer_action":
        return
    if succeeded:
        approve(state, payment)
    else:
        decline(payment, "authentication_failed", "3DS authentication failed")
        payment.attempt_status = "authentication_failed"
    payment.modified_at = state.clock()
    notify(state, payment)


# -- payment links ---------------------------------------------------------------------------

def _attach_link(state: SimulatorState, ctx: RequestContext, payment: Payment, request: dict[str, Any]) -> None:
    expiry = request["session_expiry"] or ctx.profile.session_expiry or DEFAULT_SESSION_EXPIRY
    payment.expires_on = payment.created + timedelta(seconds=expiry)
    if not payment.echo.get("return_url") and ctx.profile.return_url:
        payment.echo["return_url"] = ctx.profile.return_url
    payment_links.create(state, ctx, payment)


# -- retrieve, capture, cancel, list -----------------------------------------------------------

def get(state: SimulatorState, merchant_id: str, payment_id: str) -> Payment:
    payment = state.payments.get((merchant_id, payment_id))
    if payment is None:
        raise errors.payment_not_found()
    return payment


def retrieve(state: SimulatorState, ctx: RequestContext, payment_id: str, *, force_sync: bool,
             expand_attempts: bool) -> dict[str, Any]:
    payment = get(state, ctx.merchant_id, payment_id)
    if force_sync:
        # A sync ends like every payment operation: the status's event, once (reference §6).
        notify(state, payment)
    return render(state, payment, expand_attempts=expand_attempts, with_refunds=True)


def capture(state: SimulatorState, ctx: RequestContext, payment_id: str, body: dict[str, Any]) -> dict[str, Any]:
    payment = get(state, ctx.merchant_id, payment_id)
    amount = optional_int(body, "amount_to_capture")
    if payment.status not in CAPTURABLE:
        raise errors.unexpected_state("captured", "payment.status", payment.status, ", ".join(CAPTURABLE))
    if payment.capture_method == "manual_multiple" and amount is None:
        raise errors.missing_field("amount_to_capture")
    amount = payment.amount_capturable if amount is None else amount
    if amount > payment.amount_capturable:
        raise errors.invalid_request_data("amount_to_capture is greater than amount")
    if amount <= 0:
        raise errors.invalid_data_format("amount_to_capture", "positive integer")
    _apply_capture(state, payment, amount)
    notify(state, payment)
    return render(state, payment)


def _apply_capture(state: SimulatorState, payment: Payment, amount: int) -> None:
    payment.amount_captured = (payment.amount_captured or 0) + amount
    payment.modified_at = state.clock()
    remaining = payment.amount - payment.amount_captured
    if remaining == 0:
        payment.status, payment.attempt_status, payment.amount_capturable = "succeeded", "charged", 0
    elif payment.capture_method == "manual_multiple":
        payment.status, payment.attempt_status = "partially_captured_and_capturable", "partial_charged_and_chargeable"
        payment.amount_capturable = remaining
    else:
        # A single partial capture releases the rest (cypress PartialCapture: partially_captured, capturable 0).
        payment.status, payment.attempt_status, payment.amount_capturable = "partially_captured", "partial_charged", 0


def cancel(state: SimulatorState, ctx: RequestContext, payment_id: str, body: dict[str, Any]) -> dict[str, Any]:
    payment = get(state, ctx.merchant_id, payment_id)
    reason = optional_str(body, "cancellation_reason")
    if payment.status in NOT_CANCELLABLE:
        raise errors.precondition_failed(f"You cannot cancel this payment because it has status {payment.status}")
    payment.status, payment.attempt_status = "cancelled", "voided"
    payment.cancellation_reason = reason
    payment.amount_capturable, payment.next_action, payment.pending_save = 0, None, None
    payment.modified_at = state.clock()
    notify(state, payment)
    return render(state, payment)


def list_payments(state: SimulatorState, ctx: RequestContext, query: dict[str, str]) -> dict[str, Any]:
    limit = _list_limit(query.get("limit"))
    found = [p for (merchant_id, _), p in state.payments.items() if merchant_id == ctx.merchant_id]
    found.sort(key=lambda p: p.created, reverse=True)
    found = [p for p in found if _matches_list_query(p, query)]
    found = _page(found, query.get("starting_after"), query.get("ending_before"))[:limit]
    return {"size": len(found), "data": [render(state, p) for p in found]}


def _list_limit(raw: str | None) -> int:
    try:
        limit = 10 if raw is None else int(raw)
    except ValueError:
        raise errors.json_deserialize("invalid digit found in string") from None
    if not 1 <= limit <= LIST_LIMIT_MAX:
        raise errors.invalid_request_data(f"limit should be in between 1 and {LIST_LIMIT_MAX}")
    return limit


_CREATED_FILTERS = {"created": "eq", "created_lt": "lt", "created_gt": "gt", "created_lte": "lte",
                    "created_gte": "gte", "created.lt": "lt", "created.gt": "gt", "created.lte": "lte",
                    "created.gte": "gte"}


def _matches_list_query(payment: Payment, query: dict[str, str]) -> bool:
    if query.get("customer_id") and payment.customer_id != query["customer_id"]:
        return False
    for name, op in _CREATED_FILTERS.items():
        if name in query and not _compare(payment.created, op, _parse_time(query[name])):
            return False
    return True


def _parse_time(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise errors.json_deserialize(f"invalid datetime: {raw}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare(moment: datetime, op: str, bound: datetime) -> bool:
    return {"eq": moment == bound, "lt": moment < bound, "gt": moment > bound,
            "lte": moment <= bound, "gte": moment >= bound}[op]


def _page(found: list[Payment], starting_after: str | None, ending_before: str | None) -> list[Payment]:
    ids = [p.payment_id for p in found]
    if starting_after in ids:
        found = found[ids.index(starting_after) + 1:]
    elif ending_before in ids:
        found = found[:ids.index(ending_before)]
    return found


# -- settlement (control) ----------------------------------------------------------------------

def settle(state: SimulatorState, payment: Payment, status: str, *, error_code: str | None = None,
           error_message: str | None = None, notify_merchant: bool = True) -> dict[str, Any]:
    """The connector's final answer for a ``processing`` (or abandoned 3DS) payment."""
    if payment.status not in SETTLEABLE:
        raise ValueError(f"payment {payment.payment_id} is {payment.status}; only {SETTLEABLE} can be settled")
    if status == "succeeded":
        approve(state, payment)
    elif status == "failed":
        declined = cards.outcome("decline")
        decline(payment, error_code or declined.error_code, error_message or declined.error_message)
    else:
        raise ValueError("status must be 'succeeded' or 'failed'")
    if notify_merchant:
        notify(state, payment)
    return render(state, payment)


# -- webhooks and rendering --------------------------------------------------------------------

def notify(state: SimulatorState, payment: Payment) -> None:
    """Emit the event of the payment's current status, if it has one and the profile wants it."""
    state.emit_for_status(merchant_id=payment.merchant_id, profile_id=payment.profile_id,
                          object_id=payment.payment_id, status=payment.status, events=webhooks.PAYMENT_EVENTS,
                          statuses_enabled="payment_statuses_enabled", content_type="payment_details",
                          render=lambda: render(state, payment))


def render(state: SimulatorState, payment: Payment, *, expand_attempts: bool = False,
           with_refunds: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = dict.fromkeys(schema.PAYMENTS_RESPONSE_KEYS)
    response.update({key: value for key, value in payment.echo.items() if key in response})
    confirmed = payment.connector_transaction_id is not None
    response.update({
        "payment_id": payment.payment_id, "merchant_id": payment.merchant_id, "status": payment.status,
        "amount": payment.amount, "net_amount": payment.amount + (payment.echo.get("shipping_cost") or 0),
        "amount_capturable": payment.amount_capturable, "amount_received": payment.amount_captured,
        "processor_merchant_id": payment.merchant_id, "client_secret": payment.client_secret,
        "created": iso(payment.created), "modified_at": iso(payment.modified_at), "updated": iso(payment.modified_at),
        "currency": payment.currency, "customer_id": payment.customer_id,
        "customer": customers.details_for_payment(state, payment),
        "mandate_id": payment.mandate_id, "mandate_data": payment.mandate_data,
        "setup_future_usage": payment.setup_future_usage, "off_session": payment.off_session,
        "capture_method": payment.capture_method, "payment_method": payment.payment_method,
        "payment_method_type": payment.payment_method_type,
        "payment_method_data": _card_response(payment.card),
        "next_action": payment.next_action, "cancellation_reason": payment.cancellation_reason,
        "error_code": payment.error_code, "error_message": payment.error_message,
        "unified_code": payment.unified_code, "unified_message": payment.unified_message,
        "manual_retry_allowed": payment.manual_retry_allowed,
        "connector": CONNECTOR if confirmed else None,
        "connector_transaction_id": payment.connector_transaction_id,
        "merchant_connector_id": _connector_account(state, payment) if confirmed else None,
        "profile_id": payment.profile_id, "attempt_count": 1,
        "payment_link": _link_response(state, payment), "expires_on": iso(payment.expires_on),
        "payment_method_id": payment.payment_method_id,
        "payment_method_status": "active" if payment.payment_method_id else None,
        "network_transaction_id": payment.network_transaction_id,
        "connector_mandate_id": payment.connector_mandate_id,
    })
    if expand_attempts:
        response["attempts"] = [_attempt(payment)]
    if with_refunds:
        response["refunds"] = _refunds_of(state, payment)
    return response


def _card_response(card: Card | None) -> dict[str, Any] | None:
    if card is None:
        return None
    return {"card": {"last4": card.last4, "card_type": "CREDIT", "card_network": card.network,
                     "card_issuer": None, "card_issuing_country": None, "card_isin": card.isin,
                     "card_extended_bin": None, "card_exp_month": card.exp_month,
                     "card_exp_year": card.exp_year, "card_holder_name": card.holder_name,
                     "payment_checks": None, "authentication_data": None, "auth_code": None},
            "billing": None}


def _connector_account(state: SimulatorState, payment: Payment) -> str | None:
    profile = state.profile(payment.merchant_id, payment.profile_id)
    return profile.merchant_connector_id if profile else None


def _link_response(state: SimulatorState, payment: Payment) -> dict[str, Any] | None:
    link = state.payment_links.get(payment.payment_link_id) if payment.payment_link_id else None
    if link is None:
        return None
    return {"link": link.link, "secure_link": None, "payment_link_id": link.payment_link_id}


def _attempt(payment: Payment) -> dict[str, Any]:
    return {
        "attempt_id": payment.attempt_id, "status": payment.attempt_status, "amount": payment.amount,
        "order_tax_amount": None, "currency": payment.currency,
        "connector": CONNECTOR if payment.connector_transaction_id else None,
        "error_message": payment.error_message, "payment_method": payment.payment_method,
        "connector_transaction_id": payment.connector_transaction_id,
        "capture_method": payment.capture_method, "authentication_type": payment.echo.get("authentication_type"),
        "created_at": iso(payment.attempt_created), "modified_at": iso(payment.modified_at),
        "cancellation_reason": payment.cancellation_reason, "mandate_id": payment.mandate_id,
        "error_code": payment.error_code, "payment_token": None, "connector_metadata": None,
        "payment_experience": None, "payment_method_type": payment.payment_method_type,
        "reference_id": None, "unified_code": payment.unified_code, "unified_message": payment.unified_message,
        "client_source": None, "client_version": None, "error_details": None,
    }


def _refunds_of(state: SimulatorState, payment: Payment) -> list[dict[str, Any]] | None:
    found = refunds.of_payment(state, payment.merchant_id, payment.payment_id)
    return [refunds.render(refund) for refund in found] or None
