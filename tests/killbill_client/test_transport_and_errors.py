"""Edge cases with ``responses``: error classification, retries only on reads, Location handling,
headers, query encoding."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit
from uuid import UUID, uuid4

import pytest
import requests
import responses
from responses import matchers
from urllib3.exceptions import MaxRetryError, NewConnectionError

from bridge.simulators.server import BackgroundServer
from killbill_client import (
    BadRequestError,
    ConflictError,
    CreatedButUnreadableError,
    KillBillAPIError,
    KillBillClient,
    KillBillConnectionError,
    KillBillTimeoutError,
    NotFoundError,
    PaymentAbortedError,
    PaymentDeclinedError,
    PaymentPluginFailureError,
    PaymentPluginTimeoutError,
    PaymentUnknownError,
    ServerError,
    UnauthorizedError,
)
from killbill_client.models import Account, ExternalCharge, TransactionType
from tests.contract.spec import REFERENCE
from tests.simulators.killbill.support import killbill_spec

BASE = "http://kb.test:8080"
ACCOUNT_ID = UUID("2ad52f53-85ae-408a-9879-32a7e59dd03d")
PAYMENT_ID = UUID("8fe697d4-2c25-482c-aa45-f6cd5a48186d")


def kb_error(code: int | None, message: str, class_name: str = "org.killbill.billing.payment.api.PaymentApiException"
             ) -> dict:
    return {"className": class_name, "code": code, "message": message, "causeClassName": None,
            "causeMessage": None, "stackTrace": []}


@pytest.fixture
def client() -> KillBillClient:
    return KillBillClient(BASE, username="admin", password="password", api_key="bob", api_secret="lazar",
                          created_by="bridge-test", retry_backoff=0.001, max_retries=2)


@pytest.fixture
def mocked() -> responses.RequestsMock:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def example(name: str) -> dict:
    """A real Kill Bill payload from reference/examples."""
    return json.loads((REFERENCE / "examples" / "killbill" / name).read_text())


def _payment_body() -> dict:
    body = example("payment.json")
    killbill_spec.validate_response("GET", f"/1.0/kb/payments/{PAYMENT_ID}", 200, body)
    return body


@pytest.mark.parametrize(("status", "body", "expected"), [
    (400, kb_error(7032, "Invalid payment transition REFUND from state CHARGEBACK_SUCCESS"), BadRequestError),
    (401, None, UnauthorizedError),
    (404, kb_error(3002, "Account does not exist for id x",
                   "org.killbill.billing.account.api.AccountApiException"), NotFoundError),
    (409, kb_error(3000, "Account already exists for key k",
                   "org.killbill.billing.account.api.AccountApiException"), ConflictError),
    (500, kb_error(7102, "Failed to retrieve payment plugin info"), ServerError),
    (502, None, ServerError),  # a proxy's 502: no payment outcome attached
    (418, kb_error(None, "teapot"), KillBillAPIError),
])
def test_errors_are_classified_with_kill_bills_fields(client: KillBillClient, mocked: responses.RequestsMock,
                                                      status: int, body: dict | None, expected: type) -> None:
    mocked.get(f"{BASE}/1.0/kb/accounts/{ACCOUNT_ID}", status=status,
               body=json.dumps(body) if body else "", content_type="application/json" if body else "text/html")
    with pytest.raises(expected) as caught:
        client.accounts.get(ACCOUNT_ID)
    error = caught.value
    assert type(error) is expected and error.status == status
    if body:
        assert (error.code, error.message, error.class_name) == (body["code"], body["message"], body["className"])
        killbill_spec.validate_response("GET", f"/1.0/kb/accounts/{ACCOUNT_ID}", status, body)


@pytest.mark.parametrize(("status", "expected"), [
    (402, PaymentDeclinedError), (422, PaymentAbortedError), (502, PaymentPluginFailureError),
    (503, PaymentUnknownError),
])
def test_payment_outcomes_keep_the_payment_id(client: KillBillClient, mocked: responses.RequestsMock,
                                              status: int, expected: type) -> None:
    location = f"{BASE}/1.0/kb/payments/{PAYMENT_ID}"
    mocked.post(f"{BASE}/1.0/kb/accounts/{ACCOUNT_ID}/payments", status=status,
                json=kb_error(None, "Payment decline by gateway. Error message: card_declined"),
                headers={"Location": location})
    with pytest.raises(expected) as caught:
        client.payments.create(ACCOUNT_ID, TransactionType.PURCHASE, Decimal("10.00"))
    assert caught.value.payment_id == PAYMENT_ID
    assert len(mocked.calls) == 1  # a payment write is never retried


def test_plugin_timeout_is_recognised_by_its_code(client: KillBillClient, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/1.0/kb/accounts/{ACCOUNT_ID}/payments", status=504,
                json=kb_error(7100, f"Plugin timeout for account {ACCOUNT_ID}: Timeout"))
    with pytest.raises(PaymentPluginTimeoutError) as caught:
        client.payments.create(ACCOUNT_ID, TransactionType.PURCHASE, Decimal("1"))
    assert caught.value.code == 7100 and caught.value.payment_id is None


def test_reads_are_retried_on_5xx_then_succeed(client: KillBillClient, mocked: responses.RequestsMock) -> None:
    url = f"{BASE}/1.0/kb/payments/{PAYMENT_ID}"
    mocked.get(url, status=503)
    mocked.get(url, status=502)
    mocked.get(url, json=_payment_body())
    payment = client.payments.get(PAYMENT_ID, with_plugin_info=True)
    assert payment.payment_id == PAYMENT_ID and len(mocked.calls) == 3


def test_reads_give_up_after_max_retries(client: KillBillClient, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/1.0/kb/payments/{PAYMENT_ID}", status=500, json=kb_error(None, "boom"))
    with pytest.raises(ServerError):
        client.payments.get(PAYMENT_ID)
    assert len(mocked.calls) == 3


def test_4xx_reads_are_not_retried(client: KillBillClient, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/1.0/kb/payments/{PAYMENT_ID}", status=404, json=kb_error(7020, "Payment x does not exist"))
    with pytest.raises(NotFoundError):
        client.payments.get(PAYMENT_ID)
    assert len(mocked.calls) == 1


def test_writes_are_not_retried_on_5xx(client: KillBillClient, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/1.0/kb/invoices/charges/{ACCOUNT_ID}", status=500, json=kb_error(None, "db down"))
    with pytest.raises(ServerError):
        client.invoices.create_external_charges(ACCOUNT_ID, [ExternalCharge(amount=Decimal("1"))])
    assert len(mocked.calls) == 1


def test_connection_refused_means_not_sent_and_read_timeout_means_unknown(client: KillBillClient,
                                                                           mocked: responses.RequestsMock) -> None:
    refused = requests.exceptions.ConnectionError(
        MaxRetryError(None, "/", NewConnectionError(None, "Connection refused")))  # type: ignore[arg-type]
    mocked.post(f"{BASE}/1.0/kb/accounts", body=refused)
    with pytest.raises(KillBillConnectionError) as not_sent:
        client.accounts.create(Account(name="x"))
    assert not_sent.value.request_sent is False
    mocked.post(f"{BASE}/1.0/kb/paymentTransactions/{PAYMENT_ID}", body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(KillBillTimeoutError) as unknown:
        client.payment_transactions.notify_state_changed(PAYMENT_ID, PAYMENT_ID, "SUCCESS")
    assert unknown.value.request_sent is True
    mocked.get(f"{BASE}/1.0/kb/accounts/{ACCOUNT_ID}", body=requests.exceptions.ConnectionError("reset"))
    with pytest.raises(KillBillConnectionError) as dropped:
        client.accounts.get(ACCOUNT_ID)
    assert dropped.value.request_sent is True and len(mocked.calls) == 2 + 3


def test_headers_auth_and_the_followed_location(client: KillBillClient, mocked: responses.RequestsMock) -> None:
    """Location names another host (Kill Bill behind a proxy): the read goes to our base URL."""
    account = example("account.json")
    elsewhere = f"http://10.0.0.7:8080/1.0/kb/accounts/{ACCOUNT_ID}"
    mocked.post(f"{BASE}/1.0/kb/accounts", status=201, headers={"Location": elsewhere},
                match=[matchers.header_matcher({"X-Killbill-ApiKey": "bob", "X-Killbill-ApiSecret": "lazar",
                                                "X-Killbill-CreatedBy": "bridge-test",
                                                "X-Killbill-Reason": "onboarding", "X-Killbill-Comment": "ticket 7",
                                                "Authorization": "Basic YWRtaW46cGFzc3dvcmQ="})])
    mocked.get(f"{BASE}/1.0/kb/accounts/{ACCOUNT_ID}", json=account,
               match=[matchers.header_matcher({"X-Killbill-ApiKey": "bob"})])
    created = client.accounts.create(Account(name="John Doe", currency="USD"), reason="onboarding",
                                      comment="ticket 7")
    assert created.name == "John Doe"
    sent = json.loads(mocked.calls[0].request.body)
    assert sent == {"name": "John Doe", "currency": "USD"}
    assert "X-Killbill-CreatedBy" not in mocked.calls[1].request.headers  # reads carry no audit headers


def test_a_failed_read_back_says_the_write_happened(client: KillBillClient, mocked: responses.RequestsMock) -> None:
    location = f"/1.0/kb/payments/{PAYMENT_ID}"
    mocked.post(f"{BASE}/1.0/kb/accounts/{ACCOUNT_ID}/payments", status=201, headers={"Location": location})
    mocked.get(f"{BASE}{location}", status=503)
    with pytest.raises(CreatedButUnreadableError) as caught:
        client.payments.create(ACCOUNT_ID, TransactionType.PURCHASE, Decimal("1"))
    assert caught.value.resource_id == str(PAYMENT_ID)
    assert [c.request.method for c in mocked.calls] == ["POST", "GET", "GET", "GET"]


def test_external_charges_accept_the_servers_200_and_the_swaggers_201(client: KillBillClient,
                                                                      mocked: responses.RequestsMock) -> None:
    items = [{"invoiceItemId": str(uuid4()), "invoiceId": str(uuid4()), "accountId": str(ACCOUNT_ID),
              "itemType": "EXTERNAL_CHARGE", "amount": 12.5, "currency": "USD", "description": "setup"}]
    url = f"{BASE}/1.0/kb/invoices/charges/{ACCOUNT_ID}"
    mocked.post(url, status=200, json=items)
    mocked.post(url, status=201, json=items)
    for _ in range(2):
        created = client.invoices.create_external_charges(ACCOUNT_ID, [ExternalCharge(amount=Decimal("12.5"),
                                                                                     description="setup")])
        assert created[0].amount == Decimal("12.5")
    body = json.loads(mocked.calls[0].request.body)
    killbill_spec.validate_request("POST", f"/1.0/kb/invoices/charges/{ACCOUNT_ID}", body, {"autoCommit": ["true"]})
    assert body == [{"invoiceItemId": None, "accountId": str(ACCOUNT_ID), "amount": 12.5, "description": "setup"}]
    assert "autoCommit=true" in mocked.calls[0].request.url


def test_plugin_properties_and_control_plugins_are_repeated_query_parameters(client: KillBillClient,
                                                                             mocked: responses.RequestsMock) -> None:
    invoice_id = uuid4()
    mocked.post(f"{BASE}/1.0/kb/invoices/{invoice_id}/payments", status=204)
    result = client.invoice_payments.pay_invoice(invoice_id, ACCOUNT_ID, control_plugin_names=["A", "B"],
                                                 plugin_properties={"hsPaymentId": "pay_123",
                                                                    "return_url": "https://x/y?a=b"})
    assert result is None
    parsed = parse_qs(urlsplit(mocked.calls[0].request.url).query)
    assert parsed["pluginProperty"] == ["hsPaymentId=pay_123", "return_url=https://x/y?a=b"]
    assert parsed["controlPluginName"] == ["A", "B"]


def test_pagination_headers_become_a_page(client: KillBillClient, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/1.0/kb/payments/pagination", json=[_payment_body()], headers={
        "X-Killbill-Pagination-CurrentOffset": "10", "X-Killbill-Pagination-NextOffset": "11",
        "X-Killbill-Pagination-TotalNbRecords": "42", "X-Killbill-Pagination-MaxNbRecords": "42",
        "X-Killbill-Pagination-NextPageUri": "/1.0/kb/payments/pagination?offset=11&limit=1"})
    page = client.payments.list(offset=10, limit=1)
    assert (page.current_offset, page.next_offset, page.total_nb_records, page.max_nb_records) == (10, 11, 42, 42)
    assert page.items[0].payment_id == PAYMENT_ID and page.has_next


def test_a_new_tenant_is_read_back_with_its_own_keys(mocked: responses.RequestsMock) -> None:
    admin = KillBillClient(BASE, username="admin", password="password")
    tenant_id = uuid4()
    mocked.post(f"{BASE}/1.0/kb/tenants", status=201, headers={"Location": f"/1.0/kb/tenants/{tenant_id}"},
                match=[matchers.query_param_matcher({"useGlobalDefault": "false"})])
    mocked.get(f"{BASE}/1.0/kb/tenants/{tenant_id}",
               json={"tenantId": str(tenant_id), "apiKey": "new", "apiSecret": None, "externalKey": None},
               match=[matchers.header_matcher({"X-Killbill-ApiKey": "new", "X-Killbill-ApiSecret": "s3cret"})])
    assert admin.tenants.create("new", "s3cret").tenant_id == tenant_id
    assert "X-Killbill-ApiKey" not in mocked.calls[0].request.headers


def test_the_proxy_environment_is_read_once_when_the_client_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    """Proxies (and NO_PROXY) apply as requests applies them, read when the client is made: requests would read
    the environment again at every call, a measurable cost on the bridge's busiest paths."""
    seen: list[str] = []

    def proxy(environ: dict, start_response) -> list[bytes]:  # type: ignore[no-untyped-def, type-arg]
        seen.append(environ["REQUEST_URI"])  # an HTTP proxy gets the absolute URL
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"accountId": str(ACCOUNT_ID), "name": "Through the proxy"}).encode()]

    server = BackgroundServer(proxy).start()
    try:
        monkeypatch.setenv("HTTP_PROXY", server.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        proxied = KillBillClient(BASE, username="admin", password="password", max_retries=0)
        monkeypatch.setenv("NO_PROXY", "kb.test")
        direct = KillBillClient(BASE, username="admin", password="password", max_retries=0)
        monkeypatch.delenv("HTTP_PROXY")

        assert proxied.accounts.get(ACCOUNT_ID).name == "Through the proxy"  # the proxy it was made with
        assert seen == [f"{BASE}/1.0/kb/accounts/{ACCOUNT_ID}?accountWithBalance=false&accountWithBalanceAndCBA=false"]
        assert "http" not in direct._transport.session.proxies  # kb.test is in NO_PROXY
    finally:
        server.stop()
