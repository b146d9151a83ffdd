"""Authentication failures and error bodies exactly as Kill Bill answers them (raw HTTP)."""

from __future__ import annotations

from uuid import uuid4

import requests

from bridge.simulators.server import BackgroundServer
from killbill_client.models import Account, Tenant
from tests.simulators.killbill.support import check_response


def _headers(tenant_keys: tuple[str, str], **extra: str) -> dict[str, str]:
    return {"X-Killbill-ApiKey": tenant_keys[0], "X-Killbill-ApiSecret": tenant_keys[1], **extra}


def test_missing_or_wrong_basic_auth_is_a_bare_401_challenge(kb_server: BackgroundServer, tenant: Tenant,
                                                              tenant_keys: tuple[str, str]) -> None:
    url = f"{kb_server.url}/1.0/kb/accounts/{uuid4()}"
    for auth in (None, ("admin", "wrong"), ("nobody", "password")):
        response = requests.get(url, auth=auth, headers=_headers(tenant_keys), timeout=5)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'BASIC realm="application"'
        assert response.content == b""
        check_response("GET", response)


def test_missing_tenant_headers_is_a_401_error_page(kb_server: BackgroundServer, tenant: Tenant) -> None:
    response = requests.get(f"{kb_server.url}/1.0/kb/accounts/{uuid4()}", auth=("admin", "password"), timeout=5)
    assert response.status_code == 401
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Make sure to set the X-Killbill-ApiKey and X-Killbill-ApiSecret headers" in response.text
    check_response("GET", response)


def test_wrong_tenant_secret_is_refused(kb_server: BackgroundServer, tenant: Tenant,
                                        tenant_keys: tuple[str, str]) -> None:
    response = requests.get(f"{kb_server.url}/1.0/kb/accounts/{uuid4()}", auth=("admin", "password"),
                            headers=_headers((tenant_keys[0], "not-the-secret")), timeout=5)
    assert response.status_code == 401
    assert "did not match the expected credentials" in response.text


def test_tenant_creation_needs_no_tenant_headers_but_a_created_by(kb_server: BackgroundServer) -> None:
    url = f"{kb_server.url}/1.0/kb/tenants"
    body = {"apiKey": "k-" + uuid4().hex[:6], "apiSecret": "s"}
    refused = requests.post(url, json=body, auth=("admin", "password"), timeout=5)
    assert refused.status_code == 400
    assert refused.json()["message"] == "Header X-Killbill-CreatedBy needs to be set"
    assert refused.json()["className"] == "java.lang.IllegalArgumentException"
    check_response("POST", refused)
    created = requests.post(url, json=body, auth=("admin", "password"), headers={"X-Killbill-CreatedBy": "t"},
                            timeout=5, allow_redirects=False)
    assert created.status_code == 201 and created.content == b""
    assert created.headers["Location"].startswith(f"{kb_server.url}/1.0/kb/tenants/")


def test_write_without_created_by_is_refused(kb_server: BackgroundServer, tenant_keys: tuple[str, str],
                                             tenant: Tenant) -> None:
    response = requests.post(f"{kb_server.url}/1.0/kb/accounts", json={"name": "x"}, auth=("admin", "password"),
                             headers=_headers(tenant_keys), timeout=5)
    assert response.status_code == 400
    assert response.json()["message"] == "Header X-Killbill-CreatedBy needs to be set"


def test_missing_body_and_missing_field_messages(kb_server: BackgroundServer, tenant_keys: tuple[str, str],
                                                 account: Account) -> None:
    headers = _headers(tenant_keys, **{"X-Killbill-CreatedBy": "t", "Content-Type": "application/json"})
    url = f"{kb_server.url}/1.0/kb/accounts/{account.account_id}/payments"
    empty = requests.post(url, data=b"", auth=("admin", "password"), headers=headers, timeout=5)
    assert (empty.status_code, empty.json()["message"]) == (400, "PaymentTransactionJson body should be specified")
    no_amount = requests.post(url, json={"transactionType": "PURCHASE"}, auth=("admin", "password"),
                              headers=headers, timeout=5)
    assert no_amount.json()["message"] == "PaymentTransactionJson amount needs to be set"
    check_response("POST", no_amount)


def test_not_found_bodies_carry_kill_bills_error_codes(kb_server: BackgroundServer, tenant_keys: tuple[str, str],
                                                       tenant: Tenant) -> None:
    missing = uuid4()
    for path, code, message in (
            (f"/1.0/kb/accounts/{missing}", 3002, f"Account does not exist for id {missing}"),
            (f"/1.0/kb/invoices/{missing}", 4006, f"No invoice could be found for id {missing}."),
            (f"/1.0/kb/payments/{missing}", 7020, f"Payment {missing} does not exist"),
            (f"/1.0/kb/paymentMethods/{missing}", 7000, f"Payment method {missing} does not exist")):
        response = requests.get(kb_server.url + path, auth=("admin", "password"), headers=_headers(tenant_keys),
                                timeout=5)
        assert response.status_code == 404
        assert (response.json()["code"], response.json()["message"]) == (code, message)
        assert response.json()["stackTrace"] == []
        check_response("GET", response)


def test_a_malformed_id_matches_no_resource(kb_server: BackgroundServer, tenant_keys: tuple[str, str],
                                            tenant: Tenant) -> None:
    response = requests.get(f"{kb_server.url}/1.0/kb/accounts/not-a-uuid", auth=("admin", "password"),
                            headers=_headers(tenant_keys), timeout=5)
    assert response.status_code == 404 and response.content == b""
