"""Payment links (reference/hyperswitch.md §5) and the hosted pages a browser completes.

``link`` is ``{base}/payment_link/{merchant_id}/{payment_id}?locale=en``; its page takes a card and
confirms the payment. A payment that needs 3DS sends the browser to ``next_action.redirect_to_url``,
the simulated challenge page. Both end by redirecting to the payment's ``return_url`` with the query the
router adds (``make_merchant_url_with_response``), signed when the profile enables the response hash.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from . import errors, payments
from .model import Payment, PaymentLink, Profile, RequestContext, iso, new_id

if TYPE_CHECKING:
    from .state import SimulatorState

PAYABLE = ("requires_payment_method", "requires_confirmation")


def create(state: SimulatorState, ctx: RequestContext, payment: Payment) -> PaymentLink:
    link = PaymentLink(
        payment_link_id=new_id("plink"), merchant_id=ctx.merchant_id, payment_id=payment.payment_id,
        link=f"{ctx.base_url}/payment_link/{ctx.merchant_id}/{payment.payment_id}?locale=en",
        amount=payment.amount, currency=payment.currency, created_at=payment.created,
        fulfilment_time=payment.expires_on or payment.created + timedelta(seconds=payments.DEFAULT_SESSION_EXPIRY),
        description=payment.echo.get("description"),
    )
    state.payment_links[link.payment_link_id] = link
    payment.payment_link_id = link.payment_link_id
    return link


def status_of(state: SimulatorState, link: PaymentLink) -> str:
    """Only time decides it (check_payment_link_status); a paid link is still "active"."""
    return "expired" if state.clock() > link.fulfilment_time else "active"


def retrieve(state: SimulatorState, payment_link_id: str) -> dict[str, Any]:
    # Looked up by id alone, not scoped to the caller's merchant, like the router (reference §5).
    link = state.payment_links.get(payment_link_id)
    if link is None:
        raise errors.payment_link_not_found()
    return {"payment_link_id": link.payment_link_id, "merchant_id": link.merchant_id,
            "processor_merchant_id": link.merchant_id, "link_to_pay": link.link, "amount": link.amount,
            "created_at": iso(link.created_at), "expiry": iso(link.fulfilment_time),
            "description": link.description, "status": status_of(state, link), "currency": link.currency,
            "secure_link": None}


def page_payment(state: SimulatorState, merchant_id: str, payment_id: str) -> tuple[Payment, PaymentLink]:
    payment = state.payments.get((merchant_id, payment_id))
    link = state.payment_links.get(payment.payment_link_id) if payment and payment.payment_link_id else None
    if payment is None or link is None:
        raise errors.payment_link_not_found()
    return payment, link


def pay(state: SimulatorState, ctx: RequestContext, payment: Payment, link: PaymentLink,
        form: dict[str, str], client: dict[str, str]) -> None:
    """The page's "Pay" button: confirm with the typed card; a ticked box is the customer's consent."""
    if status_of(state, link) == "expired":
        raise errors.precondition_failed("The payment link has expired")
    if payment.status not in PAYABLE:
        raise errors.precondition_failed(f"You cannot confirm this payment because it has status {payment.status}")
    card = {key: form.get(key, "").strip() for key in
            ("card_number", "card_exp_month", "card_exp_year", "card_holder_name", "card_cvc")}
    acceptance = None
    if form.get("save_card") and payment.customer_id:
        acceptance = {"acceptance_type": "online", "accepted_at": iso(state.clock()),
                      "online": {"ip_address": client.get("ip_address", ""),
                                 "user_agent": client.get("user_agent", "")}}
    payments.confirm_with_card(state, ctx, payment, card, acceptance)


def return_url(profile: Profile, payment: Payment) -> str | None:
    """Where the browser goes once the payment has its answer."""
    base = payment.echo.get("return_url") or profile.return_url
    if not base:
        return None
    retry_allowed = str(bool(payment.manual_retry_allowed)).lower()
    params = [("status", payment.status), ("payment_intent_client_secret", payment.client_secret),
              ("amount", str(payment.amount)), ("manual_retry_allowed", retry_allowed)]
    url = _with_query(base, params)
    if profile.enable_payment_response_hash:
        url = _signed(url, profile.payment_response_hash_key)
    return url


def _with_query(url: str, params: list[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + params
    return urlunsplit(parts._replace(query=urlencode(query)))


def _signed(url: str, key: str) -> str:
    """``signature`` = HMAC-SHA512 hex over the sorted query, ``signature_algorithm`` (make_url_with_signature)."""
    parts = urlsplit(url)
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    payload = "&".join(f"{name}={value}" for name, value in query)
    signature = hmac.new(key.encode("utf-8"), payload.encode("utf-8"), hashlib.sha512).hexdigest()
    return _with_query(url, [("signature", signature), ("signature_algorithm", "HMAC-SHA512")])
