"""Inbound limits per surface: request rates (429 with ``Retry-After``) and body sizes (413).

| surface | rate limits | largest body |
|---|---|---|
| ``/pay/…`` payor pages | per client address, per pay link token | 16 KiB (the page posts nothing) |
| ``/admin/v1/…`` | per client address, before the admin token is checked | 64 KiB |
| ``/webhooks/…`` | per client address: a ceiling far above what the peers send | ``max_request_bytes`` |
| ``/plugin/v1/…`` | none: Kill Bill's own billing runs must flow (pacing protects Hyperswitch) | ``max_request_bytes`` |
| anything else | none | 16 KiB |

Bodies are measured before the view runs: by ``Content-Length``, or for a chunked body by reading one
byte more than the limit. The answer is ``{"error", "detail"}``, the plugin contract's own error shape there.

The counts are token buckets (``bridge.edges.buckets``): shared by every process on PostgreSQL, per
process on SQLite (there a limit allows up to web workers × its count). Behind a load balancer, set
``proxy_hops`` so the client address is the one the balancer saw, not the balancer's.

Why not Flask-Limiter: its storages are memory (per process), Redis, Memcached or MongoDB; the bridge
already shares one database between its processes, and the same buckets pace Hyperswitch calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from bridge.edges.buckets import Rate, bucket_key
from bridge.web import openapi
from bridge.web.metrics import HTTP_RATE_LIMITED
from bridge.web.requests import error_response

log = logging.getLogger(__name__)

SMALL_BODY_BYTES = 16 * 1024
ADMIN_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class Limit:
    """A rate (a setting's name) counted per what ``subject`` returns for the request."""

    name: str
    setting: str
    subject: Callable[[], str]


@dataclass(frozen=True)
class Surface:
    prefix: str
    limits: tuple[Limit, ...]
    max_body: int | None  # None: the deployment's max_request_bytes
    own_errors: bool = False  # answers a 413 in its own error shape (the plugin contract)


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _pay_token() -> str:
    token = (request.view_args or {}).get("token")
    return str(token) if token else request.path  # an unrouted path counts on its own


SURFACES = (
    Surface("/pay/", (Limit("pay_per_address", "limit_pay_per_address", _client_address),
                      Limit("pay_per_token", "limit_pay_per_token", _pay_token)), SMALL_BODY_BYTES),
    Surface("/admin/v1/", (Limit("admin_per_address", "limit_admin_per_address", _client_address),), ADMIN_BODY_BYTES),
    Surface("/webhooks/", (Limit("webhooks_per_address", "limit_webhooks_per_address", _client_address),), None),
    Surface("/plugin/v1/", (), None, own_errors=True),
)
_ELSEWHERE = Surface("/", (), SMALL_BODY_BYTES)


def surface_of(path: str) -> Surface:
    return next((s for s in SURFACES if path.startswith(s.prefix)), _ELSEWHERE)


def _enforce() -> Response | None:
    surface = surface_of(request.path)
    too_large = _refuse_large_body(surface)
    if too_large is not None:
        return too_large
    runtime = current_app.extensions["bridge"]
    for limit in surface.limits:
        rate: Rate = getattr(runtime.settings, limit.setting)
        reservation = runtime.edges.buckets.reserve(bucket_key(limit.name, limit.subject()), rate)
        if not reservation.granted:
            HTTP_RATE_LIMITED.labels(limit.name).inc()
            log.debug("rate limited (%s) %s %s", limit.name, request.method, request.path)
            response = _error(429, "rate_limited", f"too many requests ({limit.name}: {rate}); "
                                                   f"retry in {reservation.retry_after} s")
            response.headers["Retry-After"] = str(reservation.retry_after)
            return response
    return None


def _refuse_large_body(surface: Surface) -> Response | None:
    limit = surface.max_body or current_app.config["MAX_CONTENT_LENGTH"]
    length = request.content_length
    if length is None and request.environ.get("wsgi.input_terminated"):
        # A chunked body has no length to refuse up front, and werkzeug would cut it at the limit without
        # a word: read one byte more than allowed (cached for the view) to tell.
        request.max_content_length = limit + 1
        length = len(request.get_data(cache=True))
    if length is None or length <= limit:
        return None
    if surface.own_errors:
        raise RequestEntityTooLarge()
    return _error(413, "request_entity_too_large", f"the request body exceeds {limit} bytes, the limit of this "
                                                   "endpoint")


def _error(status: int, error: str, detail: str) -> Response:
    response, _ = error_response(status, error, detail)
    response.status_code = status
    return response


def install(app: Flask) -> None:
    """Trust ``proxy_hops`` proxies for the client address and scheme, then check every request first."""
    hops = app.extensions["bridge"].settings.proxy_hops
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.before_request(_enforce)


_RATE_LIMITED = openapi.Reply("`rate_limited`: too many requests from this client (or for this pay link); "
                              "try again after `Retry-After` seconds.", openapi.AdminError,
                              headers={"Retry-After": "seconds to wait"})
_TOO_LARGE = openapi.Reply("`request_entity_too_large`: the body exceeds this endpoint's size limit.",
                           openapi.AdminError)
openapi.register_path_replies("/", {413: _TOO_LARGE})
for _surface in SURFACES:
    if _surface.limits:
        openapi.register_path_replies(_surface.prefix, {429: _RATE_LIMITED})
