"""``/pay/unsubscribe/<token>``: a payor stops payment reminders, in one click (RFC 8058) or from a page.

Reminders carry ``List-Unsubscribe: <https://…/pay/unsubscribe/<token>>, <mailto:…>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click``: the mailbox provider POSTs
``List-Unsubscribe=One-Click`` to the URL, without cookies or a login, and the opt-out is recorded for the
token's Kill Bill account (:func:`bridge.invoices.reminders.opt_out`). A GET changes nothing (mail
scanners open links): it shows a page whose button makes the same POST. The token is signed and bound to
the tenant and the account; a tampered or unknown one shows a 404 page. Nothing here calls Kill Bill or
Hyperswitch, so unsubscribing works while they are down.
"""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint, Response, current_app, render_template, request
from pydantic import BaseModel, ConfigDict, Field

from bridge.invoices import reminders, tokens
from bridge.invoices.merchant import merchant_name
from bridge.tenancy.env import TenantEnv
from bridge.tenancy.service import UnknownTenant
from bridge.web import openapi

PATH = "/unsubscribe/<token>"  # in the payor pages' blueprint (/pay): see install()
# Security headers: bridge.web.payor_pages, as on every page of the /pay blueprint.
NOT_FOUND = "This unsubscribe link is not valid. Please use the link from your most recent reminder, or contact " \
            "the sender."


def _page(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, lang="en", **context), status=status, mimetype="text/html")


def _not_found() -> Response:
    return _page("pay/message.html", 404, title="Link not found", message=NOT_FOUND)


def _resolve(token: str) -> tuple[TenantEnv, str] | None:
    """The tenant's environment and the Kill Bill account the token names; None when it is not ours."""
    runtime = current_app.extensions["bridge"]
    try:
        claims = tokens.for_runtime(runtime).verify_unsubscribe(token)
        return runtime.tenant_env(claims.kb_tenant_id), claims.kb_account_id
    except (tokens.InvalidToken, UnknownTenant):
        return None


def confirm(token: str) -> Response:
    resolved = _resolve(token)
    if resolved is None:
        return _not_found()
    env, _account = resolved
    return _page("unsubscribe/confirm.html", title="Stop payment reminders?", merchant=merchant_name(env))


def unsubscribe(token: str) -> Response:
    """RFC 8058 one-click (the body says ``List-Unsubscribe=One-Click``) or the page's button."""
    resolved = _resolve(token)
    if resolved is None:
        return _not_found()
    env, account = resolved
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    reminders.opt_out(env, account, "one_click" if one_click else "page")
    return _page("unsubscribe/done.html", title="You are unsubscribed", merchant=merchant_name(env))


def install(pay_pages: Blueprint) -> None:
    """Serve the page and the one-click POST at ``/pay/unsubscribe/<token>``, among the payor pages (whose
    response headers and error pages apply to them too)."""
    pay_pages.add_url_rule(PATH, "unsubscribe_page", confirm, methods=["GET"])
    pay_pages.add_url_rule(PATH, "unsubscribe", unsubscribe, methods=["POST"])


class OneClick(BaseModel):
    """RFC 8058's POST body (``application/x-www-form-urlencoded``)."""

    model_config = ConfigDict(populate_by_name=True)

    list_unsubscribe: Literal["One-Click"] | None = Field(None, alias="List-Unsubscribe")


_HTML = "text/html"
_TOKEN_PARAM = openapi.Param("token", "path", str, "the signed token from a reminder's List-Unsubscribe URL")
_NOT_OURS = {404: openapi.Reply("A token that is not ours (tampered) or names nothing: an HTML page.", str, _HTML)}
openapi.register(
    openapi.Endpoint("GET", "/pay/unsubscribe/{token}", "unsubscribePage", "pay", "Stop payment reminders (page)",
                     description="Server-rendered HTML asking to confirm; changes nothing (mail scanners open links).",
                     parameters=(_TOKEN_PARAM,),
                     responses={200: openapi.Reply("The confirmation page.", str, _HTML), **_NOT_OURS}),
    openapi.Endpoint("POST", "/pay/unsubscribe/{token}", "unsubscribeOneClick", "pay", "Stop payment reminders",
                     description="RFC 8058 one-click unsubscribe (List-Unsubscribe-Post), also the confirmation "
                                 "page's button: no more payment reminders for the token's Kill Bill account. "
                                 "Idempotent.",
                     parameters=(_TOKEN_PARAM,), request=OneClick,
                     request_media_type="application/x-www-form-urlencoded",
                     responses={200: openapi.Reply("Unsubscribed: an HTML page.", str, _HTML), **_NOT_OURS}),
)
