"""The audit hook: one redacted record per HTTP attempt."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC

import pytest
import responses

from hyperswitch_client import APIError, AuditRecord, ErrorKind, HyperswitchClient
from hyperswitch_client.audit import REDACTED, redact, redact_body
from hyperswitch_client.payments import PaymentCreateParams
from tests.hyperswitch_client.conftest import (
    API_KEY,
    BASE_URL,
    PAYMENT_ID,
    FakeClock,
    example,
    payment_body,
)

PAYMENT_URL = f"{BASE_URL}/payments/{PAYMENT_ID}"


def leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    return [value]


def test_one_record_per_attempt(
    api: responses.RequestsMock, client: HyperswitchClient, audit_log: list[AuditRecord]
) -> None:
    api.get(PAYMENT_URL, status=500, json={"error": {"type": "api", "message": "x", "code": "HE_00"}})
    api.get(PAYMENT_URL, json=payment_body())
    client.payments.retrieve(PAYMENT_ID, force_sync=True)
    first, second = audit_log
    assert (first.method, first.path, first.query) == ("GET", f"/payments/{PAYMENT_ID}",
                                                       {"force_sync": "true"})  # fmt: skip
    assert (first.attempt, first.status, first.error_kind, first.error_code) == (
        1, 500, ErrorKind.UNKNOWN_OUTCOME, "HE_00")  # fmt: skip
    assert (second.attempt, second.status, second.error_kind, second.error_code) == (2, 200, None, None)
    assert first.request_body is None
    assert second.response_body["payment_id"] == PAYMENT_ID
    assert first.started_at.tzinfo is UTC


def test_latency_is_measured_per_attempt(
    api: responses.RequestsMock,
    client: HyperswitchClient,
    audit_log: list[AuditRecord],
    clock: FakeClock,
) -> None:
    def slow(request: object) -> tuple[int, dict, str]:
        clock.now += 0.123
        return 200, {}, json.dumps(payment_body())

    api.add_callback(responses.GET, PAYMENT_URL, callback=slow)
    client.payments.retrieve(PAYMENT_ID)
    assert audit_log[0].latency_ms == pytest.approx(123.0)


def test_bodies_are_redacted_and_the_api_key_never_appears(
    api: responses.RequestsMock, client: HyperswitchClient, audit_log: list[AuditRecord]
) -> None:
    response = payment_body(**example("payment_requires_capture.fragment.json"),
                            client_secret="pay_x_secret_y")  # fmt: skip
    api.post(f"{BASE_URL}/payments", json=response)
    request = example("payment_create_cit_setup_mandate.request.json")
    client.payments.create(PaymentCreateParams.model_validate(request))
    (record,) = audit_log
    card = record.request_body["payment_method_data"]["card"]
    assert set(card.values()) == {REDACTED}
    assert record.request_body["amount"] == 6540  # the rest is kept
    assert record.response_body["client_secret"] == REDACTED
    assert set(leaves(record.response_body["payment_method_data"]["card"])) <= {REDACTED, None}
    text = repr(record)
    for secret in (API_KEY, "4242424242424242", "'123'", "pay_x_secret_y", "378282"):
        assert secret not in text


def test_a_non_json_answer_is_kept_as_redacted_text(
    api: responses.RequestsMock, client: HyperswitchClient, audit_log: list[AuditRecord]
) -> None:
    api.get(PAYMENT_URL, status=502, body=b"<html>upstream said 4111 1111 1111 1111</html>" + b"x" * 9000)
    with pytest.raises(APIError):
        client.payments.retrieve(PAYMENT_ID)
    body = audit_log[0].response_body
    assert isinstance(body, str) and len(body) <= 4096
    assert "4111" not in body and REDACTED in body


def test_a_failing_hook_never_changes_the_outcome(
    api: responses.RequestsMock,
    make_client: Callable[..., HyperswitchClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(record: AuditRecord) -> None:
        raise RuntimeError("audit database is down")

    client = make_client(audit_hook=broken)
    api.get(PAYMENT_URL, json=payment_body())
    with caplog.at_level(logging.ERROR, logger="hyperswitch_client._requestor"):
        assert client.payments.retrieve(PAYMENT_ID).payment_id == PAYMENT_ID
    assert "audit hook failed" in caplog.text


def test_redact_masks_secrets_anywhere() -> None:
    value = {
        "payment_response_hash_key": "k", "webhook_details": {"webhook_password": "p"},
        "ephemeral_key": {"secret": "epk_1", "customer_id": "c"},
        "recurring_details": {"data": {"card_number": "4111111111111111", "card_exp_month": "10"}},
        "list": [{"card_cvc": "123"}, "card 5555 5555 5555 4444 was used"],
        "connector_transaction_id": "993672945374576J", "amount": 1234567890123456,
        "card": {"last4_digits": "4242"},
    }  # fmt: skip
    assert redact(value) == {
        "payment_response_hash_key": REDACTED, "webhook_details": {"webhook_password": REDACTED},
        "ephemeral_key": {"secret": REDACTED, "customer_id": "c"},
        "recurring_details": {"data": {"card_number": REDACTED, "card_exp_month": "10"}},
        "list": [{"card_cvc": REDACTED}, f"card {REDACTED} was used"],
        "connector_transaction_id": "993672945374576J", "amount": 1234567890123456,
        "card": {"last4_digits": "4242"},  # not under payment_method_data: masked data only
    }  # fmt: skip


def test_redact_leaves_nulls_and_empty_bodies() -> None:
    assert redact({"client_secret": None}) == {"client_secret": None}
    assert redact_body(b"") is None and redact_body(None) is None
