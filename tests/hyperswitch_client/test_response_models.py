"""Response models parse the real example responses, tolerate new fields, and type what we read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from hyperswitch_client.customers import Customer
from hyperswitch_client.disputes import Dispute
from hyperswitch_client.enums import (
    TERMINAL_INTENT_STATUSES,
    IntentStatus,
    MandateStatus,
    PaymentLinkStatus,
    RefundStatus,
)
from hyperswitch_client.mandates import Mandate
from hyperswitch_client.payment_links import PaymentLinkDetails
from hyperswitch_client.payment_methods import CustomerPaymentMethodList
from hyperswitch_client.payments import Payment
from hyperswitch_client.refunds import Refund
from tests.contract.spec import hyperswitch_spec
from tests.hyperswitch_client.conftest import example, payment_body, refund_body

PAYMENT_RESPONSES = [
    "payment_create_minimal.response.json",
    "payment_create_manual_capture_intent.response.json",
    "payment_create_cit_setup_mandate.response.json",
    "payment_create_mit_mandate_id.response.json",
    "payment_create_save_card_off_session.response.json",
    "payment_create_saved_card_token.response.json",
]


@pytest.mark.parametrize("name", PAYMENT_RESPONSES)
def test_real_payment_responses_parse(name: str) -> None:
    body = example(name)
    payment = Payment.model_validate(body)
    assert payment.payment_id == body["payment_id"]
    assert payment.status == body["status"] and isinstance(payment.status, IntentStatus)
    assert (payment.amount, payment.currency) == (body["amount"], body["currency"])
    assert payment.created is not None and payment.created.tzinfo is UTC


def test_setup_mandate_response() -> None:
    payment = Payment.model_validate(example("payment_create_cit_setup_mandate.response.json"))
    assert payment.mandate_id == "man_xxxxxxxxxxxx"
    assert payment.customer_id == "StripeCustomer123"
    assert payment.amount_capturable == 0  # below the spec's bogus minimum of 100
    assert payment.model_extra and payment.model_extra["ephemeral_key"]["customer_id"] == "StripeCustomer123"


@pytest.mark.parametrize(
    ("fragment", "status"),
    [("payment_3ds_requires_customer_action.fragment.json", IntentStatus.REQUIRES_CUSTOMER_ACTION),
     ("payment_capture_succeeded.fragment.json", IntentStatus.SUCCEEDED),
     ("payment_partial_capture.fragment.json", IntentStatus.PARTIALLY_CAPTURED),
     ("payment_requires_capture.fragment.json", IntentStatus.REQUIRES_CAPTURE),
     ("payment_failed_card_declined.fragment.json", IntentStatus.FAILED),
     ("payment_failed_insufficient_funds.fragment.json", IntentStatus.FAILED)],
)  # fmt: skip
def test_real_payment_fragments_parse_over_a_full_response(fragment: str, status: IntentStatus) -> None:
    body = payment_body(**example(fragment))
    payment = Payment.model_validate(body)
    assert payment.status is status
    for key in ("error_code", "error_message", "amount_received", "amount_capturable"):
        if key in body:
            assert getattr(payment, key) == body[key]


def test_a_decline_is_a_200_with_the_gateway_s_code() -> None:
    payment = Payment.model_validate(payment_body(**example("payment_failed_card_declined.fragment.json")))
    assert payment.error_code == "card_declined"
    assert payment.error_message and payment.error_message.startswith("message - Your card was declined")
    assert payment.status in TERMINAL_INTENT_STATUSES


def test_masked_card_of_an_authorization() -> None:
    payment = Payment.model_validate(payment_body(**example("payment_requires_capture.fragment.json")))
    assert payment.payment_method_data and payment.payment_method_data.card
    assert (payment.payment_method_data.card.last4, payment.payment_method_data.card.card_network) == (
        "0005", "AmericanExpress")  # fmt: skip


def test_webhook_payment_objects_parse() -> None:
    for name in ("webhook_payment_succeeded.assembled.json", "webhook_payment_failed.assembled.json"):
        obj = example(name)["content"]["object"]
        hyperswitch_spec.validate_schema("PaymentsResponse", obj)
        assert Payment.model_validate(obj).payment_id == "pay_mbabizu24mvu3mela5njyhpit4"


def test_new_fields_are_kept_not_refused() -> None:
    payment = Payment.model_validate(payment_body(brand_new_field={"x": 1}))
    assert payment.model_extra == {"brand_new_field": {"x": 1}}


def test_a_new_status_parses_as_a_plain_string() -> None:
    payment = Payment.model_validate(payment_body(status="partially_refunded_maybe"))
    assert payment.status == "partially_refunded_maybe"
    assert not isinstance(payment.status, IntentStatus)


def test_what_we_read_is_typed() -> None:
    with pytest.raises(ValidationError):
        Payment.model_validate(payment_body(amount="lots"))
    with pytest.raises(ValidationError):
        Payment.model_validate({k: v for k, v in payment_body().items() if k != "payment_id"})


def test_naive_timestamps_are_read_as_utc() -> None:
    payment = Payment.model_validate(payment_body(created="2026-03-01T12:00:00.5"))
    assert payment.created == datetime(2026, 3, 1, 12, 0, 0, 500000, tzinfo=UTC)
    offset = Payment.model_validate(payment_body(created="2026-03-01T14:00:00+02:00"))
    assert offset.created == datetime(2026, 3, 1, 12, tzinfo=UTC) and offset.created.tzinfo is UTC


@pytest.mark.parametrize(
    ("fragment", "status"),
    [("refund_succeeded.fragment.json", RefundStatus.SUCCEEDED),
     ("refund_pending.fragment.json", RefundStatus.PENDING),
     ("refund_failed.fragment.json", RefundStatus.FAILED)],
)  # fmt: skip
def test_refund_responses(fragment: str, status: RefundStatus) -> None:
    assert Refund.model_validate(refund_body(**example(fragment))).status is status


def test_assembled_refund_customer_mandate_link_and_methods_parse() -> None:
    refund = Refund.model_validate(example("refund_response.assembled.json"))
    assert (refund.amount, refund.connector) == (6540, "stripe")
    customer = Customer.model_validate(example("customer_response.assembled.json"))
    assert customer.customer_id == "cus_y3oqhf46pyzuxjbcn2giaqnb44"
    mandate = Mandate.model_validate(example("mandate_response.assembled.json"))
    assert mandate.status is MandateStatus.ACTIVE
    assert mandate.customer_acceptance and mandate.customer_acceptance.accepted_at == datetime(
        2022, 9, 10, 10, 11, 12, tzinfo=UTC)  # fmt: skip
    link = PaymentLinkDetails.model_validate(example("payment_link_retrieve.assembled.json"))
    assert link.status is PaymentLinkStatus.ACTIVE
    methods = CustomerPaymentMethodList.model_validate(
        example("customer_payment_methods_list.assembled.json")
    )
    assert methods.customer_payment_methods[0].payment_method == "card"


def test_dispute_amount_is_a_string_of_minor_units() -> None:
    obj = example("webhook_dispute_opened.assembled.json")["content"]["object"]
    dispute = Dispute.model_validate({**obj, "amount": "1250"})
    assert dispute.amount == "1250" and dispute.amount_minor == 1250
