"""The real ``HyperswitchClient`` against the Hyperswitch simulator over loopback HTTP.

Every request the client sends and every answer the simulator returns is validated against the real
spec when each test ends (``recorder`` in conftest). Faults are injected by the simulator and seen
through the client: what is retried, what is not, and which error kind the bridge gets.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

import hyperswitch_client as hs
from bridge.simulators.hyperswitch import SimulatorState
from hyperswitch_client.customers import CustomerCreateParams, CustomerUpdateParams
from hyperswitch_client.enums import (
    CaptureMethod,
    DisputeStatus,
    EventType,
    FutureUsage,
    IntentStatus,
    MandateStatus,
    PaymentLinkStatus,
    RefundStatus,
)
from hyperswitch_client.payments import (
    CardDetails,
    MandateAmountData,
    MandateData,
    MandateIdRecurring,
    MultiUseMandate,
    Payment,
    PaymentCancelParams,
    PaymentCaptureParams,
    PaymentCreateParams,
    PaymentListParams,
    PaymentMethodData,
    PaymentMethodIdRecurring,
)
from hyperswitch_client.profiles import WebhookDetailsParams
from hyperswitch_client.refunds import RefundCreateParams, RefundListParams
from tests.contract.spec import ContractViolation, hyperswitch_spec

from .conftest import (
    MERCHANT,
    OTHER_MERCHANT,
    Exchange,
    RecordingAdapter,
    Sleeps,
    new_id,
    validate_exchanges,
)

APPROVE = "4242424242424242"
DECLINE = "4000000000000002"
PROCESSING = "4000000000000077"
ACCEPTANCE = {"acceptance_type": "online", "accepted_at": "2026-01-01T00:00:00.000Z",
              "online": {"ip_address": "127.0.0.1", "user_agent": "pytest"}}


def card(number: str = APPROVE) -> PaymentMethodData:
    return PaymentMethodData(card=CardDetails(card_number=number, card_exp_month="12", card_exp_year="35",
                                              card_holder_name="Ada Lovelace", card_cvc="123"))


def card_payment(number: str = APPROVE, amount: int = 6540, **extra: object) -> PaymentCreateParams:
    fields: dict[str, object] = {"payment_id": new_id("pay_"), "amount": amount, "currency": "USD",
                                 "confirm": True, "payment_method": "card", "payment_method_data": card(number)}
    fields.update(extra)
    return PaymentCreateParams.model_validate(fields)


def saved_card_payment(client: hs.HyperswitchClient, customer_id: str, *, mandate: bool) -> Payment:
    """A customer-initiated payment that saves the card (and with ``mandate`` creates a mandate)."""
    extra: dict[str, object] = {"customer_id": customer_id, "setup_future_usage": FutureUsage.OFF_SESSION,
                                "customer_acceptance": ACCEPTANCE}
    if mandate:
        extra["mandate_data"] = MandateData(
            customer_acceptance=ACCEPTANCE,
            mandate_type=MultiUseMandate(multi_use=MandateAmountData(amount=10_000, currency="USD")))
    return client.payments.create(card_payment(**extra))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fault_fired(state: SimulatorState, rule_id: int) -> int:
    return next(rule["fired"] for rule in state.faults.rules() if rule["rule_id"] == rule_id)


def eventually(check: Callable[[], object], timeout: float = 5.0) -> object:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.02)


# -- the recorder itself -----------------------------------------------------------------------------


def test_the_recorder_sees_everything_and_the_spec_check_can_fail(hs_client: hs.HyperswitchClient,
                                                                  recorder: RecordingAdapter) -> None:
    payment = hs_client.payments.create(card_payment())
    hs_client.payments.retrieve(payment.payment_id)

    assert [(e.method, e.path) for e in recorder.exchanges] == [
        ("POST", "/payments"), ("GET", f"/payments/{payment.payment_id}")]
    assert validate_exchanges(recorder.exchanges) == 2  # both answers were read whole and checked
    sent = recorder.exchanges[0].request_json()
    assert sent["payment_method_data"]["card"]["card_number"] == APPROVE  # the bytes on the wire
    # A request or answer the spec does not allow is caught.
    bad_request = Exchange("POST", recorder.exchanges[0].url, b'{"amount": "12", "currency": "USD"}')
    with pytest.raises(ContractViolation):
        validate_exchanges([bad_request])
    bad_answer = Exchange("GET", recorder.exchanges[1].url, None, status=200,
                          content_type="application/json", response_body=b'{"payment_id": 5}')
    with pytest.raises(ContractViolation):
        validate_exchanges([bad_answer])


# -- payments ----------------------------------------------------------------------------------------


def test_create_and_confirm_a_card_payment(hs_client: hs.HyperswitchClient, hs_state: SimulatorState) -> None:
    params = card_payment(amount=1234, description="invoice 42", metadata={"kb_invoice": "42"})

    payment = hs_client.payments.create(params)

    assert payment.payment_id == params.payment_id and len(payment.payment_id) == 30
    assert payment.status is IntentStatus.SUCCEEDED
    assert (payment.amount, payment.amount_received, payment.currency) == (1234, 1234, "USD")
    assert payment.merchant_id == MERCHANT["merchant_id"] and payment.profile_id == MERCHANT["profile_id"]
    assert payment.payment_method_data.card.last4 == "4242"
    assert payment.metadata == {"kb_invoice": "42"} and payment.description == "invoice 42"
    assert hs_state.payments_overview() == [{"merchant_id": MERCHANT["merchant_id"], "payment_id": payment.payment_id,
                                             "create_calls": 1, "status": "succeeded", "amount": 1234,
                                             "amount_received": 1234, "metadata": {"kb_invoice": "42"}}]


def test_declined_payment_is_a_known_failure_with_the_gateway_code(hs_client: hs.HyperswitchClient) -> None:
    payment = hs_client.payments.create(card_payment(DECLINE))

    assert payment.status is IntentStatus.FAILED
    assert payment.error_code == "card_declined" and "generic_decline" in payment.error_message


def test_create_without_confirm_then_processing_card_settles_through_force_sync(
        hs_client: hs.HyperswitchClient, hs_state: SimulatorState) -> None:
    unconfirmed = hs_client.payments.create(PaymentCreateParams(payment_id=new_id("pay_"), amount=500,
                                                                currency="EUR"))
    assert unconfirmed.status is IntentStatus.REQUIRES_PAYMENT_METHOD

    pending = hs_client.payments.create(card_payment(PROCESSING))
    assert pending.status is IntentStatus.PROCESSING
    hs_state.settle_payment(pending.payment_id, "succeeded", notify=False)

    synced = hs_client.payments.retrieve(pending.payment_id, force_sync=True, expand_attempts=True)
    assert synced.status is IntentStatus.SUCCEEDED
    assert synced.attempts and synced.attempts[0].status == "charged"


def test_retrieve_sends_force_sync_on_the_wire(hs_client: hs.HyperswitchClient, recorder: RecordingAdapter) -> None:
    payment = hs_client.payments.create(card_payment())
    hs_client.payments.retrieve(payment.payment_id, force_sync=True)
    hs_client.payments.retrieve(payment.payment_id)

    queries = [e.query for e in recorder.calls("GET", "/payments/")]
    assert queries == ["force_sync=true", "force_sync=false"]


def test_authorize_then_partial_capture(hs_client: hs.HyperswitchClient) -> None:
    authorized = hs_client.payments.create(card_payment(amount=10_000, capture_method=CaptureMethod.MANUAL))
    assert authorized.status is IntentStatus.REQUIRES_CAPTURE and authorized.amount_capturable == 10_000

    captured = hs_client.payments.capture(authorized.payment_id, PaymentCaptureParams(amount_to_capture=4_000))

    assert captured.status is IntentStatus.PARTIALLY_CAPTURED
    assert captured.amount_received == 4_000 and captured.amount_capturable == 0


def test_capture_of_the_whole_amount_and_capture_beyond_it(hs_client: hs.HyperswitchClient) -> None:
    authorized = hs_client.payments.create(card_payment(amount=2_000, capture_method=CaptureMethod.MANUAL))
    with pytest.raises(hs.InvalidRequestError) as excinfo:
        hs_client.payments.capture(authorized.payment_id, PaymentCaptureParams(amount_to_capture=2_001))
    assert excinfo.value.kind is hs.ErrorKind.NOT_PROCESSED

    captured = hs_client.payments.capture(authorized.payment_id)
    assert captured.status is IntentStatus.SUCCEEDED and captured.amount_received == 2_000


def test_cancel_an_authorization_and_a_refused_cancel(hs_client: hs.HyperswitchClient) -> None:
    authorized = hs_client.payments.create(card_payment(capture_method=CaptureMethod.MANUAL))
    cancelled = hs_client.payments.cancel(authorized.payment_id,
                                          PaymentCancelParams(cancellation_reason="requested_by_customer"))
    assert cancelled.status is IntentStatus.CANCELLED
    assert cancelled.cancellation_reason == "requested_by_customer"

    with pytest.raises(hs.OperationRefusedError) as excinfo:
        hs_client.payments.cancel(cancelled.payment_id)
    assert excinfo.value.kind is hs.ErrorKind.KNOWN_OUTCOME and excinfo.value.http_status == 400


def test_list_payments_newest_first_filtered_by_customer(hs_client: hs.HyperswitchClient,
                                                         recorder: RecordingAdapter) -> None:
    before = datetime.now(UTC) - timedelta(minutes=1)
    first = hs_client.payments.create(card_payment(customer_id="cus_list_a"))
    second = hs_client.payments.create(card_payment(customer_id="cus_list_a"))
    hs_client.payments.create(card_payment(customer_id="cus_list_b"))

    listed = hs_client.payments.list(PaymentListParams(customer_id="cus_list_a", limit=10, created_gte=before))

    assert listed.size == 2 and [p.payment_id for p in listed.data] == [second.payment_id, first.payment_id]
    assert "created.gte=" in recorder.calls("GET", "/payments/list")[0].query
    assert hs_client.payments.list(PaymentListParams(limit=1)).size == 1


def test_retrieve_an_unknown_payment_is_not_found(hs_client: hs.HyperswitchClient) -> None:
    with pytest.raises(hs.NotFoundError) as excinfo:
        hs_client.payments.retrieve(new_id("pay_"))
    assert excinfo.value.code == "HE_02" and excinfo.value.kind is hs.ErrorKind.KNOWN_OUTCOME


def test_another_merchants_key_does_not_see_the_payment(make_client, hs_client: hs.HyperswitchClient) -> None:
    payment = hs_client.payments.create(card_payment())
    other = make_client(api_key=OTHER_MERCHANT["api_key"], profile_id=OTHER_MERCHANT["profile_id"])

    with pytest.raises(hs.NotFoundError):
        other.payments.retrieve(payment.payment_id)


def test_a_wrong_api_key_is_an_authentication_error(make_client) -> None:
    client = make_client(api_key="snd_not_a_key")
    with pytest.raises(hs.AuthenticationError) as excinfo:
        client.payments.list()
    assert excinfo.value.http_status == 401 and excinfo.value.kind is hs.ErrorKind.NOT_PROCESSED
    assert excinfo.value.attempts == 1


# -- off-session merchant-initiated payments -----------------------------------------------------------


def test_off_session_payments_with_a_saved_payment_method_and_a_mandate(hs_client: hs.HyperswitchClient) -> None:
    customer = hs_client.customers.create(CustomerCreateParams(customer_id=new_id("cus_"), name="Ada"))
    first = saved_card_payment(hs_client, customer.customer_id, mandate=True)
    assert first.status is IntentStatus.SUCCEEDED
    assert first.payment_method_id and first.mandate_id

    by_method = hs_client.payments.create(PaymentCreateParams(
        payment_id=new_id("pay_"), amount=1_500, currency="USD", confirm=True, off_session=True,
        customer_id=customer.customer_id,
        recurring_details=PaymentMethodIdRecurring(data=first.payment_method_id)))
    by_mandate = hs_client.payments.create(PaymentCreateParams(
        payment_id=new_id("pay_"), amount=2_500, currency="USD", confirm=True, off_session=True,
        customer_id=customer.customer_id, recurring_details=MandateIdRecurring(data=first.mandate_id)))

    assert by_method.status is IntentStatus.SUCCEEDED and by_method.payment_method_id == first.payment_method_id
    assert by_method.off_session is True and by_method.amount_received == 1_500
    assert by_mandate.status is IntentStatus.SUCCEEDED and by_mandate.mandate_id == first.mandate_id
    assert by_mandate.amount_received == 2_500


def test_off_session_payment_with_a_failing_saved_method_fails_with_the_decline(
        hs_client: hs.HyperswitchClient, hs_state: SimulatorState) -> None:
    customer_id = new_id("cus_")
    first = saved_card_payment(hs_client, customer_id, mandate=False)
    hs_state.set_payment_method_behaviour(first.payment_method_id, "insufficient_funds")

    charged = hs_client.payments.create(PaymentCreateParams(
        payment_id=new_id("pay_"), amount=900, currency="USD", confirm=True, off_session=True,
        customer_id=customer_id, recurring_details=PaymentMethodIdRecurring(data=first.payment_method_id)))

    assert charged.status is IntentStatus.FAILED and "insufficient_funds" in charged.error_message


# -- refunds -------------------------------------------------------------------------------------------


def test_refund_create_retrieve_list(hs_client: hs.HyperswitchClient) -> None:
    payment = hs_client.payments.create(card_payment(amount=5_000))
    refund_id = new_id("ref_")

    refund = hs_client.refunds.create(RefundCreateParams(payment_id=payment.payment_id, refund_id=refund_id,
                                                         amount=1_200, reason="customer request"))
    second = hs_client.refunds.create(RefundCreateParams(payment_id=payment.payment_id, refund_id=new_id("ref_"),
                                                         amount=800))

    assert refund.refund_id == refund_id and refund.status is RefundStatus.SUCCEEDED
    assert (refund.amount, refund.currency, refund.reason) == (1_200, "USD", "customer request")
    assert hs_client.refunds.retrieve(refund_id, force_sync=True).status is RefundStatus.SUCCEEDED
    listed = hs_client.refunds.list(RefundListParams(payment_id=payment.payment_id))
    assert sorted(r.refund_id for r in listed.data) == sorted([refund_id, second.refund_id])
    assert listed.count == 2
    assert {r.refund_id for r in hs_client.payments.retrieve(payment.payment_id).refunds} == {
        refund_id, second.refund_id}


def test_a_pending_refund_settles_and_an_over_refund_is_refused(hs_client: hs.HyperswitchClient,
                                                                hs_state: SimulatorState) -> None:
    payment = hs_client.payments.create(card_payment(amount=3_000))
    hs_state.set_refund_behaviour("pending", merchant_id=MERCHANT["merchant_id"], payment_id=payment.payment_id)

    pending = hs_client.refunds.create(RefundCreateParams(payment_id=payment.payment_id, refund_id=new_id("ref_"),
                                                          amount=3_000))
    assert pending.status is RefundStatus.PENDING
    hs_state.settle_refund(pending.refund_id, "failed", notify=False)
    assert hs_client.refunds.retrieve(pending.refund_id, force_sync=True).status is RefundStatus.FAILED

    with pytest.raises(hs.HyperswitchError) as excinfo:
        hs_client.refunds.create(RefundCreateParams(payment_id=payment.payment_id, refund_id=new_id("ref_"),
                                                    amount=3_001))
    assert excinfo.value.kind is not hs.ErrorKind.UNKNOWN_OUTCOME and excinfo.value.http_status == 400


# -- customers, payment methods, mandates ---------------------------------------------------------------


def test_customer_create_retrieve_update_delete(hs_client: hs.HyperswitchClient) -> None:
    customer_id = new_id("cus_")
    created = hs_client.customers.create(CustomerCreateParams(customer_id=customer_id, name="Ada Lovelace",
                                                              email="ada@example.com", metadata={"kb": "1"}))
    assert (created.customer_id, created.name, created.email) == (customer_id, "Ada Lovelace", "ada@example.com")

    updated = hs_client.customers.update(customer_id, CustomerUpdateParams(email="ada@analytical.engine"))
    assert updated.email == "ada@analytical.engine" and updated.name == "Ada Lovelace"
    assert hs_client.customers.retrieve(customer_id).email == "ada@analytical.engine"

    deleted = hs_client.customers.delete(customer_id)
    assert deleted.customer_id == customer_id and deleted.customer_deleted is True
    with pytest.raises(hs.HyperswitchError) as excinfo:
        hs_client.customers.retrieve(customer_id)
    assert excinfo.value.kind is hs.ErrorKind.KNOWN_OUTCOME


def test_a_duplicate_customer_on_a_first_attempt_is_reported_not_hidden(hs_client: hs.HyperswitchClient,
                                                                         recorder: RecordingAdapter) -> None:
    customer_id = new_id("cus_")
    hs_client.customers.create(CustomerCreateParams(customer_id=customer_id, name="First"))

    with pytest.raises(hs.DuplicateResourceError) as excinfo:
        hs_client.customers.create(CustomerCreateParams(customer_id=customer_id, name="Second"))

    assert excinfo.value.code == "IR_12" and excinfo.value.attempts == 1
    assert len(recorder.calls("GET", "/customers/")) == 0  # nothing was lost, so nothing is read back


def test_a_customer_create_whose_answer_was_lost_is_read_back(hs_client: hs.HyperswitchClient,
                                                              hs_state: SimulatorState,
                                                              recorder: RecordingAdapter) -> None:
    rule = hs_state.add_fault("POST", "/customers", "drop_after_commit", times=1)
    customer_id = new_id("cus_")

    customer = hs_client.customers.create(CustomerCreateParams(customer_id=customer_id, name="Ada"))

    assert customer.customer_id == customer_id and customer.name == "Ada"
    assert fault_fired(hs_state, rule["rule_id"]) == 1
    assert [e.method for e in recorder.exchanges] == ["POST", "POST", "GET"]  # lost, IR_12, read back
    assert recorder.exchanges[1].status == 400 and recorder.exchanges[1].response_json()["error"]["code"] == "IR_12"
    assert [c for (_, c) in hs_state.customers] == [customer_id]


def test_saved_payment_methods_list_retrieve_set_default_delete(hs_client: hs.HyperswitchClient) -> None:
    customer_id = new_id("cus_")
    first = saved_card_payment(hs_client, customer_id, mandate=False)
    second = hs_client.payments.create(card_payment(
        "5555555555554444", customer_id=customer_id, setup_future_usage=FutureUsage.OFF_SESSION,
        customer_acceptance=ACCEPTANCE))

    listed = hs_client.payment_methods.list_for_customer(customer_id)
    ids = {pm.payment_method_id for pm in listed.customer_payment_methods}
    assert ids == {first.payment_method_id, second.payment_method_id}
    assert all(pm.recurring_enabled for pm in listed.customer_payment_methods)

    method = hs_client.payment_methods.retrieve(first.payment_method_id)
    assert method.customer_id == customer_id and method.card.last4_digits == "4242"

    default = hs_client.payment_methods.set_default(customer_id, second.payment_method_id)
    assert default.default_payment_method_id == second.payment_method_id
    assert hs_client.customers.retrieve(customer_id).default_payment_method_id == second.payment_method_id
    flagged = {pm.payment_method_id: pm.default_payment_method_set
               for pm in hs_client.payment_methods.list_for_customer(customer_id).customer_payment_methods}
    assert flagged == {first.payment_method_id: False, second.payment_method_id: True}

    deleted = hs_client.payment_methods.delete(first.payment_method_id)
    assert deleted.deleted is True and deleted.payment_method_id == first.payment_method_id
    with pytest.raises(hs.NotFoundError):
        hs_client.payment_methods.retrieve(first.payment_method_id)
    remaining = hs_client.payment_methods.list_for_customer(customer_id).customer_payment_methods
    assert [pm.payment_method_id for pm in remaining] == [second.payment_method_id]


def test_mandates_retrieve_list_revoke(hs_client: hs.HyperswitchClient) -> None:
    customer_id = new_id("cus_")
    payment = saved_card_payment(hs_client, customer_id, mandate=True)

    mandate = hs_client.mandates.retrieve(payment.mandate_id)
    assert mandate.status is MandateStatus.ACTIVE and mandate.payment_method_id == payment.payment_method_id
    assert mandate.card.last4_digits == "4242"
    assert [m.mandate_id for m in hs_client.mandates.list_for_customer(customer_id)] == [payment.mandate_id]

    revoked = hs_client.mandates.revoke(payment.mandate_id)
    assert revoked.status is MandateStatus.REVOKED
    assert hs_client.mandates.retrieve(payment.mandate_id).status is MandateStatus.REVOKED
    with pytest.raises(hs.HyperswitchError) as excinfo:
        hs_client.payments.create(PaymentCreateParams(
            payment_id=new_id("pay_"), amount=100, currency="USD", confirm=True, off_session=True,
            customer_id=customer_id, recurring_details=MandateIdRecurring(data=payment.mandate_id)))
    assert excinfo.value.kind is not hs.ErrorKind.UNKNOWN_OUTCOME


# -- payment links, profiles, disputes -------------------------------------------------------------------


def test_payment_link_retrieve(hs_client: hs.HyperswitchClient) -> None:
    payment = hs_client.payments.create(PaymentCreateParams(
        payment_id=new_id("pay_"), amount=4_200, currency="EUR", payment_link=True,
        return_url="https://merchant.example/return", description="invoice 7"))
    assert payment.status is IntentStatus.REQUIRES_PAYMENT_METHOD and payment.payment_link is not None

    link = hs_client.payment_links.retrieve(payment.payment_link.payment_link_id)

    assert link.payment_link_id == payment.payment_link.payment_link_id
    assert (link.amount, link.currency, link.merchant_id) == (4_200, "EUR", MERCHANT["merchant_id"])
    assert link.status is PaymentLinkStatus.ACTIVE and link.link_to_pay == payment.payment_link.link


def test_profile_retrieve_and_update_webhook_details(hs_client: hs.HyperswitchClient, receiver) -> None:
    profile = hs_client.profiles.retrieve(MERCHANT["merchant_id"])
    assert profile.profile_id == MERCHANT["profile_id"]
    assert profile.payment_response_hash_key == MERCHANT["payment_response_hash_key"]
    assert MERCHANT["payment_response_hash_key"] not in repr(profile)

    updated = hs_client.profiles.update_webhook_details(
        MERCHANT["merchant_id"], WebhookDetailsParams(webhook_url=receiver.url,
                                                      payment_statuses_enabled=["succeeded", "failed"]))

    assert updated.webhook_details.webhook_url == receiver.url
    assert hs_client.profiles.retrieve(MERCHANT["merchant_id"]).webhook_details.payment_statuses_enabled == [
        IntentStatus.SUCCEEDED, IntentStatus.FAILED]
    with pytest.raises(hs.HyperswitchError) as excinfo:
        hs_client.profiles.retrieve(MERCHANT["merchant_id"], "pro_unknown")
    assert excinfo.value.kind is hs.ErrorKind.KNOWN_OUTCOME


def test_dispute_retrieve(hs_client: hs.HyperswitchClient, hs_state: SimulatorState) -> None:
    payment = hs_client.payments.create(card_payment(amount=7_700))
    opened = hs_state.open_dispute(payment.payment_id, amount=7_000)

    dispute = hs_client.disputes.retrieve(opened["dispute_id"])
    assert dispute.payment_id == payment.payment_id and dispute.amount_minor == 7_000
    assert dispute.dispute_status is DisputeStatus.DISPUTE_OPENED

    hs_state.lose_dispute(opened["dispute_id"])
    assert hs_client.disputes.retrieve(opened["dispute_id"]).dispute_status is DisputeStatus.DISPUTE_LOST
    with pytest.raises(hs.NotFoundError):
        hs_client.disputes.retrieve("dp_unknown")


# -- faults seen through the client ----------------------------------------------------------------------


def test_a_5xx_on_a_capture_is_an_unknown_outcome_and_is_not_retried(hs_client: hs.HyperswitchClient,
                                                                      hs_state: SimulatorState,
                                                                      recorder: RecordingAdapter) -> None:
    authorized = hs_client.payments.create(card_payment(capture_method=CaptureMethod.MANUAL))
    hs_state.add_fault("POST", "/payments/{payment_id}/capture", "error", status=500)

    with pytest.raises(hs.APIError) as excinfo:
        hs_client.payments.capture(authorized.payment_id)

    err = excinfo.value
    assert err.kind is hs.ErrorKind.UNKNOWN_OUTCOME and err.http_status == 500 and err.code == "HE_00"
    assert err.attempts == 1 and len(recorder.calls("POST", "/payments/" + authorized.payment_id)) == 1


def test_a_5xx_on_a_read_is_retried_until_it_succeeds(hs_client: hs.HyperswitchClient, hs_state: SimulatorState,
                                                     recorder: RecordingAdapter) -> None:
    payment = hs_client.payments.create(card_payment())
    rule = hs_state.add_fault("GET", "/payments/{payment_id}", "error", status=503, times=2)

    read = hs_client.payments.retrieve(payment.payment_id)

    assert read.status is IntentStatus.SUCCEEDED
    assert fault_fired(hs_state, rule["rule_id"]) == 2
    assert [e.status for e in recorder.calls("GET", "/payments/")] == [503, 503, 200]


def test_a_read_that_keeps_failing_gives_up_after_max_retries(hs_client: hs.HyperswitchClient,
                                                             hs_state: SimulatorState,
                                                             recorder: RecordingAdapter) -> None:
    hs_state.add_fault("GET", "/payments/list", "error", status=502)

    with pytest.raises(hs.APIError) as excinfo:
        hs_client.payments.list()

    assert excinfo.value.attempts == 4 and len(recorder.calls("GET", "/payments/list")) == 4


def test_a_create_with_a_payment_id_survives_a_5xx(hs_client: hs.HyperswitchClient, hs_state: SimulatorState) -> None:
    hs_state.add_fault("POST", "/payments", "error", status=500, times=1)
    params = card_payment()

    payment = hs_client.payments.create(params)

    assert payment.payment_id == params.payment_id and payment.status is IntentStatus.SUCCEEDED
    assert [(row["payment_id"], row["create_calls"]) for row in hs_state.payments_overview()] == [
        (params.payment_id, 1)]  # the 5xx was answered before the router saw the id


def test_a_create_without_a_payment_id_is_not_resent_after_a_5xx(hs_client: hs.HyperswitchClient,
                                                                  hs_state: SimulatorState) -> None:
    hs_state.add_fault("POST", "/payments", "error", status=500, times=1)
    params = card_payment().model_copy(update={"payment_id": None})

    with pytest.raises(hs.APIError) as excinfo:
        hs_client.payments.create(params)

    assert excinfo.value.attempts == 1 and hs_state.payments_overview() == []


def test_429_with_retry_after_is_waited_out_and_retried(hs_client: hs.HyperswitchClient, hs_state: SimulatorState,
                                                        sleeps: Sleeps, recorder: RecordingAdapter) -> None:
    authorized = hs_client.payments.create(card_payment(capture_method=CaptureMethod.MANUAL))
    rule = hs_state.add_fault("POST", "/payments/{payment_id}/capture", "rate_limit", retry_after=2, times=1)

    captured = hs_client.payments.capture(authorized.payment_id)

    assert captured.status is IntentStatus.SUCCEEDED  # a 429 is never processed: even a capture is resent
    assert fault_fired(hs_state, rule["rule_id"]) == 1
    assert sleeps.asked == [2.0]  # the server's Retry-After, not the client's backoff
    assert [e.status for e in recorder.calls("POST", f"/payments/{authorized.payment_id}/capture")] == [429, 200]


def test_lock_contention_is_retried_even_for_a_capture(hs_client: hs.HyperswitchClient,
                                                       hs_state: SimulatorState) -> None:
    authorized = hs_client.payments.create(card_payment(capture_method=CaptureMethod.MANUAL))
    hs_state.add_fault("POST", "/payments/{payment_id}/capture", "busy", times=2)

    captured = hs_client.payments.capture(authorized.payment_id)

    assert captured.status is IntentStatus.SUCCEEDED and captured.amount_received == authorized.amount


def test_a_connection_reset_is_a_lost_connection_and_a_capture_is_not_resent(
        hs_client: hs.HyperswitchClient, hs_state: SimulatorState, recorder: RecordingAdapter) -> None:
    authorized = hs_client.payments.create(card_payment(capture_method=CaptureMethod.MANUAL))
    hs_state.add_fault("POST", "/payments/{payment_id}/capture", "reset")

    with pytest.raises(hs.ConnectionLostError) as excinfo:
        hs_client.payments.capture(authorized.payment_id)

    assert excinfo.value.kind is hs.ErrorKind.UNKNOWN_OUTCOME and excinfo.value.attempts == 1
    assert len(recorder.calls("POST", f"/payments/{authorized.payment_id}/capture")) == 1
    hs_state.clear_faults()
    assert hs_client.payments.retrieve(authorized.payment_id).status is IntentStatus.REQUIRES_CAPTURE


def test_a_connection_reset_on_a_read_is_retried(hs_client: hs.HyperswitchClient, hs_state: SimulatorState,
                                                recorder: RecordingAdapter) -> None:
    customer = hs_client.customers.create(CustomerCreateParams(customer_id=new_id("cus_")))
    rule = hs_state.add_fault("GET", "/customers/{customer_id}", "reset", times=1)

    assert hs_client.customers.retrieve(customer.customer_id).customer_id == customer.customer_id
    assert fault_fired(hs_state, rule["rule_id"]) == 1
    statuses = [e.status for e in recorder.calls("GET", "/customers/")]
    assert statuses == [None, 200]


def test_commit_then_drop_on_create_is_retried_with_the_same_id_and_read_back(
        hs_client: hs.HyperswitchClient, hs_state: SimulatorState, recorder: RecordingAdapter) -> None:
    rule = hs_state.add_fault("POST", "/payments", "drop_after_commit", times=1)
    params = card_payment(amount=4_321)

    payment = hs_client.payments.create(params)

    assert payment.payment_id == params.payment_id and payment.status is IntentStatus.SUCCEEDED
    assert payment.amount_received == 4_321
    assert fault_fired(hs_state, rule["rule_id"]) == 1
    creates = recorder.calls("POST", "/payments")
    assert [e.request_json()["payment_id"] for e in creates] == [params.payment_id] * 2
    assert creates[0].status is None and creates[0].error  # the first answer never came
    assert creates[1].status == 400 and creates[1].response_json()["error"]["code"] == "HE_01"
    assert recorder.exchanges[-1].method == "GET" and recorder.exchanges[-1].path == f"/payments/{params.payment_id}"
    overview = hs_state.payments_overview()
    assert overview == [{"merchant_id": MERCHANT["merchant_id"], "payment_id": params.payment_id,
                         "create_calls": 2, "status": "succeeded", "amount": 4_321, "amount_received": 4_321,
                         "metadata": params.metadata}]


def test_commit_then_drop_on_a_refund_create_is_read_back(hs_client: hs.HyperswitchClient,
                                                          hs_state: SimulatorState) -> None:
    payment = hs_client.payments.create(card_payment(amount=1_000))
    hs_state.add_fault("POST", "/refunds", "drop_after_commit", times=1)
    refund_id = new_id("ref_")

    refund = hs_client.refunds.create(RefundCreateParams(payment_id=payment.payment_id, refund_id=refund_id,
                                                         amount=400))

    assert refund.refund_id == refund_id and refund.status is RefundStatus.SUCCEEDED
    assert [r for (_, r) in hs_state.refunds] == [refund_id]


def test_latency_above_the_read_timeout_is_a_timeout_and_a_capture_is_not_resent(
        make_client, hs_state: SimulatorState, recorder: RecordingAdapter) -> None:
    client = make_client(read_timeout=0.25)
    authorized = client.payments.create(card_payment(amount=800, capture_method=CaptureMethod.MANUAL))
    rule = hs_state.add_fault("POST", "/payments/{payment_id}/capture", "latency", latency_ms=700)

    started = time.monotonic()
    with pytest.raises(hs.APITimeoutError) as excinfo:
        client.payments.capture(authorized.payment_id)
    elapsed = time.monotonic() - started

    assert excinfo.value.kind is hs.ErrorKind.UNKNOWN_OUTCOME and excinfo.value.attempts == 1
    assert elapsed < 0.65  # gave up at the read timeout, did not wait for the answer
    assert fault_fired(hs_state, rule["rule_id"]) == 1
    assert len(recorder.calls("POST", f"/payments/{authorized.payment_id}/capture")) == 1
    # The simulator did capture after its delay: exactly why a timeout is an unknown outcome.
    hs_state.clear_faults()
    eventually(lambda: client.payments.retrieve(authorized.payment_id).status is IntentStatus.SUCCEEDED)


def test_latency_above_the_read_timeout_on_a_read_is_retried(make_client, hs_state: SimulatorState,
                                                            recorder: RecordingAdapter) -> None:
    client = make_client(read_timeout=0.25)
    payment = client.payments.create(card_payment())
    hs_state.add_fault("GET", "/payments/{payment_id}", "latency", latency_ms=600, times=1)

    assert client.payments.retrieve(payment.payment_id).status is IntentStatus.SUCCEEDED
    assert len(recorder.calls("GET", f"/payments/{payment.payment_id}")) == 2


def test_connection_refused_is_not_processed(make_client) -> None:
    client = make_client(base_url=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(hs.ConnectError) as excinfo:
        client.payments.capture("pay_" + "x" * 26)

    assert excinfo.value.kind is hs.ErrorKind.NOT_PROCESSED
    assert excinfo.value.attempts == 4  # nothing was sent, so even a capture may be tried again


# -- webhooks ----------------------------------------------------------------------------------------------


def test_signed_webhooks_verify_and_parse_into_typed_objects(hs_client: hs.HyperswitchClient,
                                                             hs_state: SimulatorState, receiver) -> None:
    hs_client.profiles.update_webhook_details(MERCHANT["merchant_id"], WebhookDetailsParams(webhook_url=receiver.url))
    key = hs_client.profiles.retrieve(MERCHANT["merchant_id"]).payment_response_hash_key
    customer_id = new_id("cus_")
    payment = saved_card_payment(hs_client, customer_id, mandate=True)
    declined = hs_client.payments.create(card_payment(DECLINE))
    refund = hs_client.refunds.create(RefundCreateParams(payment_id=payment.payment_id, refund_id=new_id("ref_"),
                                                         amount=100))
    dispute = hs_state.open_dispute(payment.payment_id, amount=500)
    hs_state.revoke_mandate(payment.mandate_id)

    expected = {EventType.PAYMENT_SUCCEEDED, EventType.PAYMENT_FAILED, EventType.REFUND_SUCCEEDED,
                EventType.DISPUTE_OPENED, EventType.MANDATE_REVOKED}
    received = receiver.wait_for(lambda got: {hs.parse_event(d.body).event_type for d in got} >= expected)
    assert hs_state.wait_for_deliveries(timeout=5.0)

    events = {}
    for delivery in received:
        signature = delivery.headers.get(hs.SIGNATURE_HEADER)
        assert hs.verify_signature(delivery.body, signature, key)
        assert not hs.verify_signature(delivery.body, signature, OTHER_MERCHANT["payment_response_hash_key"])
        assert not hs.verify_signature(delivery.body.replace(b'"merchant_it"', b'"merchant_xx"', 1), signature, key)
        hyperswitch_spec.validate_schema("OutgoingWebhook", json.loads(delivery.body))
        event = hs.parse_event(delivery.body)
        assert event.merchant_id == MERCHANT["merchant_id"]
        events[event.event_type] = event

    assert events[EventType.PAYMENT_SUCCEEDED].payment().payment_id == payment.payment_id
    assert events[EventType.PAYMENT_SUCCEEDED].payment().status is IntentStatus.SUCCEEDED
    assert events[EventType.PAYMENT_SUCCEEDED].profile_id == MERCHANT["profile_id"]
    failed = events[EventType.PAYMENT_FAILED].payment()
    assert failed.payment_id == declined.payment_id and failed.error_code == "card_declined"
    typed_refund = events[EventType.REFUND_SUCCEEDED].refund()
    assert typed_refund.refund_id == refund.refund_id and typed_refund.amount == 100
    typed_dispute = events[EventType.DISPUTE_OPENED].dispute()
    assert typed_dispute.dispute_id == dispute["dispute_id"] and typed_dispute.amount_minor == 500
    typed_mandate = events[EventType.MANDATE_REVOKED].mandate()
    assert typed_mandate.mandate_id == payment.mandate_id and typed_mandate.status is MandateStatus.REVOKED
    with pytest.raises(hs.InvalidWebhookError):
        events[EventType.REFUND_SUCCEEDED].payment()  # the content type is checked


def test_duplicate_webhook_deliveries_carry_the_same_event_and_signature(
        hs_client: hs.HyperswitchClient, hs_state: SimulatorState, receiver) -> None:
    hs_state.configure_webhooks(duplicates=1)
    hs_client.profiles.update_webhook_details(MERCHANT["merchant_id"], WebhookDetailsParams(webhook_url=receiver.url))
    hs_client.payments.create(card_payment())

    received = receiver.wait_for(lambda got: len(got) >= 2)

    assert received[0].body == received[1].body
    assert received[0].headers[hs.SIGNATURE_HEADER] == received[1].headers[hs.SIGNATURE_HEADER]
    assert hs.parse_event(received[0].body).event_id == hs.parse_event(received[1].body).event_id
