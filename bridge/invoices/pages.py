"""The payor's invoice page: ``/pay/<token>``, its "Pay now" POST and the return from Hyperswitch.

GET never creates anything (mail scanners open links); only the POST starts a payment, redirecting (303)
to the Hyperswitch payment link. Where the tenant allows it, the invoice page also takes a part payment
(``POST /pay/<token>/part``), and ``/pay/account/<token>`` lists every open invoice of the account to pay
all or some of them at once (:mod:`bridge.invoices.lump_sums`); both work without JavaScript. The return page re-reads the payment and records it (the webhook may
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

import hyperswitch_client as hs
import killbill_client as kb
from bridge.db.invoices import (
    AccountPayLink,
    LumpSum,
    LumpSumState,
    PayLink,
    PayLinkState,
)
from bridge.invoices import handlers as _handlers  # noqa: F401  (registers the Kill Bill invoice handlers)
from bridge.invoices import lump_sums, paylinks, tokens, unsubscribe
from bridge.invoices.formatting import format_amount, format_date
from bridge.invoices.merchant import merchant_name
from bridge.tenancy.env import TenantEnv
from bridge.web import openapi
from hyperswitch_client.money import from_minor_units

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


_NOT_FOUND = ("Link not found",
              "This payment link is not valid. Please use the link from your most recent email, or contact the sender.")


def _claims(verify: Any, token: str) -> tuple[TenantEnv, Any]:
    """The tenant and claims of a genuine, unexpired token (404 or 410 pages otherwise)."""
    runtime = current_app.extensions["bridge"]
    try:
        claims = verify(token, runtime.clock())
    except tokens.ExpiredToken:
        raise PageError(410, "This link has expired", "This payment link is no longer valid. Please contact "
                                                      "the sender for a new one.") from None
    except tokens.InvalidToken:
        raise PageError(404, *_NOT_FOUND) from None
    try:
        return runtime.tenant_env(claims.kb_tenant_id), claims
    except Exception:  # noqa: BLE001  (an unmapped tenant: the token names nothing we serve)
        raise PageError(404, *_NOT_FOUND) from None


def _resolve(token: str) -> tuple[TenantEnv, PayLink]:
    env, claims = _claims(tokens.for_runtime(current_app.extensions["bridge"]).verify, token)
    link = paylinks.get(env, claims.pay_link_id)
    if link is None:
        raise PageError(404, *_NOT_FOUND)
    return env, link


def _resolve_account(token: str) -> tuple[TenantEnv, AccountPayLink]:
    env, claims = _claims(tokens.for_runtime(current_app.extensions["bridge"]).verify_account, token)
    row = lump_sums.account_link(env, claims.account_link_id)
    if row is None:
        raise PageError(404, *_NOT_FOUND)
    return env, row


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
    payable = link.state is PayLinkState.OPEN and now.payable
    minimum = lump_sums.part_minimum(env, currency) if payable else None
    part = None
    if minimum is not None and now.balance > minimum:
        part = {"min": format_amount(minimum, currency, locale), "currency": currency,
                "value": extra.pop("part_value", "")}
    others = lump_sums.open_invoices(env, link.kb_account_id) if payable else []
    account_url = lump_sums.open_account_link(env, link.kb_account_id)[1] if len(others) > 1 else None
    return _page("pay/invoice.html", status=extra.pop("status", 200), merchant=merchant_name(env),
                 lang=locale.split("_")[0] or "en", number=invoice.invoice_number,
                 date=format_date(invoice.invoice_date, locale), lines=lines,
                 total=format_amount(invoice.amount or Decimal(0), currency, locale),
                 due=format_amount(max(now.balance, Decimal(0)), currency, locale),
                 state=state, payable=payable, token=token, part=part, open_count=len(others),
                 account_url=account_url and "/pay/" + account_url.rsplit("/pay/", 1)[1], **extra)


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


@bp.post("/<token>/part")
def pay_part(token: str) -> Response:
    env, link = _resolve(token)
    typed = request.form.get("amount", "")
    try:
        choice = lump_sums.choose_part(env, paylinks.read_invoice(env, link), typed)
        target = lump_sums.start(env, link.kb_account_id, [choice], part=True,
                                 return_url=f"{env.public_url.rstrip('/')}/pay/{token}/part/return")
    except lump_sums.InvalidChoice as exc:
        return _view(env, link, token, error=str(exc), part_value=typed[:32], status=400)
    except paylinks.NotPayable as exc:  # lump_sums words it for the payor
        return _view(env, paylinks.get(env, link.id) or link, token, notice=str(exc))
    return redirect(target, code=303)


@bp.get("/<token>/part/return")
def part_back(token: str) -> Response:
    env, link = _resolve(token)
    latest = lump_sums.latest(env, link.kb_account_id, kb_invoice_id=link.kb_invoice_id)
    lump, notice = _record_lump_sum(env, latest.hs_payment_id) if latest is not None else (None, None)
    if notice is None and _failed(lump):
        notice = "The payment did not go through. You can try again."
    return _view(env, paylinks.get(env, link.id) or link, token, notice=notice or _paid_notice(env, lump))


def _failed(lump: LumpSum | None) -> bool:
    return lump is not None and (lump.state is LumpSumState.CANCELLED or (
        lump.state is LumpSumState.OPEN and request.args.get("status") == "failed"))


# -- the account page: every open invoice, paid at once or some of them -----------------------------------------
def _account_view(env: TenantEnv, row: AccountPayLink, token: str, *, status: int = 200,
                  chosen: set[str] | None = None, **extra: Any) -> Response:
    account = env.killbill.accounts.get(UUID(row.kb_account_id))
    locale = (account.locale or "en_US").replace("-", "_")
    invoices = lump_sums.open_invoices(env, row.kb_account_id)
    currency = account.currency or (invoices[0].currency if invoices else None) or "USD"
    lines = [AccountLine(str(i.invoice_id), i.invoice_number, format_date(i.invoice_date, locale),
                         format_amount(i.balance or Decimal(0), i.currency or currency, locale),
                         chosen is None or str(i.invoice_id) in chosen) for i in invoices]
    total = sum((i.balance or Decimal(0) for i in invoices), Decimal(0))
    return _page("pay/account.html", status, merchant=merchant_name(env), lang=locale.split("_")[0] or "en",
                 name=account.name, lines=lines, total=format_amount(total, currency, locale), token=token, **extra)


@dataclass
class AccountLine:
    invoice_id: str
    number: str | None
    date: str | None
    balance: str
    checked: bool


@bp.get("/account/<token>")
def show_account(token: str) -> Response:
    env, row = _resolve_account(token)
    return _account_view(env, row, token)


@bp.post("/account/<token>")
def pay_account(token: str) -> Response:
    env, row = _resolve_account(token)
    chosen = request.form.getlist("invoice")
    try:
        choices = lump_sums.choose_invoices(env, row.kb_account_id, chosen)
        target = lump_sums.start(env, row.kb_account_id, choices, part=False,
                                 return_url=f"{env.public_url.rstrip('/')}/pay/account/{token}/return")
    except lump_sums.InvalidChoice as exc:
        return _account_view(env, row, token, status=400, error=str(exc), chosen=set(chosen))
    except paylinks.NotPayable as exc:
        return _account_view(env, row, token, status=409, notice=str(exc))  # lump_sums words it for the payor
    return redirect(target, code=303)


@bp.get("/account/<token>/return")
def account_back(token: str) -> Response:
    env, row = _resolve_account(token)
    latest = lump_sums.latest(env, row.kb_account_id)  # Hyperswitch's return names no payment: the newest
    if latest is None:
        return _account_view(env, row, token)
    lump, notice = _record_lump_sum(env, latest.hs_payment_id)
    if notice is None and _failed(lump):
        notice = "The payment did not go through. You can try again."
    return _account_view(env, row, token, notice=notice or _paid_notice(env, lump))


def _record_lump_sum(env: TenantEnv, hs_payment_id: str) -> tuple[LumpSum | None, str | None]:
    """Record the lump sum (once, whoever is first); a notice when it is still being processed."""
    try:
        return lump_sums.record(env, hs_payment_id, wait_seconds=RETURN_WAIT_SECONDS), None
    except (paylinks.RecordingInProgress, paylinks.RecordingRefused) as exc:
        log.warning("lump sum of payment %s: %s", hs_payment_id, exc)
        return lump_sums.find(env, hs_payment_id), _notice("processing")


def _paid_notice(env: TenantEnv, lump: LumpSum | None) -> str | None:
    if lump is None or lump.state is not LumpSumState.RECORDED:
        return None
    locale = "en_US"
    paid = format_amount(from_minor_units(lump.amount_minor - (lump.excess_minor or 0), lump.currency), lump.currency,
                         locale)
    text = f"Thank you: your payment of {paid} is recorded."
    if lump.excess_minor:
        refunded = format_amount(from_minor_units(lump.excess_minor, lump.currency), lump.currency, locale)
        text += (f" {refunded} of it was for invoices that were already paid meanwhile: it is refunded to you.")
    return text


def _notice(state: str) -> str:
    return _NOTICES.get(state, "This invoice cannot be paid now.")


_NOTICES = {"processing": "Your payment has been received and is being processed. This page will show it "
                          "as paid shortly.",
            "paid": "This invoice is already paid.", "voided": "This invoice was cancelled: nothing is due."}


_HTML = "text/html"
_TOKEN = openapi.Param("token", "path", str, "the signed, expiring pay link token from the payor's email")
_ACCOUNT_TOKEN = openapi.Param("token", "path", str, "the signed, expiring account page token")
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
    openapi.Endpoint("POST", "/pay/{token}/part", "payInvoicePart", "pay", "Pay part of the invoice",
                     description="Where the tenant allows it: form field amount, at least the tenant's minimum "
                                 "for the currency, at most the balance; redirects to a Hyperswitch payment link "
                                 "for it. The rest stays due.",
                     parameters=(_TOKEN,),
                     responses={303: openapi.Reply("To the Hyperswitch payment link.", headers={
                         "Location": "the payment link"}),
                                400: openapi.Reply("An amount out of bounds: the page with the message.", str, _HTML),
                                **_ERRORS}),
    openapi.Endpoint("GET", "/pay/{token}/part/return", "payInvoicePartReturn", "pay",
                     "Return from a part payment", parameters=(_TOKEN,),
                     description="Records the part payment (exactly once) and shows the invoice with what is left.",
                     responses={200: openapi.Reply("The invoice page.", str, _HTML), **_ERRORS}),
    openapi.Endpoint("GET", "/pay/account/{token}", "payAccountPage", "pay", "The account's open invoices",
                     description="Every open invoice of the account, oldest first, with its balance and the "
                                 "total, each with a checkbox. Creates nothing.",
                     parameters=(_ACCOUNT_TOKEN,),
                     responses={200: openapi.Reply("The account page.", str, _HTML), **_ERRORS}),
    openapi.Endpoint("POST", "/pay/account/{token}", "payAccountInvoices", "pay", "Pay the ticked invoices",
                     description="Form field invoice (repeated): one Hyperswitch payment link for their balances.",
                     parameters=(_ACCOUNT_TOKEN,),
                     responses={303: openapi.Reply("To the Hyperswitch payment link.", headers={
                         "Location": "the payment link"}),
                                400: openapi.Reply("No invoice ticked, or not the account's: the page.", str, _HTML),
                                409: openapi.Reply("Already paid, or a payment under way: the page.", str, _HTML),
                                **_ERRORS}),
    openapi.Endpoint("GET", "/pay/account/{token}/return", "payAccountReturn", "pay",
                     "Return from paying several invoices", parameters=(_ACCOUNT_TOKEN,),
                     description="Records the payment against each invoice (exactly once; what an invoice no "
                                 "longer owes is refunded) and shows what is still open.",
                     responses={200: openapi.Reply("The account page.", str, _HTML), **_ERRORS}),
)
