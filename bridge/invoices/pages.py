"""The payor's invoice page: ``/pay/<token>``, its "Pay now" POST and the return from Hyperswitch.

GET never creates anything (mail scanners open links); only the POST starts a payment, redirecting (303)
to the Hyperswitch payment link. The return page re-reads the payment and records it (the webhook may
be doing the same; recording happens once). Errors are HTML pages: 404 for a token that is not ours or
names nothing, 410 for an expired one, 503 when a peer cannot be reached — never a stack trace.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, current_app, redirect, render_template, request
from sqlalchemy import select

import hyperswitch_client as hs
import killbill_client as kb
from bridge.db.engine import session_scope
from bridge.db.invoices import PayLink, PayLinkState
from bridge.db.tenancy import Tenant
from bridge.invoices import handlers as _handlers  # noqa: F401  (registers the Kill Bill invoice handlers)
from bridge.invoices import paylinks, tokens, unsubscribe
from bridge.invoices.formatting import format_amount, format_date
from bridge.tenancy.env import TenantEnv
from bridge.web import openapi

log = logging.getLogger(__name__)

bp = Blueprint("pay", __name__, url_prefix="/pay", template_folder="templates")
unsubscribe.install(bp)  # /pay/unsubscribe/<token>: the List-Unsubscribe of reminders
# How long the return page waits for a concurrent recorder (the webhook) before showing "processing".
RETURN_WAIT_SECONDS = 10.0
# Security headers (CSP with a style nonce, no referrer, no-store, HSTS): bridge.web.payor_pages, on every
# response of this blueprint.


@bp.record_once
def _bind_tokens(state: Any) -> None:
    tokens.bind(state.app.extensions["bridge"])


class PageError(Exception):
    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


@bp.errorhandler(PageError)
def _page_error(exc: PageError) -> Response:
    return _page("pay/message.html", exc.status, title=exc.title, message=exc.message, lang="en")


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, (kb.KillBillError, hs.HyperswitchError)):
        log.warning("pay page: a peer failed: %s", exc)
        return _page("pay/message.html", 503, lang="en", title="Temporarily unavailable",
                     message="We cannot show this invoice right now. Please try again in a few minutes.")
    log.exception("pay page failed")
    return _page("pay/message.html", 500, lang="en", title="Something went wrong",
                 message="We could not show this invoice. Please try again later.")


def _resolve(token: str) -> tuple[TenantEnv, PayLink]:
    runtime = current_app.extensions["bridge"]
    signer = tokens.for_runtime(runtime)
    not_found = PageError(404, "Link not found", "This payment link is not valid. Please use the link from "
                                                 "your most recent email, or contact the sender.")
    try:
        claims = signer.verify(token, runtime.clock())
    except tokens.ExpiredToken:
        raise PageError(410, "This link has expired", "This payment link is no longer valid. Please contact "
                                                      "the sender for a new one.") from None
    except tokens.InvalidToken:
        raise not_found from None
    try:
        env = runtime.tenant_env(claims.kb_tenant_id)
    except Exception:  # an unmapped tenant: the token names nothing we serve
        raise not_found from None
    link = paylinks.get(env, claims.pay_link_id)
    if link is None:
        raise not_found
    return env, link


def _merchant(env: TenantEnv) -> str:
    if env.settings.email.brand_name:
        return env.settings.email.brand_name
    with session_scope(env.sessions) as session:
        return session.scalars(select(Tenant.name).where(Tenant.kb_tenant_id == env.tenant_id)).one()


@dataclass
class Line:
    description: str
    period: str | None
    amount: str


def _view(env: TenantEnv, link: PayLink, token: str, **extra: Any) -> Response:
    invoice = paylinks.read_invoice(env, link)
    link, now = paylinks.refresh(env, link, invoice)
    account = env.killbill.accounts.get(UUID(link.kb_account_id))
    locale = (account.locale or "en_US").replace("-", "_")
    currency = invoice.currency or account.currency or "USD"
    lines = []
    for item in invoice.items or []:
        start, end = format_date(item.start_date, locale), format_date(item.end_date, locale)
        period = f"{start} – {end}" if start and end else start
        lines.append(Line(item.description or item.pretty_plan_name or item.plan_name or item.item_type or "Item",
                          period, format_amount(item.amount or Decimal(0), currency, locale)))
    state = link.state.value
    return _page("pay/invoice.html", merchant=_merchant(env), lang=locale.split("_")[0] or "en",
                 number=invoice.invoice_number, date=format_date(invoice.invoice_date, locale), lines=lines,
                 total=format_amount(invoice.amount or Decimal(0), currency, locale),
                 due=format_amount(max(now.balance, Decimal(0)), currency, locale),
                 state=state, payable=link.state is PayLinkState.OPEN and now.payable, token=token, **extra)


@bp.get("/<token>")
def show(token: str) -> Response:
    env, link = _resolve(token)
    return _view(env, link, token)


@bp.post("/<token>")
def pay_now(token: str) -> Response:
    env, link = _resolve(token)
    return_url = f"{env.public_url.rstrip('/')}/pay/{token}/return"
    try:
        target = paylinks.start_payment(env, link, return_url)
    except paylinks.NotPayable as exc:
        return _view(env, paylinks.get(env, link.id) or link, token, notice=_notice(exc.state))
    return redirect(target, code=303)


@bp.get("/<token>/return")
def back(token: str) -> Response:
    env, link = _resolve(token)
    candidates = [link.hs_payment_id] if link.hs_payment_id else []
    given = request.args.get("payment_id")
    if given and given not in candidates and paylinks.is_pay_link_payment(given):
        candidates.append(given)  # recorded only if Hyperswitch says it was made for this very link
    notice = None
    for hs_payment_id in candidates:
        try:
            recorded = paylinks.record_payment(env, hs_payment_id, wait_seconds=RETURN_WAIT_SECONDS)
        except (paylinks.RecordingInProgress, paylinks.RecordingRefused) as exc:
            log.warning("pay link %s: %s", link.id, exc)
            notice = _notice("processing")
            continue
        except hs.NotFoundError:
            continue
        if recorded is not None and recorded.id == link.id and recorded.state is PayLinkState.PAID:
            break
    current = paylinks.get(env, link.id) or link
    if notice is None and current.state is PayLinkState.OPEN and request.args.get("status") == "failed":
        notice = "The payment did not go through. You can try again."
    return _view(env, current, token, notice=notice)


def _notice(state: str) -> str:
    return {"processing": "Your payment has been received and is being processed. This page will show it "
                          "as paid shortly.",
            "paid": "This invoice is already paid.", "voided": "This invoice was cancelled: nothing is due.",
            }.get(state, "This invoice cannot be paid now.")


_HTML = "text/html"
_TOKEN = openapi.Param("token", "path", str, "the signed, expiring pay link token from the payor's email")
_ERRORS = {404: openapi.Reply("A token that is not ours (tampered) or names nothing: an HTML page.", str, _HTML),
           410: openapi.Reply("An expired token: an HTML page.", str, _HTML),
           503: openapi.Reply("Kill Bill or Hyperswitch cannot be reached: an HTML page.", str, _HTML)}
openapi.register_tag("pay", "The payor's invoice pages (HTML): the invoice, Pay now, and the return from "
                            "the Hyperswitch payment link.")
openapi.register(
    openapi.Endpoint("GET", "/pay/{token}", "payInvoicePage", "pay", "The payor's invoice page",
                     description="Server-rendered HTML: merchant, invoice number and date, items, amount due and "
                                 "state. Creates nothing (mail scanners open links).",
                     parameters=(_TOKEN,), responses={200: openapi.Reply("The invoice page.", str, _HTML), **_ERRORS}),
    openapi.Endpoint("POST", "/pay/{token}", "payInvoiceNow", "pay", "Pay now",
                     description="Creates, or reuses while active, a Hyperswitch payment link for the current "
                                 "balance and redirects to it; a paid, voided or zero-balance invoice shows its page.",
                     parameters=(_TOKEN,),
                     responses={303: openapi.Reply("To the Hyperswitch payment link.", headers={
                         "Location": "the payment link"}),
                                200: openapi.Reply("Not payable now: the invoice page with a notice.", str, _HTML),
                                **_ERRORS}),
    openapi.Endpoint("GET", "/pay/{token}/return", "payInvoiceReturn", "pay", "Return from the payment link",
                     description="Re-reads the link's payment from Hyperswitch and records a succeeded one against "
                                 "the Kill Bill invoice (exactly once, also when the webhook does it concurrently), "
                                 "then shows the invoice page.",
                     parameters=(_TOKEN, openapi.Param("payment_id", "query", str, "added by Hyperswitch"),
                                 openapi.Param("status", "query", str, "added by Hyperswitch")),
                     responses={200: openapi.Reply("The invoice page.", str, _HTML), **_ERRORS}),
)
