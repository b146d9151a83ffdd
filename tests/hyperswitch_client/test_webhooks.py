"""Webhook signature (HMAC-SHA512 over the raw body) and envelope parsing, on the real examples."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from hyperswitch_client.enums import (
    DisputeStatus,
    EventType,
    IntentStatus,
    MandateStatus,
    RefundStatus,
    WebhookContentType,
)
from hyperswitch_client.webhooks import (
    SIGNATURE_HEADER,
    InvalidWebhookError,
    compute_signature,
    parse_event,
    verify_signature,
)
from tests.contract.spec import hyperswitch_spec
from tests.hyperswitch_client.conftest import example, example_bytes

KEY = "kT9fR2mXq8vLp4sW1nZc6bYh3jDg7aEu5oQiVx0MtNrFeSyKwAlUdPzHjCbGm4Qs"
WEBHOOKS = [
    "webhook_payment_succeeded.assembled.json",
    "webhook_payment_failed.assembled.json",
    "webhook_refund_succeeded.assembled.json",
    "webhook_dispute_opened.assembled.json",
    "webhook_dispute_lost.assembled.json",
    "webhook_mandate_revoked.assembled.json",
]


def test_signature_is_lowercase_hex_hmac_sha512_of_the_raw_bytes() -> None:
    body = example_bytes("webhook_payment_succeeded.assembled.json")
    expected = hmac.new(KEY.encode(), body, hashlib.sha512).hexdigest()
    signature = compute_signature(body, KEY)
    assert signature == expected
    assert len(signature) == 128 and signature == signature.lower()
    assert SIGNATURE_HEADER == "X-Webhook-Signature-512"


@pytest.mark.parametrize("name", WEBHOOKS)
def test_a_genuine_signature_verifies(name: str) -> None:
    body = example_bytes(name)
    assert verify_signature(body, compute_signature(body, KEY), KEY)


def test_uppercase_hex_and_surrounding_space_still_verify() -> None:
    body = example_bytes("webhook_refund_succeeded.assembled.json")
    assert verify_signature(body, f" {compute_signature(body, KEY).upper()} ", KEY)


def test_a_tampered_body_fails() -> None:
    body = example_bytes("webhook_payment_succeeded.assembled.json")
    signature = compute_signature(body, KEY)
    tampered = body.replace(b'"amount": 6540', b'"amount": 6541')
    assert tampered != body
    assert not verify_signature(tampered, signature, KEY)


def test_reserializing_the_body_breaks_the_signature() -> None:
    # The signature covers the exact bytes; parsed-and-dumped JSON is a different message.
    body = example_bytes("webhook_payment_succeeded.assembled.json")
    signature = compute_signature(body, KEY)
    reserialized = json.dumps(json.loads(body)).encode()
    assert not verify_signature(reserialized, signature, KEY)


def test_another_key_fails() -> None:
    body = example_bytes("webhook_mandate_revoked.assembled.json")
    assert not verify_signature(body, compute_signature(body, KEY), KEY + "x")
    assert not verify_signature(body, compute_signature(body, "another-profile-key"), KEY)


@pytest.mark.parametrize("signature", [None, "", "deadbeef", "é" * 128, "0" * 128])
def test_missing_or_malformed_signatures_fail(signature: str | None) -> None:
    assert not verify_signature(b"{}", signature, KEY)


def test_an_empty_key_is_refused_not_trusted() -> None:
    with pytest.raises(ValueError):
        verify_signature(b"{}", compute_signature(b"{}", "k"), "")


def test_body_must_be_bytes() -> None:
    with pytest.raises(TypeError):
        compute_signature("{}", KEY)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", WEBHOOKS)
def test_examples_are_spec_valid_envelopes(name: str) -> None:
    # Guards the fixtures themselves: they are what Hyperswitch's schema says it sends.
    hyperswitch_spec.validate_schema("OutgoingWebhook", example(name))


def test_payment_event() -> None:
    event = parse_event(example_bytes("webhook_payment_succeeded.assembled.json"))
    assert event.event_type is EventType.PAYMENT_SUCCEEDED
    assert event.content.type is WebhookContentType.PAYMENT_DETAILS
    assert event.merchant_id == "<string>"
    assert event.event_id == "<string>"
    assert event.timestamp == datetime(2023, 11, 7, 5, 31, 56, tzinfo=UTC)
    assert event.payment_id == "pay_mbabizu24mvu3mela5njyhpit4"
    assert event.refund_id is None and event.dispute_id is None
    payment = event.payment()
    assert payment.status is IntentStatus.SUCCEEDED
    assert (payment.amount, payment.currency) == (6540, "AED")
    assert payment.mandate_id == "mandate_iwer89rnjef349dni3"


def test_failed_payment_event_carries_the_decline() -> None:
    payment = parse_event(example_bytes("webhook_payment_failed.assembled.json")).payment()
    assert payment.status is IntentStatus.FAILED
    assert (payment.error_code, payment.error_message) == ("E0001", "Failed while verifying the card")


def test_refund_event() -> None:
    event = parse_event(example_bytes("webhook_refund_succeeded.assembled.json"))
    assert event.event_type is EventType.REFUND_SUCCEEDED
    assert (event.refund_id, event.payment_id) == ("<string>", "<string>")
    refund = event.refund()
    assert refund.status is RefundStatus.SUCCEEDED and refund.amount == 6540


@pytest.mark.parametrize(
    ("name", "event_type", "status"),
    [("webhook_dispute_opened.assembled.json", EventType.DISPUTE_OPENED, DisputeStatus.DISPUTE_OPENED),
     ("webhook_dispute_lost.assembled.json", EventType.DISPUTE_LOST, DisputeStatus.DISPUTE_LOST)],
)  # fmt: skip
def test_dispute_events(name: str, event_type: EventType, status: DisputeStatus) -> None:
    event = parse_event(example_bytes(name))
    assert event.event_type is event_type
    assert event.dispute_id == "<string>"
    dispute = event.dispute()
    assert dispute.dispute_status is status
    assert dispute.amount == "<string>"  # a string of minor units in the real schema


def test_mandate_event() -> None:
    event = parse_event(example_bytes("webhook_mandate_revoked.assembled.json"))
    assert event.event_type is EventType.MANDATE_REVOKED
    assert event.mandate_id == "<string>"
    assert event.profile_id is None  # mandates carry no profile_id
    assert event.mandate().status is MandateStatus.REVOKED


def test_profile_id_comes_from_the_object() -> None:
    data = example("webhook_payment_succeeded.assembled.json")
    data["content"]["object"]["profile_id"] = "pro_abc"
    assert parse_event(json.dumps(data).encode()).profile_id == "pro_abc"


def test_asking_for_the_wrong_object_kind_is_an_error() -> None:
    event = parse_event(example_bytes("webhook_refund_succeeded.assembled.json"))
    with pytest.raises(InvalidWebhookError, match="refund_details"):
        event.payment()


def test_new_event_types_parse_as_plain_strings() -> None:
    data = example("webhook_payment_succeeded.assembled.json")
    data["event_type"] = "payment_teleported"
    event = parse_event(json.dumps(data).encode())
    assert event.event_type == "payment_teleported"
    assert not isinstance(event.event_type, EventType)


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'"x"', b"\xff\xfe", b'{"event_id": "e"}',
     b'{"merchant_id":"m","event_id":"e","event_type":"payment_succeeded","content":{"type":"payment_details"}}',
     b'{"merchant_id":"m","event_id":"e","event_type":"payment_succeeded","content":{"type":"x","object":[]}}',
     b'{"merchant_id":"m","event_id":"e","event_type":"payment_succeeded","timestamp":"yesterday",'
     b'"content":{"type":"payment_details","object":{}}}'],
)  # fmt: skip
def test_malformed_bodies_raise_a_clear_error(body: bytes) -> None:
    with pytest.raises(InvalidWebhookError):
        parse_event(body)


def test_a_malformed_object_is_reported_when_typed() -> None:
    data = example("webhook_payment_succeeded.assembled.json")
    del data["content"]["object"]["status"]
    event = parse_event(json.dumps(data).encode())
    with pytest.raises(InvalidWebhookError, match="payment_details"):
        event.payment()
