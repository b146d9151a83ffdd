"""Routes: payment links (the JSON retrieve and the hosted page) and the simulated 3DS challenge page.

The pages are plain HTML forms, so a browser or a plain HTTP form post completes them; every answer ends
with a 303 to the next page or to the merchant's ``return_url``.
"""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, Response, redirect, render_template, request

from .. import errors, payment_links, payments, schema
from ..model import Payment, PaymentLink, RequestContext
from ..state import SimulatorState
from .common import base_url, context, respond


def blueprint(state: SimulatorState) -> Blueprint:
    bp = Blueprint("hs_pages", __name__, template_folder="../templates")

    @bp.get("/payment_link/<payment_link_id>")
    def retrieve_link(payment_link_id: str) -> Response:
        context(state)
        with state.lock:
            return respond(payment_links.retrieve(state, payment_link_id))

    @bp.route("/payment_link/<merchant_id>/<payment_id>", methods=["GET", "POST"])
    def hosted_link(merchant_id: str, payment_id: str) -> Response | tuple[str, int]:
        with state.lock:
            try:
                payment, link = payment_links.page_payment(state, merchant_id, payment_id)
            except errors.ApiError as exc:
                return _status_page("Payment link not found", exc.message, 404)
            if request.method == "POST":
                return _submit_link(state, payment, link)
            return _link_page(state, payment, link)

    @bp.route("/payments/redirect/<payment_id>/<merchant_id>/<attempt_id>", methods=["GET", "POST"])
    def challenge(payment_id: str, merchant_id: str, attempt_id: str) -> Response | tuple[str, int]:
        with state.lock:
            payment = state.payments.get((merchant_id, payment_id))
            if payment is None or payment.attempt_id != attempt_id:
                return _status_page("Unknown payment", "No payment is waiting for this authentication.", 404)
            if request.method == "POST" and payment.status == "requires_customer_action":
                succeeded = request.form.get("result") == "success"
                payments.complete_authentication(state, payment, succeeded)
            if payment.status == "requires_customer_action":
                return render_template("hs_challenge.html", payment=payment, amount=_major(payment)), 200
            return _finish(state, payment)

    return bp


def _page_context(state: SimulatorState, payment: Payment) -> RequestContext:
    merchant = state.merchants[payment.merchant_id]
    return RequestContext(merchant, merchant.profiles[payment.profile_id], base_url(state))


def _link_page(state: SimulatorState, payment: Payment, link: PaymentLink,
               error: str | None = None, status: int = 200) -> tuple[str, int]:
    if payment_links.status_of(state, link) == "expired":
        return _status_page("Link expired", "This payment link has expired.", 200)
    if payment.status not in payment_links.PAYABLE:
        return _status_page("Payment " + payment.status.replace("_", " "),
                            f"This payment is {payment.status}.", 200)
    can_save = bool(payment.customer_id)
    return render_template("hs_payment_link.html", payment=payment, amount=_major(payment), error=error,
                           can_save=can_save, save_default=payment.setup_future_usage == "off_session"), status


def _submit_link(state: SimulatorState, payment: Payment, link: PaymentLink) -> Response | tuple[str, int]:
    ctx = _page_context(state, payment)
    client = {"ip_address": request.remote_addr or "", "user_agent": request.headers.get("User-Agent", "")}
    try:
        payment_links.pay(state, ctx, payment, link, request.form.to_dict(), client)
    except errors.ApiError as exc:
        return _link_page(state, payment, link, error=exc.message, status=400)
    if payment.next_action is not None:
        return redirect(payment.next_action["redirect_to_url"], code=303)
    return _finish(state, payment)


def _finish(state: SimulatorState, payment: Payment) -> Response | tuple[str, int]:
    profile = state.merchants[payment.merchant_id].profiles[payment.profile_id]
    target = payment_links.return_url(profile, payment)
    if target is None:
        return _status_page("Payment " + payment.status.replace("_", " "), f"This payment is {payment.status}.", 200)
    return redirect(target, code=303)


def _status_page(title: str, message: str, status: int) -> tuple[str, int]:
    return render_template("hs_status.html", title=title, message=message), status


def _major(payment: Payment) -> str:
    """Pages show major units (StringMinorUnit → major with Hyperswitch's exponent)."""
    exponent = schema.currency_exponent(payment.currency)
    return f"{Decimal(payment.amount).scaleb(-exponent):.{exponent}f} {payment.currency}"
