"""Response headers of the payor pages (``/pay/…``: the ``pay`` blueprint and those nested in it).

The pages carry a secret in their URL (the pay link token) and show an invoice, so they:

- allow nothing but their own inline styles, by a per-response nonce (``<style nonce="{{ csp_nonce }}">``),
  images from the page itself or ``data:``, and a form posting back to the bridge, which redirects
  to the Hyperswitch payment link (``form-action`` also governs that redirect, so https targets are
  allowed, and loopback ones in development with ``allow_http_loopback``);
- cannot be framed (``frame-ancestors 'none'``, ``X-Frame-Options``), leak no referrer (the token),
  are never cached (``no-store``), and ask browsers for https from then on (HSTS) when served over
  https (directly, through ``proxy_hops`` proxies, or because ``public_url`` is https).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request

PAY_BLUEPRINT = "pay"
HSTS = "max-age=31536000"
_LOOPBACK_FORM_TARGETS = "http://127.0.0.1:* http://localhost:*"  # CSP has no syntax for IPv6 literals


def _nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def content_security_policy(nonce: str, *, allow_http_loopback: bool) -> str:
    form_targets = "'self' https:" + (f" {_LOOPBACK_FORM_TARGETS}" if allow_http_loopback else "")
    return "; ".join((
        "default-src 'none'",
        f"style-src 'nonce-{nonce}'",
        "img-src 'self' data:",
        f"form-action {form_targets}",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ))


def _served_over_https() -> bool:
    settings = current_app.extensions["bridge"].settings
    return request.is_secure or settings.base_url.startswith("https://")


def _on_payor_page() -> bool:
    return has_request_context() and PAY_BLUEPRINT in request.blueprints  # nested blueprints too


def _protect(response: Response) -> Response:
    if not _on_payor_page():
        return response
    settings = current_app.extensions["bridge"].settings
    response.headers["Content-Security-Policy"] = content_security_policy(
        _nonce(), allow_http_loopback=settings.allow_http_loopback)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if _served_over_https():
        response.headers["Strict-Transport-Security"] = HSTS
    return response


def _template_context() -> dict[str, Any]:
    return {"csp_nonce": _nonce()} if _on_payor_page() else {}


def install(app: Flask) -> None:
    app.after_request(_protect)
    app.context_processor(_template_context)
