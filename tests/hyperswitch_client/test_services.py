"""Every endpoint: the request the client sends (validated against the spec by the ``api`` fixture)
and the typed answer it returns, on real example payloads."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import responses

from hyperswitch_client import HyperswitchClient, to_minor_units
from hyperswitch_client.customers import CustomerCreateParams, CustomerUpdateParams
from hyperswitch_client.enums import (
    CaptureMethod,
    DisputeStatus,
    FutureUsage,
    IntentStatus,
    MandateStatus,
    PaymentLinkStatus,
    RefundStatus,
)
from hyperswitch_client.payments import (
    PaymentCancelParams,
    PaymentCaptureParams,
    PaymentCreateParams,
    PaymentListParams,
)
from hyperswitch_client.profiles import WebhookDetailsParams
from hyperswitch_client.refunds import RefundCreateParams, RefundListParams
from tests.hyperswitch_client.conftest import (
    API_KEY,
    BASE_URL,
    CUSTOMER_ID,
    PAYMENT_ID,
    REFUND_ID,
    example,
    payment_body,
    refund_body,
)


def sent_json(api: responses.RequestsMock, index: int = -1) -> object:
    body = api.calls[index].request.body
    return json.loads(body) if body else None


def sent_query(api: responses.RequestsMock, index: int = -1) -> dict[str, list[str]]:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(api.calls[index].request.url).query)


# ---------------------------------------------------------------- payments


def test_create_a_merchant_initiated_charge(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.post(f"{BASE_URL}/payments", json=example("payment_create_mit_mandate_id.response.json"))
    params = PaymentCreateParams(
        amount=to_minor_units(Decimal("65.40"), "USD"),
        currency="USD",
        payment_id=PAYMENT_ID,
        confirm=True,
        off_session=True,
        customer_id=CUSTOMER_ID,
        recurring_details={"type": "payment_method_id", "data": "pm_lmTnIO5EdCiiMgRPrV9x"},
        metadata={"kbTransactionId": "3f0c9a7e-5b4d-2c1a-0f9e-8d7c6b5a4f3e"},
        merchant_order_reference_id="kb-invoice-42",
        capture_method=CaptureMethod.AUTOMATIC,
    )
    payment = client.payments.create(params)
    assert sent_json(api) == {
        "amount": 6540, "currency": "USD", "payment_id": PAYMENT_ID, "confirm": True,
        "off_session": True, "customer_id": CUSTOMER_ID, "capture_method": "automatic",
        "recurring_details": {"type": "payment_method_id", "data": "pm_lmTnIO5EdCiiMgRPrV9x"},
        "metadata": {"kbTransactionId": "3f0c9a7e-5b4d-2c1a-0f9e-8d7c6b5a4f3e"},
        "merchant_order_reference_id": "kb-invoice-42",
    }  # fmt: skip
    assert payment.status is IntentStatus.SUCCEEDED
    assert (payment.amount, payment.amount_received, payment.connector) == (6540, 6540, "fauxpay")
    assert payment.created == datetime(2023, 10, 26, 10, 22, tzinfo=UTC)


def test_create_a_customer_initiated_charge_that_saves_the_card(
    api: responses.RequestsMock, client: HyperswitchClient
) -> None:
    api.post(f"{BASE_URL}/payments", json=example("payment_create_save_card_off_session.response.json"))
    request = example("payment_create_save_card_off_session.request.json")
    payment = client.payments.create(PaymentCreateParams.model_validate(request))
    assert sent_json(api) == request
    assert payment.payment_method_data and payment.payment_method_data.card
    assert payment.payment_method_data.card.last4 == "4242"


def test_create_a_payment_link(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    response = payment_body(**example("payment_link.response_fragment.json"))
    api.post(f"{BASE_URL}/payments", json=response)
    params = PaymentCreateParams(
        amount=10000, currency="EUR", payment_id=PAYMENT_ID, customer_id=CUSTOMER_ID,
        payment_link=True, return_url="https://bridge.test/pay/tok/return", session_expiry=86400,
        setup_future_usage=FutureUsage.OFF_SESSION, description="Invoice 42",
        payment_link_config={"seller_name": "Acme", "is_setup_mandate_flow": True},
    )  # fmt: skip
    payment = client.payments.create(params)
    assert sent_json(api)["payment_link"] is True  # type: ignore[index]
    assert "confirm" not in sent_json(api)  # type: ignore[operator]
    assert payment.payment_link is not None
    assert payment.payment_link.payment_link_id == "plink_lF9deXMRrdIEs1drMVhF"
    assert payment.payment_link.link.startswith("http://localhost:8080/payment_link/")


def test_create_with_browser_info_and_billing(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.post(
        f"{BASE_URL}/payments",
        json=payment_body(status="requires_customer_action", **example("next_action_redirect.fragment.json")),
    )
    request = example("cypress_create-pm-id-mit.json")
    payment = client.payments.create(PaymentCreateParams.model_validate(request))
    assert sent_json(api) == request
    assert payment.status is IntentStatus.REQUIRES_CUSTOMER_ACTION
    assert payment.next_action and payment.next_action.type == "redirect_to_url"
    assert payment.next_action.redirect_to_url.startswith("https://sandbox.hyperswitch.io/")  # type: ignore[union-attr]


def test_retrieve_with_force_sync_and_attempts(
    api: responses.RequestsMock, client: HyperswitchClient
) -> None:
    attempt = {"attempt_id": f"{PAYMENT_ID}_1", "status": "charged", "amount": 6540,
               "created_at": "2026-01-01T10:00:00.000Z", "modified_at": "2026-01-01T10:00:01.000Z",
               "connector": "stripe", "error_code": None}  # fmt: skip
    api.get(f"{BASE_URL}/payments/{PAYMENT_ID}", json=payment_body(status="succeeded", attempts=[attempt]))
    payment = client.payments.retrieve(PAYMENT_ID, force_sync=True, expand_attempts=True)
    assert sent_query(api) == {"force_sync": ["true"], "expand_attempts": ["true"]}
    assert api.calls[0].request.body is None
    assert payment.attempts and payment.attempts[0].status == "charged"
    assert payment.attempts[0].created_at == datetime(2026, 1, 1, 10, tzinfo=UTC)


def test_retrieve_defaults_to_the_database_copy(
    api: responses.RequestsMock, client: HyperswitchClient
) -> None:
    api.get(f"{BASE_URL}/payments/{PAYMENT_ID}", json=payment_body())
    client.payments.retrieve(PAYMENT_ID)
    assert sent_query(api) == {"force_sync": ["false"]}


def test_partial_capture(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.post(f"{BASE_URL}/payments/{PAYMENT_ID}/capture",
             json=payment_body(**example("payment_partial_capture.fragment.json")))  # fmt: skip
    payment = client.payments.capture(PAYMENT_ID, PaymentCaptureParams(amount_to_capture=2000))
    assert sent_json(api) == {"amount_to_capture": 2000}
    assert payment.status is IntentStatus.PARTIALLY_CAPTURED
    assert (payment.amount_received, payment.amount_capturable) == (2000, 0)


def test_full_capture_sends_an_empty_body(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.post(f"{BASE_URL}/payments/{PAYMENT_ID}/capture",
             json=payment_body(**example("payment_capture_succeeded.fragment.json")))  # fmt: skip
    assert client.payments.capture(PAYMENT_ID).status is IntentStatus.SUCCEEDED
    assert sent_json(api) == example("payment_capture_full.request.json") == {}


def test_cancel(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.post(f"{BASE_URL}/payments/{PAYMENT_ID}/cancel",
             json=payment_body(status="cancelled", cancellation_reason="kb void"))  # fmt: skip
    payment = client.payments.cancel(PAYMENT_ID, PaymentCancelParams(cancellation_reason="kb void"))
    assert sent_json(api) == {"cancellation_reason": "kb void"}
    assert payment.status is IntentStatus.CANCELLED


def test_list_a_customer_s_payments(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.get(f"{BASE_URL}/payments/list", json={"size": 1, "data": [payment_body()]})
    page = client.payments.list(
        PaymentListParams(customer_id=CUSTOMER_ID, limit=20, created_gte=datetime(2026, 1, 1, tzinfo=UTC))
    )
    assert sent_query(api) == {"customer_id": [CUSTOMER_ID], "limit": ["20"],
                               "created.gte": ["2026-01-01T00:00:00.000Z"]}  # fmt: skip
    assert page.size == 1 and page.data[0].payment_id == PAYMENT_ID


def test_ids_are_escaped_in_paths(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.get(f"{BASE_URL}/payment_methods/pm%2F..%2Fx", json={**_payment_method(), "payment_method_id": "x"})
    client.payment_methods.retrieve("pm/../x")
    assert api.calls[0].request.path_url == "/payment_methods/pm%2F..%2Fx"


# ---------------------------------------------------------------- refunds


def test_create_a_refund(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.post(f"{BASE_URL}/refunds", json=refund_body(**example("refund_pending.fragment.json")))
    refund = client.refunds.create(RefundCreateParams(
        payment_id=PAYMENT_ID, refund_id=REFUND_ID, amount=654, reason="Customer returned product",
        refund_type="instant", metadata={"kbTransactionId": "t-1"}))  # fmt: skip
    assert sent_json(api) == {"payment_id": PAYMENT_ID, "refund_id": REFUND_ID, "amount": 654,
                              "reason": "Customer returned product", "refund_type": "instant",
                              "metadata": {"kbTransactionId": "t-1"}}  # fmt: skip
    assert refund.status is RefundStatus.PENDING and refund.connector == "stripe"


def test_retrieve_a_refund(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.get(f"{BASE_URL}/refunds/{REFUND_ID}", json=refund_body(**example("refund_failed.fragment.json")))
    assert client.refunds.retrieve(REFUND_ID, force_sync=True).status is RefundStatus.FAILED
    assert sent_query(api) == {"force_sync": ["true"]}


def test_list_refunds(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.post(f"{BASE_URL}/refunds/list", json={"count": 1, "total_count": 1, "data": [refund_body()]})
    page = client.refunds.list(
        RefundListParams(payment_id=PAYMENT_ID, limit=10, start_time=datetime(2026, 1, 1, tzinfo=UTC))
    )
    assert sent_json(api) == {"payment_id": PAYMENT_ID, "limit": 10,
                              "start_time": "2026-01-01T00:00:00.000Z"}  # fmt: skip
    assert page.total_count == 1 and page.data[0].refund_id == REFUND_ID


# ---------------------------------------------------------------- customers


def _customer(**overrides: object) -> dict:
    return {**example("customer_response.assembled.json"), "customer_id": CUSTOMER_ID, **overrides}


def test_create_a_customer(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.post(f"{BASE_URL}/customers", json=_customer())
    customer = client.customers.create(CustomerCreateParams(
        customer_id=CUSTOMER_ID, name="Jon Test", email="JonTest@test.com",
        metadata={"kbAccountId": "a-1"}))  # fmt: skip
    assert sent_json(api) == {"customer_id": CUSTOMER_ID, "name": "Jon Test",
                              "email": "JonTest@test.com", "metadata": {"kbAccountId": "a-1"}}  # fmt: skip
    assert customer.default_payment_method_id == "pm_djh2837dwduh890123"
    assert customer.created_at == datetime(2023, 1, 18, 11, 4, 9, 922000, tzinfo=UTC)


def test_retrieve_update_delete_a_customer(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    url = f"{BASE_URL}/customers/{CUSTOMER_ID}"
    api.get(url, json=_customer())
    api.post(url, json=_customer(email="new@test.com"))
    api.delete(url, json={"customer_id": CUSTOMER_ID, "customer_deleted": True,
                          "address_deleted": True, "payment_methods_deleted": True})  # fmt: skip
    assert client.customers.retrieve(CUSTOMER_ID).name == "Jon Test"
    updated = client.customers.update(CUSTOMER_ID, CustomerUpdateParams(email="new@test.com"))
    assert updated.email == "new@test.com"
    assert sent_json(api) == {"email": "new@test.com"}
    deleted = client.customers.delete(CUSTOMER_ID)
    assert deleted.customer_deleted and deleted.payment_methods_deleted
    assert [c.request.method for c in api.calls] == ["GET", "POST", "DELETE"]


# ---------------------------------------------------------------- payment methods


def _payment_method() -> dict:
    return {"merchant_id": "merchant_1", "customer_id": CUSTOMER_ID, "payment_method_id": "pm_1",
            "payment_method": "card", "recurring_enabled": True,
            "card": {"last4_digits": "4242", "expiry_month": "10", "expiry_year": "2030",
                     "card_network": "Visa", "saved_to_locker": True}}  # fmt: skip


def test_list_a_customer_s_payment_methods(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.get(f"{BASE_URL}/customers/{CUSTOMER_ID}/payment_methods",
            json=example("customer_payment_methods_list.assembled.json"))  # fmt: skip
    methods = client.payment_methods.list_for_customer(CUSTOMER_ID).customer_payment_methods
    assert [m.payment_method_id for m in methods] == ["pm_iouuy468iyuowqs"]
    assert methods[0].default_payment_method_set and methods[0].recurring_enabled
    assert methods[0].last_used_at == datetime(2024, 2, 24, 11, 4, 9, 922000, tzinfo=UTC)


def test_retrieve_and_delete_a_payment_method(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.get(f"{BASE_URL}/payment_methods/pm_1", json=_payment_method())
    api.delete(f"{BASE_URL}/payment_methods/pm_1", json={"payment_method_id": "pm_1", "deleted": True})
    method = client.payment_methods.retrieve("pm_1")
    assert method.card and (method.card.last4_digits, method.card.card_network) == ("4242", "Visa")
    assert client.payment_methods.delete("pm_1").deleted


def test_set_the_default_payment_method(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    url = f"{BASE_URL}/customers/{CUSTOMER_ID}/payment_methods/pm_1/default"
    api.post(url, json={"default_payment_method_id": "pm_1", "customer_id": CUSTOMER_ID,
                        "payment_method": "card", "payment_method_type": "credit"})  # fmt: skip
    result = client.payment_methods.set_default(CUSTOMER_ID, "pm_1")
    assert result.default_payment_method_id == "pm_1"
    assert api.calls[0].request.body is None


# ---------------------------------------------------------------- mandates, links, disputes


def test_mandates(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    mandate = {**example("mandate_response.assembled.json"), "mandate_id": "man_1"}
    api.get(f"{BASE_URL}/mandates/man_1", json=mandate)
    api.get(f"{BASE_URL}/customers/{CUSTOMER_ID}/mandates", json=[mandate])
    api.post(f"{BASE_URL}/mandates/revoke/man_1", json={"mandate_id": "man_1", "status": "revoked"})
    assert client.mandates.retrieve("man_1").status is MandateStatus.ACTIVE
    assert [m.mandate_id for m in client.mandates.list_for_customer(CUSTOMER_ID)] == ["man_1"]
    assert client.mandates.revoke("man_1").status is MandateStatus.REVOKED
    assert api.calls[2].request.body is None


def test_retrieve_a_payment_link(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    link = {**example("payment_link_retrieve.assembled.json"), "payment_link_id": "plink_1"}
    api.get(f"{BASE_URL}/payment_link/plink_1", json=link)
    link = client.payment_links.retrieve("plink_1")
    assert link.status is PaymentLinkStatus.ACTIVE and link.amount == 6540


def test_retrieve_a_dispute(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    dispute = {**example("webhook_dispute_lost.assembled.json")["content"]["object"],
               "dispute_id": "dp_1", "amount": "6540"}  # fmt: skip
    api.get(f"{BASE_URL}/disputes/dp_1", json=dispute)
    result = client.disputes.retrieve("dp_1")
    assert result.dispute_status is DisputeStatus.DISPUTE_LOST and result.amount_minor == 6540


# ---------------------------------------------------------------- business profile


def _profile(**overrides: object) -> dict:
    return {"merchant_id": "merchant_1", "profile_id": "pro_1", "profile_name": "default",
            "enable_payment_response_hash": True, "payment_response_hash_key": "hash-key-123",
            "redirect_to_merchant_with_http_post": False,
            "webhook_details": {"webhook_url": None, "payment_statuses_enabled": None,
                                "refund_statuses_enabled": None}, **overrides}  # fmt: skip


def test_read_the_profile_s_webhook_settings(
    api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient]
) -> None:
    client = make_client(profile_id="pro_1")
    api.get(f"{BASE_URL}/account/merchant_1/business_profile/pro_1", json=_profile())
    profile = client.profiles.retrieve("merchant_1")
    assert profile.payment_response_hash_key == "hash-key-123"
    assert "hash-key-123" not in repr(profile)
    assert profile.webhook_details and profile.webhook_details.webhook_url is None


def test_set_the_webhook_url(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    url = "https://bridge.test/webhooks/hyperswitch"
    api.post(f"{BASE_URL}/account/merchant_1/business_profile/pro_2",
             json=_profile(profile_id="pro_2", webhook_details={
                 "webhook_url": url, "payment_statuses_enabled": ["succeeded", "requires_capture"],
                 "refund_statuses_enabled": ["success", "failure"]}))  # fmt: skip
    details = WebhookDetailsParams(webhook_url=url, payment_created_enabled=True,
                                   payment_statuses_enabled=["succeeded", "requires_capture"])  # fmt: skip
    profile = client.profiles.update_webhook_details("merchant_1", details, profile_id="pro_2")
    assert sent_json(api) == {"webhook_details": {
        "webhook_url": url, "payment_created_enabled": True,
        "payment_statuses_enabled": ["succeeded", "requires_capture"],
        "refund_statuses_enabled": []}}  # fmt: skip
    assert profile.webhook_details and profile.webhook_details.refund_statuses_enabled == [
        "success", "failure"]  # fmt: skip


def test_a_profile_call_needs_a_profile_id(client: HyperswitchClient) -> None:
    with pytest.raises(ValueError, match="profile_id"):
        client.profiles.retrieve("merchant_1")


# ---------------------------------------------------------------- headers


def test_headers(api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient]) -> None:
    client = make_client(profile_id="pro_1")
    api.get(f"{BASE_URL}/payments/{PAYMENT_ID}", json=payment_body())
    api.post(f"{BASE_URL}/payments/{PAYMENT_ID}/capture", json=payment_body())
    client.payments.retrieve(PAYMENT_ID)
    client.payments.capture(PAYMENT_ID)
    get, post = (call.request.headers for call in api.calls)
    assert get["api-key"] == API_KEY and get["X-Profile-Id"] == "pro_1"
    assert get["Accept"] == "application/json" and "Content-Type" not in get
    assert post["Content-Type"] == "application/json" and post["api-key"] == API_KEY


def test_no_profile_header_without_a_profile(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.get(f"{BASE_URL}/payments/{PAYMENT_ID}", json=payment_body())
    client.payments.retrieve(PAYMENT_ID)
    assert "X-Profile-Id" not in api.calls[0].request.headers


@pytest.mark.parametrize("value", [0, -1])
def test_timeouts_and_deadline_must_be_positive(value: float) -> None:
    for option in ("connect_timeout", "read_timeout", "deadline"):
        with pytest.raises(ValueError, match=option):
            HyperswitchClient(BASE_URL, API_KEY, **{option: value})


def test_an_api_key_is_required() -> None:
    with pytest.raises(ValueError, match="api_key"):
        HyperswitchClient(BASE_URL, "")
