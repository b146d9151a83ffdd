"""Payouts: the requests the client sends (validated against the spec by the ``api`` fixture, with the
payout corrections of ``tests/contract/spec.py``) and the typed answers it returns."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from pydantic import ValidationError

from hyperswitch_client import (
    AuditRecord,
    DuplicateResourceError,
    ErrorKind,
    HyperswitchClient,
    InvalidRequestError,
    NotFoundError,
    RetryPolicy,
    parse_event,
)
from hyperswitch_client.audit import REDACTED
from hyperswitch_client.enums import PayoutStatus, PayoutType
from hyperswitch_client.payouts import (
    PayoutConfirmParams,
    PayoutCreateParams,
    PayoutListParams,
    PayoutMethodData,
)
from tests.contract.spec import ContractViolation, hyperswitch_spec
from tests.hyperswitch_client.conftest import BASE_URL, CUSTOMER_ID

# 30 characters, like the ids the bridge derives from Kill Bill transactions.
PAYOUT_ID = "kbo_3f0c9a7e5b4d2c1a0f9e8d7c6b"
PAYOUT_URL = f"{BASE_URL}/payouts/{PAYOUT_ID}"
HE_01 = {"error": {"type": "invalid_request", "code": "HE_01",
                   "message": f"The payout with the specified payout_id '{PAYOUT_ID}' already exists in our records"}}
SERVER_ERROR = {"error": {"type": "api", "message": "Something went wrong", "code": "HE_00"}}


def payout_body(**overrides: Any) -> dict[str, Any]:
    """A complete PayoutCreateResponse, as the router serializes it (every key, null when absent)."""
    body: dict[str, Any] = {
        "payout_id": PAYOUT_ID, "merchant_id": "merchant_1668273825", "merchant_order_reference_id": None,
        "amount": 1000, "currency": "USD", "connector": "adyen", "payout_type": "card",
        "payout_method_data": {"card": {"card_issuer": None, "card_network": "Visa", "card_type": "CREDIT",
                                        "card_issuing_country": None, "bank_code": None, "last4": "4242",
                                        "card_isin": "424242", "card_extended_bin": None,
                                        "card_exp_month": "12", "card_exp_year": "2035",
                                        "card_holder_name": "Ada Lovelace"}},
        "source_bank_data": None, "billing": None, "auto_fulfill": True, "customer_id": CUSTOMER_ID,
        "customer": {"id": CUSTOMER_ID, "name": "Ada Lovelace", "email": "ada@example.test", "phone": None,
                     "phone_country_code": None},
        "client_secret": f"payout_{PAYOUT_ID}_secret_abcdefghij0123456789", "return_url": None,
        "business_country": None, "business_label": None, "description": "Kill Bill credit",
        "entity_type": "Individual", "recurring": False, "metadata": {"kb_transaction_id": "3f0c9a7e"},
        "merchant_connector_id": "mca_sAD3OZLATetvjLOYhUSy", "status": "success", "error_message": None,
        "error_code": None, "profile_id": "pro_abc", "created": "2026-01-02T10:11:12.000Z",
        "connector_transaction_id": "S3FC9G9M2MVFDXT5", "priority": None, "attempts": None,
        "payout_link": None, "email": None, "name": None, "phone": None, "phone_country_code": None,
        "unified_code": None, "unified_message": None, "payout_method_id": "pm_saved_card_01",
    }
    body.update(overrides)
    hyperswitch_spec.validate_schema("PayoutCreateResponse", body)  # the mock answers what the router may
    return body


def saved_method_params(**overrides: Any) -> PayoutCreateParams:
    fields: dict[str, Any] = {"amount": 1000, "currency": "USD", "payout_id": PAYOUT_ID, "confirm": True,
                              "auto_fulfill": True, "customer_id": CUSTOMER_ID,
                              "payout_method_id": "pm_saved_card_01", "payout_type": "card"}
    fields.update(overrides)
    return PayoutCreateParams.model_validate(fields)


def sent(api: responses.RequestsMock, index: int = -1) -> Any:
    body = api.calls[index].request.body
    return json.loads(body) if body else None


# ---------------------------------------------------------------- create


def test_pay_out_to_a_saved_payment_method(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.post(f"{BASE_URL}/payouts/create", json=payout_body())
    payout = client.payouts.create(saved_method_params(
        description="Kill Bill credit", metadata={"kb_transaction_id": "3f0c9a7e"},
        merchant_order_reference_id="kb-payment-1"))
    assert sent(api) == {
        "amount": 1000, "currency": "USD", "payout_id": PAYOUT_ID, "confirm": True, "auto_fulfill": True,
        "customer_id": CUSTOMER_ID, "payout_method_id": "pm_saved_card_01", "payout_type": "card",
        "description": "Kill Bill credit", "metadata": {"kb_transaction_id": "3f0c9a7e"},
        "merchant_order_reference_id": "kb-payment-1"}
    assert payout.status is PayoutStatus.SUCCESS
    assert (payout.payout_id, payout.amount, payout.customer_id) == (PAYOUT_ID, 1000, CUSTOMER_ID)
    assert payout.connector_transaction_id == "S3FC9G9M2MVFDXT5"
    assert payout.created == datetime(2026, 1, 2, 10, 11, 12, tzinfo=UTC)


def test_pay_out_to_card_data_keeps_the_number_out_of_repr_and_audit(
    api: responses.RequestsMock, client: HyperswitchClient, audit_log: list[AuditRecord]
) -> None:
    api.post(f"{BASE_URL}/payouts/create", json=payout_body(payout_method_id=None, customer_id=None,
                                                            customer=None))
    params = PayoutCreateParams(amount=1000, currency="USD", payout_id=PAYOUT_ID, confirm=True,
                                auto_fulfill=True, payout_type=PayoutType.CARD,
                                payout_method_data=PayoutMethodData.model_validate({"card": {
                                    "card_number": "4242424242424242", "expiry_month": "12",
                                    "expiry_year": "2035", "card_holder_name": "Ada Lovelace"}}))
    assert "4242424242424242" not in repr(params)
    client.payouts.create(params)
    assert sent(api)["payout_method_data"]["card"]["card_number"] == "4242424242424242"
    (record,) = audit_log
    assert record.request_body["payout_method_data"]["card"]["card_number"] == REDACTED
    assert record.request_body["payout_method_data"]["card"]["card_holder_name"] == REDACTED
    assert "4242424242424242" not in json.dumps(record.request_body)
    assert record.response_body["payout_method_data"]["card"]["last4"] == REDACTED


def test_pay_out_to_a_bank_account(api: responses.RequestsMock, client: HyperswitchClient,
                                   audit_log: list[AuditRecord]) -> None:
    api.post(f"{BASE_URL}/payouts/create", json=payout_body(
        status="pending", payout_type="bank", payout_method_id=None,
        payout_method_data={"bank": {"iban": "DE8937****3000", "bic": None, "bank_name": None,
                                     "bank_country_code": None, "bank_city": None, "account_holder_name": None}}))
    params = PayoutCreateParams(amount=1000, currency="EUR", payout_id=PAYOUT_ID, confirm=True,
                                auto_fulfill=True, customer_id=CUSTOMER_ID, payout_type=PayoutType.BANK,
                                payout_method_data=PayoutMethodData.model_validate(
                                    {"bank": {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}}))
    payout = client.payouts.create(params)
    assert sent(api)["payout_method_data"] == {"bank": {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}}
    assert payout.status is PayoutStatus.PENDING
    assert "DE89370400440532013000" not in json.dumps(audit_log[0].request_body)


@pytest.mark.parametrize(("fields", "reason"), [
    ({"confirm": False}, "payout_method_id needs confirm=true"),
    ({"payout_token": "tok_1"}, "only one of payout_method_id or payout_token"),
    ({"customer_id": None}, "need the customer"),
    ({"customer": {"id": "another_customer"}}, "customer_id and customer.id differ"),
    ({"amount": -1}, "greater than or equal to 0"),
    ({"payout_id": "not a valid id!"}, "String should match pattern"),
    ({"currency": "XXX"}, "XXX"),
])  # fmt: skip
def test_requests_the_router_would_refuse_are_not_sent(
    api: responses.RequestsMock, client: HyperswitchClient, fields: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValidationError, match=reason):
        saved_method_params(**fields)
    assert not api.calls


def test_payout_method_data_takes_exactly_one_kind() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        PayoutMethodData.model_validate({})
    with pytest.raises(ValidationError, match="exactly one"):
        PayoutMethodData.model_validate({"card": {"card_number": "4242424242424242", "expiry_month": "1",
                                                  "expiry_year": "35", "card_holder_name": "A"},
                                         "bank": {"iban": "DE89370400440532013000"}})


def test_the_spec_checks_the_payout_id_the_router_reads() -> None:
    # The correction declares payout_id on PayoutsCreateRequest: a bad one is caught, a good one passes.
    hyperswitch_spec.validate_request("POST", "/payouts/create", {"amount": 1, "currency": "USD",
                                                                  "payout_id": PAYOUT_ID})
    with pytest.raises(ContractViolation, match="payout_id"):
        hyperswitch_spec.validate_request("POST", "/payouts/create", {"amount": 1, "currency": "USD",
                                                                      "payout_id": "bad id"})


# ---------------------------------------------------------------- retries


@pytest.mark.parametrize(
    "first",
    [{"status": 500, "json": SERVER_ERROR},
     {"body": requests.exceptions.ReadTimeout("read timed out")},
     {"body": requests.exceptions.ConnectionError("Connection aborted.", ConnectionResetError())}],
)  # fmt: skip
def test_a_retried_create_answered_he_01_reads_the_payout_back(
    api: responses.RequestsMock, client: HyperswitchClient, first: dict[str, Any]
) -> None:
    api.post(f"{BASE_URL}/payouts/create", **first)
    api.post(f"{BASE_URL}/payouts/create", status=400, json=HE_01)
    api.get(PAYOUT_URL, json=payout_body(status="pending"))
    payout = client.payouts.create(saved_method_params())
    assert payout.payout_id == PAYOUT_ID and payout.status is PayoutStatus.PENDING
    assert [(c.request.method, c.request.path_url.split("?")[0]) for c in api.calls] == [
        ("POST", "/payouts/create"), ("POST", "/payouts/create"), ("GET", f"/payouts/{PAYOUT_ID}")]
    assert sent(api, 0) == sent(api, 1)


def test_he_01_on_the_first_attempt_is_reported_not_hidden(
    api: responses.RequestsMock, client: HyperswitchClient
) -> None:
    api.post(f"{BASE_URL}/payouts/create", status=400, json=HE_01)
    with pytest.raises(DuplicateResourceError) as caught:
        client.payouts.create(saved_method_params())
    assert caught.value.code == "HE_01" and caught.value.kind is ErrorKind.KNOWN_OUTCOME
    assert len(api.calls) == 1


def test_a_create_without_payout_id_is_not_resent_after_a_5xx(
    make_client: Callable[..., HyperswitchClient], api: responses.RequestsMock
) -> None:
    client = make_client(retry_policy=RetryPolicy(max_retries=3, jitter=0.0))
    api.post(f"{BASE_URL}/payouts/create", status=500, json=SERVER_ERROR)
    with pytest.raises(Exception) as caught:
        client.payouts.create(saved_method_params(payout_id=None))
    assert getattr(caught.value, "kind", None) is ErrorKind.UNKNOWN_OUTCOME
    assert len(api.calls) == 1


def test_fulfill_that_may_have_run_is_never_resent(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.post(f"{PAYOUT_URL}/fulfill", body=requests.exceptions.ReadTimeout("read timed out"))
    with pytest.raises(Exception) as caught:
        client.payouts.fulfill(PAYOUT_ID)
    assert getattr(caught.value, "kind", None) is ErrorKind.UNKNOWN_OUTCOME
    assert len(api.calls) == 1


# ---------------------------------------------------------------- retrieve, confirm, fulfill, cancel, list


def test_retrieve_with_and_without_force_sync(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.get(PAYOUT_URL, json=payout_body(status="initiated"))
    assert client.payouts.retrieve(PAYOUT_ID).status is PayoutStatus.INITIATED
    assert client.payouts.retrieve(PAYOUT_ID, force_sync=True).status is PayoutStatus.INITIATED
    queries = [parse_qs(urlsplit(c.request.url).query) for c in api.calls]
    assert queries == [{"force_sync": ["false"]}, {"force_sync": ["true"]}]


def test_an_unknown_payout_is_not_found(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.get(PAYOUT_URL, status=404, json={"error": {"type": "invalid_request", "code": "HE_02",
                                                     "message": "Payout does not exist in our records"}})
    with pytest.raises(NotFoundError) as caught:
        client.payouts.retrieve(PAYOUT_ID)
    assert caught.value.kind is ErrorKind.KNOWN_OUTCOME


def test_a_status_hyperswitch_adds_later_stays_a_plain_string(
    api: responses.RequestsMock, client: HyperswitchClient
) -> None:
    body = payout_body()
    body["status"] = "requires_new_thing"  # not in the spec's enum: bypass the mock's own check
    api.get(PAYOUT_URL, json=body)
    status = client.payouts.retrieve(PAYOUT_ID).status
    assert status == "requires_new_thing" and not isinstance(status, PayoutStatus)


def test_confirm_then_fulfill(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.post(f"{PAYOUT_URL}/confirm", json=payout_body(status="requires_fulfillment", auto_fulfill=False))
    api.post(f"{PAYOUT_URL}/fulfill", json=payout_body(status="success", auto_fulfill=False))
    secret = f"payout_{PAYOUT_ID}_secret_abcdefghij0123456789"
    confirmed = client.payouts.confirm(PAYOUT_ID, PayoutConfirmParams(client_secret=secret,
                                                                      payout_method_id="pm_saved_card_01"))
    fulfilled = client.payouts.fulfill(PAYOUT_ID)
    assert sent(api, 0) == {"client_secret": secret, "payout_method_id": "pm_saved_card_01"}
    assert sent(api, 1) == {"payout_id": PAYOUT_ID}
    assert (confirmed.status, fulfilled.status) == (PayoutStatus.REQUIRES_FULFILLMENT, PayoutStatus.SUCCESS)


def test_cancel_and_its_refusal_for_a_final_payout(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.post(f"{PAYOUT_URL}/cancel", json=payout_body(status="cancelled"))
    api.post(f"{PAYOUT_URL}/cancel", status=422, json={"error": {
        "type": "invalid_request", "code": "IR_06",
        "message": f"Payout {PAYOUT_ID} cannot be cancelled for status cancelled"}})
    assert client.payouts.cancel(PAYOUT_ID).status is PayoutStatus.CANCELLED
    with pytest.raises(InvalidRequestError) as caught:
        client.payouts.cancel(PAYOUT_ID)
    assert caught.value.code == "IR_06"
    assert sent(api, 0) == {"payout_id": PAYOUT_ID}
    assert len(api.calls) == 2


def test_list_a_customers_payouts(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.get(f"{BASE_URL}/payouts/list", json={"size": 1, "data": [payout_body()], "total_count": 1})
    page = client.payouts.list(PayoutListParams(customer_id=CUSTOMER_ID, limit=5,
                                                created=datetime(2026, 1, 1, tzinfo=UTC)))
    assert (page.size, page.total_count, page.data[0].payout_id) == (1, 1, PAYOUT_ID)
    assert parse_qs(urlsplit(api.calls[0].request.url).query) == {
        "customer_id": [CUSTOMER_ID], "limit": ["5"], "created": ["2026-01-01T00:00:00.000Z"]}
    with pytest.raises(ValidationError):
        PayoutListParams(limit=101)


# ---------------------------------------------------------------- webhooks


def test_a_payout_webhook_names_and_types_its_payout() -> None:
    envelope = {"merchant_id": "merchant_1668273825", "event_id": "evt_018e31720d1b7a2b82677d3032cab959",
                "event_type": "payout_success", "timestamp": "2026-01-02T10:11:13.000Z",
                "content": {"type": "payout_details", "object": payout_body()}}
    hyperswitch_spec.validate_schema("OutgoingWebhook", envelope)
    event = parse_event(json.dumps(envelope).encode())
    assert event.payout_id == PAYOUT_ID and event.payment_id is None
    assert event.payout().status is PayoutStatus.SUCCESS
