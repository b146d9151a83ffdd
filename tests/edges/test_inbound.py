"""Inbound limits: 429 with Retry-After and a JSON body per client address (and per pay link token), body
size limits with a JSON 413 on every surface, the client address behind trusted proxies; the payor pages'
security headers (strict CSP with a nonce, no framing, no referrer, no caching, HSTS over https)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from bridge.edges.buckets import Rate
from bridge.web.limits import ADMIN_BODY_BYTES, SMALL_BODY_BYTES
from bridge.web.payor_pages import HSTS
from tests.conftest import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def limited(runtime):  # type: ignore[no-untyped-def]
    """Small limits, so that a test reaches them in a few requests (no refill within a test)."""
    runtime.settings = runtime.settings.model_copy(update={
        "limit_pay_per_address": Rate.parse("4/hour"), "limit_pay_per_token": Rate.parse("2/hour"),
        "limit_admin_per_address": Rate.parse("3/hour"), "limit_webhooks_per_address": Rate.parse("3/hour")})
    return runtime


def from_address(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def assert_rate_limited(response, *, retry_after_at_least: int = 1) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429 and response.mimetype == "application/json"
    assert response.json["error"] == "rate_limited" and "retry in" in response.json["detail"]
    assert int(response.headers["Retry-After"]) >= retry_after_at_least
    assert response.headers["X-Request-Id"]


def test_pay_pages_are_limited_per_client_address(limited, client) -> None:
    for token in ("a", "b", "c", "d"):  # unknown tokens: 404 pages, still counted
        assert client.get(f"/pay/tok-{token}", **from_address("203.0.113.5")).status_code == 404
    refused = client.get("/pay/tok-e", **from_address("203.0.113.5"))
    assert_rate_limited(refused, retry_after_at_least=60 * 60 // 4 - 1)
    assert client.get("/pay/tok-e", **from_address("203.0.113.6")).status_code == 404  # another client


def test_pay_pages_are_limited_per_token_whatever_the_address(limited, client) -> None:
    """A script spread over many addresses still cannot hammer one invoice (nor create links in bulk)."""
    assert client.post("/pay/same-token", **from_address("198.18.0.1")).status_code == 404
    assert client.get("/pay/same-token/return", **from_address("198.18.0.2")).status_code == 404
    assert_rate_limited(client.post("/pay/same-token", **from_address("198.18.0.3")))
    assert client.get("/pay/other-token", **from_address("198.18.0.3")).status_code == 404


def test_the_admin_api_is_limited_before_the_token_is_checked(limited, client) -> None:
    guesses = [client.get("/admin/v1/tenants", headers={"Authorization": f"Bearer guess-{n}"},
                          **from_address("192.0.2.50")) for n in range(3)]
    assert [g.status_code for g in guesses] == [401, 401, 401]
    assert_rate_limited(client.get("/admin/v1/tenants", headers=ADMIN, **from_address("192.0.2.50")))
    assert client.get("/admin/v1/tenants", headers=ADMIN, **from_address("192.0.2.51")).status_code == 200


def test_webhooks_have_a_ceiling_per_address(limited, client) -> None:
    for _ in range(3):
        assert client.post("/webhooks/hyperswitch", data=b"{}", **from_address("192.0.2.9")).status_code == 401
    assert_rate_limited(client.post("/webhooks/killbill/some-token", data=b"{}", **from_address("192.0.2.9")))


def test_the_plugin_contract_and_health_are_not_rate_limited(limited, client) -> None:
    for _ in range(10):
        assert client.get("/healthz").status_code == 200
        assert client.post("/plugin/v1/purchasePayment", data=b"{}").status_code == 400


def test_behind_trusted_proxies_the_forwarded_client_is_counted(runtime) -> None:
    from bridge.app import create_app

    runtime.settings = runtime.settings.model_copy(update={"proxy_hops": 1,
                                                           "limit_pay_per_address": Rate.parse("1/hour")})
    client = create_app(runtime=runtime).test_client()
    balancer = from_address("10.0.0.2")  # every request arrives from the load balancer
    assert client.get("/pay/t1", headers={"X-Forwarded-For": "203.0.113.1"}, **balancer).status_code == 404
    assert client.get("/pay/t2", headers={"X-Forwarded-For": "203.0.113.2"}, **balancer).status_code == 404
    assert_rate_limited(client.get("/pay/t3", headers={"X-Forwarded-For": "203.0.113.1"}, **balancer))


def test_the_limit_shows_in_metrics(limited, client) -> None:
    for _ in range(4):
        client.get("/admin/v1/jobs", headers=ADMIN, **from_address("192.0.2.77"))
    metrics = client.get("/metrics").get_data(as_text=True)
    assert re.search(r'^bridge_http_rate_limited_total\{limit="admin_per_address"\} [1-9]', metrics, re.M)


# -- body sizes ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path", "limit"), [
    ("POST", "/pay/any-token", SMALL_BODY_BYTES),
    ("POST", "/admin/v1/tenants", ADMIN_BODY_BYTES),
    ("GET", "/healthz", SMALL_BODY_BYTES),
    ("GET", "/openapi.json", SMALL_BODY_BYTES),
])
def test_bodies_over_the_surface_limit_get_a_json_413(client, method: str, path: str, limit: int) -> None:
    response = client.open(path, method=method, data=b"x" * (limit + 1), headers=ADMIN)
    assert response.status_code == 413 and response.mimetype == "application/json"
    assert response.json["error"] == "request_entity_too_large" and str(limit) in response.json["detail"]


def test_a_chunked_admin_body_is_cut_at_the_limit(client) -> None:
    """No Content-Length to refuse up front (gunicorn passes chunked bodies as a terminated stream)."""
    body = io.BytesIO(b'{"name": "' + b"x" * ADMIN_BODY_BYTES + b'"}')
    response = client.post("/admin/v1/tenants", input_stream=body, environ_base={"wsgi.input_terminated": True},
                           headers={**ADMIN, "Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    assert response.status_code == 413 and response.json["error"] == "request_entity_too_large"
    plugin = client.post("/plugin/v1/purchasePayment", input_stream=io.BytesIO(b" " * (2 << 20)),
                         environ_base={"wsgi.input_terminated": True}, headers={"Transfer-Encoding": "chunked"})
    assert plugin.status_code == 413 and plugin.json["errorType"] == "PAYLOAD_TOO_LARGE"  # the contract's shape


@pytest.mark.parametrize("path", ["/webhooks/hyperswitch", "/webhooks/killbill/token"])
def test_webhook_bodies_up_to_the_deployment_limit(client, app, path: str) -> None:
    too_big = client.post(path, data=b" " * (app.config["MAX_CONTENT_LENGTH"] + 1))
    assert too_big.status_code == 413 and too_big.mimetype == "application/json"
    assert client.post(path, data=b" " * ADMIN_BODY_BYTES * 2).status_code in (400, 401, 404)  # read, then refused


# -- the payor pages' headers ---------------------------------------------------------------------------
def csp(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    directives = (part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    return {name: value for name, value in directives}


def test_payor_pages_carry_a_strict_policy_and_their_styles_its_nonce(client) -> None:
    page = client.get("/pay/not-a-token")  # the 404 page is a payor page like the others
    assert page.status_code == 404 and page.mimetype == "text/html"
    policy = csp(page)
    nonce = re.fullmatch(r"'nonce-([A-Za-z0-9_-]{16,})'", policy["style-src"])
    assert nonce, policy
    assert policy["default-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'none'" and "'unsafe-inline'" not in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    styles = re.findall(r"<style([^>]*)>", html)
    assert styles and all(f'nonce="{nonce[1]}"' in attrs for attrs in styles)  # every inline style is allowed
    assert "<script" not in html and " style=" not in html  # nothing inline that the policy would block
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in page.headers  # plain http: HSTS would be ignored, and wrong
    assert csp(client.get("/pay/not-a-token"))["style-src"] != policy["style-src"]  # a new nonce each time


def test_the_form_may_lead_to_https_payment_links_and_loopback_only_in_development(runtime, client) -> None:
    assert csp(client.get("/pay/x"))["form-action"] == "'self' https: http://127.0.0.1:* http://localhost:*"
    runtime.settings = runtime.settings.model_copy(update={"allow_http_loopback": False})
    assert csp(client.get("/pay/x"))["form-action"] == "'self' https:"


def test_hsts_over_https(runtime, client) -> None:
    assert client.get("/pay/x", base_url="https://pay.example.com").headers["Strict-Transport-Security"] == HSTS
    runtime.settings = runtime.settings.model_copy(update={"public_url": "https://pay.example.com"})
    assert client.get("/pay/x").headers["Strict-Transport-Security"] == HSTS  # TLS ends at the balancer


def test_other_surfaces_keep_their_own_headers(client) -> None:
    response = client.get("/healthz")
    assert "Content-Security-Policy" not in response.headers and "Strict-Transport-Security" not in response.headers
