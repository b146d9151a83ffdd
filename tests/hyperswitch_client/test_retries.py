"""Retries that must happen, retries that must not, HE_01 after a retry, 429, locks and the deadline."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
import requests
import responses

from hyperswitch_client import (
    APIError,
    APITimeoutError,
    ConnectionLostError,
    DuplicateResourceError,
    ErrorKind,
    HyperswitchClient,
    NotFoundError,
    PaymentBlockedError,
    RateLimitError,
    ResourceBusyError,
    RetryPolicy,
    UnreadableResponseError,
)
from hyperswitch_client.customers import CustomerCreateParams
from hyperswitch_client.enums import IntentStatus, RefundStatus
from hyperswitch_client.payments import PaymentCaptureParams, PaymentCreateParams
from hyperswitch_client.refunds import RefundCreateParams
from tests.hyperswitch_client.conftest import (
    BASE_URL,
    CUSTOMER_ID,
    PAYMENT_ID,
    REFUND_ID,
    FakeClock,
    example,
    payment_body,
    refund_body,
)

PAYMENT_URL = f"{BASE_URL}/payments/{PAYMENT_ID}"
HE_00_LOCK = {"error": {"type": "invalid_request", "message": "busy", "code": "HE_00"}}
HE_01 = example("error_HE_01_duplicate_payment_id.json")
SERVER_ERROR = {"error": {"type": "api", "message": "Something went wrong", "code": "HE_00"}}


def create_params(**overrides: object) -> PaymentCreateParams:
    fields: dict[str, object] = {
        "amount": 6540,
        "currency": "USD",
        "payment_id": PAYMENT_ID,
        "confirm": True,
        "customer_id": CUSTOMER_ID,
        "off_session": True,
        "recurring_details": {"type": "payment_method_id", "data": "pm_1"},
    }
    fields.update(overrides)
    return PaymentCreateParams.model_validate(fields)


# ---------------------------------------------------------------- reads


def test_a_read_is_retried_after_a_5xx(
    api: responses.RequestsMock, client: HyperswitchClient, clock: FakeClock
) -> None:
    api.get(PAYMENT_URL, status=500, json=SERVER_ERROR)
    api.get(PAYMENT_URL, json=payment_body(status="succeeded"))
    payment = client.payments.retrieve(PAYMENT_ID)
    assert payment.status is IntentStatus.SUCCEEDED
    assert len(api.calls) == 2
    assert clock.sleeps == [0.25]


@pytest.mark.parametrize(
    "failure",
    [requests.exceptions.ReadTimeout("read timed out"),
     requests.exceptions.ConnectionError("Connection aborted.", ConnectionResetError(104, "reset"))],
)  # fmt: skip
def test_a_read_is_retried_after_an_unknown_transport_outcome(
    api: responses.RequestsMock, client: HyperswitchClient, failure: Exception
) -> None:
    api.get(PAYMENT_URL, body=failure)
    api.get(PAYMENT_URL, json=payment_body())
    assert client.payments.retrieve(PAYMENT_ID).payment_id == PAYMENT_ID
    assert len(api.calls) == 2


@pytest.mark.parametrize("garbled", [b"<html>oops</html>", b'{"payment_id": 12', b'{"amount": 1}'])
def test_a_read_is_retried_after_an_unreadable_answer(
    api: responses.RequestsMock, client: HyperswitchClient, garbled: bytes
) -> None:
    api.get(PAYMENT_URL, body=garbled, content_type="application/json")
    api.get(PAYMENT_URL, json=payment_body())
    assert client.payments.retrieve(PAYMENT_ID).payment_id == PAYMENT_ID
    assert len(api.calls) == 2


def test_a_definite_answer_is_not_retried(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.get(PAYMENT_URL, status=404, json=example("error_HE_02_not_found.json"))
    with pytest.raises(NotFoundError) as caught:
        client.payments.retrieve(PAYMENT_ID)
    assert caught.value.kind is ErrorKind.KNOWN_OUTCOME
    assert caught.value.attempts == 1 and len(api.calls) == 1


def test_retries_stop_at_max_retries(
    api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock
) -> None:
    client = make_client(retry_policy=RetryPolicy(max_retries=2, jitter=0.0))
    api.get(PAYMENT_URL, status=502, body=b"<html>bad gateway</html>")
    with pytest.raises(APIError) as caught:
        client.payments.retrieve(PAYMENT_ID)
    assert caught.value.attempts == 3 and len(api.calls) == 3
    assert caught.value.kind is ErrorKind.UNKNOWN_OUTCOME
    assert clock.sleeps == [0.25, 0.5]  # exponential backoff


def test_backoff_is_capped(
    api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock
) -> None:
    policy = RetryPolicy(max_retries=6, initial_backoff=1.0, max_backoff=3.0, jitter=0.0)
    client = make_client(retry_policy=policy, deadline=60.0)
    api.get(PAYMENT_URL, status=500, json=SERVER_ERROR)
    with pytest.raises(APIError):
        client.payments.retrieve(PAYMENT_ID)
    assert clock.sleeps == [1.0, 2.0, 3.0, 3.0, 3.0, 3.0]


def test_backoff_has_jitter(
    api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock
) -> None:
    client = make_client(retry_policy=RetryPolicy(max_retries=8, initial_backoff=0.01, jitter=0.5),
                         deadline=60.0)  # fmt: skip
    api.get(PAYMENT_URL, status=500, json=SERVER_ERROR)
    with pytest.raises(APIError):
        client.payments.retrieve(PAYMENT_ID)
    base = [0.01 * 2**n for n in range(8)]
    assert all(b <= s <= b + 0.5 for b, s in zip(base, clock.sleeps, strict=True))
    assert len({round(s - b, 9) for b, s in zip(base, clock.sleeps, strict=True)}) > 1


# ---------------------------------------------------------------- non-idempotent calls


@pytest.mark.parametrize(
    ("answer", "error"),
    [({"status": 500, "json": SERVER_ERROR}, APIError),
     ({"body": requests.exceptions.ReadTimeout("read timed out")}, APITimeoutError),
     ({"body": requests.exceptions.ConnectionError("Connection aborted.", ConnectionResetError())},
      ConnectionLostError),
     ({"status": 200, "body": b"garbled", "content_type": "application/json"}, UnreadableResponseError)],
)  # fmt: skip
def test_a_capture_that_may_have_run_is_never_resent(
    api: responses.RequestsMock, client: HyperswitchClient, answer: dict, error: type
) -> None:
    api.post(f"{PAYMENT_URL}/capture", **answer)
    api.post(f"{PAYMENT_URL}/capture", json=payment_body(status="succeeded"))
    with pytest.raises(error) as caught:
        client.payments.capture(PAYMENT_ID, PaymentCaptureParams(amount_to_capture=6540))
    assert caught.value.kind is ErrorKind.UNKNOWN_OUTCOME
    assert len(api.calls) == 1 and caught.value.attempts == 1


@pytest.mark.parametrize(
    "call",
    [lambda c: c.payments.cancel(PAYMENT_ID),
     lambda c: c.payments.create(create_params(payment_id=None)),
     lambda c: c.refunds.create(RefundCreateParams(payment_id=PAYMENT_ID, amount=100)),
     lambda c: c.customers.create(CustomerCreateParams(name="no id")),
     lambda c: c.customers.delete(CUSTOMER_ID),
     lambda c: c.payment_methods.delete("pm_1"),
     lambda c: c.payment_methods.set_default(CUSTOMER_ID, "pm_1"),
     lambda c: c.mandates.revoke("man_1")],
)  # fmt: skip
def test_calls_without_an_idempotency_id_are_not_resent_after_a_5xx(
    api: responses.RequestsMock, client: HyperswitchClient, call: Callable[[HyperswitchClient], object]
) -> None:
    for method in (responses.POST, responses.DELETE):
        api.add(method, re.compile(f"{BASE_URL}/.*"), status=500, json=SERVER_ERROR)
    with pytest.raises(APIError):
        call(client)
    assert len(api.calls) == 1


def test_a_rate_limited_capture_is_resent_after_retry_after(
    api: responses.RequestsMock, client: HyperswitchClient, clock: FakeClock
) -> None:
    api.post(f"{PAYMENT_URL}/capture", status=429, headers={"Retry-After": "2"}, body=b"")
    api.post(f"{PAYMENT_URL}/capture", json=payment_body(status="succeeded"))
    assert client.payments.capture(PAYMENT_ID).status is IntentStatus.SUCCEEDED
    assert clock.sleeps == [2.0] and len(api.calls) == 2


def test_rate_limit_without_retry_after_backs_off(
    api: responses.RequestsMock, client: HyperswitchClient, clock: FakeClock
) -> None:
    api.post(f"{PAYMENT_URL}/cancel", status=429, body=b"too many")
    api.post(f"{PAYMENT_URL}/cancel", status=429, body=b"too many")
    api.post(f"{PAYMENT_URL}/cancel", json=payment_body(status="cancelled"))
    assert client.payments.cancel(PAYMENT_ID).status is IntentStatus.CANCELLED
    assert clock.sleeps == [0.25, 0.5]


def test_lock_contention_backs_off_and_retries_even_a_capture(
    api: responses.RequestsMock, client: HyperswitchClient, clock: FakeClock
) -> None:
    api.post(f"{PAYMENT_URL}/capture", status=422, json=HE_00_LOCK)
    api.post(f"{PAYMENT_URL}/capture", status=422, json=HE_00_LOCK)
    api.post(f"{PAYMENT_URL}/capture", json=payment_body(status="succeeded"))
    assert client.payments.capture(PAYMENT_ID).status is IntentStatus.SUCCEEDED
    assert clock.sleeps == [0.25, 0.5] and len(api.calls) == 3


def test_persistent_lock_contention_ends_not_processed(
    api: responses.RequestsMock, client: HyperswitchClient
) -> None:
    api.post(f"{PAYMENT_URL}/capture", status=422, json=HE_00_LOCK)
    with pytest.raises(ResourceBusyError) as caught:
        client.payments.capture(PAYMENT_ID)
    assert caught.value.kind is ErrorKind.NOT_PROCESSED and caught.value.attempts == 4


# ---------------------------------------------------------------- creates with a merchant id


@pytest.mark.parametrize(
    "first",
    [{"status": 500, "json": SERVER_ERROR},
     {"status": 504, "body": b"<html>gateway timeout</html>"},
     {"body": requests.exceptions.ReadTimeout("read timed out")},
     {"body": requests.exceptions.ConnectionError("Connection aborted.", ConnectionResetError())}],
)  # fmt: skip
def test_a_retried_payment_create_answered_he_01_reads_the_payment_back(
    api: responses.RequestsMock, client: HyperswitchClient, first: dict
) -> None:
    api.post(f"{BASE_URL}/payments", **first)
    api.post(f"{BASE_URL}/payments", status=400, json=HE_01)
    api.get(PAYMENT_URL, json=payment_body(status="succeeded", amount_received=6540))
    payment = client.payments.create(create_params())
    assert payment.payment_id == PAYMENT_ID and payment.status is IntentStatus.SUCCEEDED
    assert [(c.request.method, c.request.path_url.split("?")[0]) for c in api.calls] == [
        ("POST", "/payments"), ("POST", "/payments"), ("GET", f"/payments/{PAYMENT_ID}")]  # fmt: skip
    assert json.loads(api.calls[0].request.body) == json.loads(api.calls[1].request.body)


def test_a_payment_create_retried_after_a_timeout_can_succeed(
    api: responses.RequestsMock, client: HyperswitchClient
) -> None:
    api.post(f"{BASE_URL}/payments", body=requests.exceptions.ReadTimeout("read timed out"))
    api.post(f"{BASE_URL}/payments", json=payment_body(status="processing"))
    assert client.payments.create(create_params()).status is IntentStatus.PROCESSING
    assert len(api.calls) == 2


def test_he_01_on_the_first_attempt_is_reported_not_hidden(
    api: responses.RequestsMock, client: HyperswitchClient
) -> None:
    api.post(f"{BASE_URL}/payments", status=400, json=HE_01)
    with pytest.raises(DuplicateResourceError) as caught:
        client.payments.create(create_params())
    assert caught.value.code == "HE_01" and caught.value.kind is ErrorKind.KNOWN_OUTCOME
    assert len(api.calls) == 1  # no read-back: nothing says this call created it


def test_he_01_after_only_unsent_attempts_is_reported(
    api: responses.RequestsMock, client: HyperswitchClient
) -> None:
    api.post(f"{BASE_URL}/payments", status=429, body=b"")
    api.post(f"{BASE_URL}/payments", status=422, json=HE_00_LOCK)
    api.post(f"{BASE_URL}/payments", status=400, json=HE_01)
    with pytest.raises(DuplicateResourceError):
        client.payments.create(create_params())
    assert len(api.calls) == 3


def test_a_retried_refund_create_answered_he_01_reads_the_refund_back(
    api: responses.RequestsMock, client: HyperswitchClient
) -> None:
    api.post(f"{BASE_URL}/refunds", body=requests.exceptions.ReadTimeout("read timed out"))
    api.post(f"{BASE_URL}/refunds", status=400, json=example("error_HE_01_duplicate_refund_id.json"))
    api.get(f"{BASE_URL}/refunds/{REFUND_ID}", json=refund_body(status="pending"))
    refund = client.refunds.create(
        RefundCreateParams(payment_id=PAYMENT_ID, refund_id=REFUND_ID, amount=6540)
    )
    assert refund.refund_id == REFUND_ID and refund.status is RefundStatus.PENDING
    assert api.calls[2].request.url.endswith(f"/refunds/{REFUND_ID}?force_sync=false")


def test_a_retried_customer_create_answered_ir_12_reads_the_customer_back(
    api: responses.RequestsMock, client: HyperswitchClient
) -> None:
    exists = {"error": {"type": "invalid_request", "code": "IR_12",
                        "message": "Customer with the given `customer_id` already exists"}}  # fmt: skip
    api.post(f"{BASE_URL}/customers", status=503, body=b"")
    api.post(f"{BASE_URL}/customers", status=400, json=exists)
    api.get(f"{BASE_URL}/customers/{CUSTOMER_ID}",
            json={**example("customer_response.assembled.json"), "customer_id": CUSTOMER_ID})  # fmt: skip
    customer = client.customers.create(CustomerCreateParams(customer_id=CUSTOMER_ID, name="Jo"))
    assert customer.customer_id == CUSTOMER_ID and len(api.calls) == 3


def test_the_read_back_fails_like_a_read(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.post(f"{BASE_URL}/payments", status=500, json=SERVER_ERROR)
    api.post(f"{BASE_URL}/payments", status=400, json=HE_01)
    api.get(PAYMENT_URL, status=500, json=SERVER_ERROR)
    with pytest.raises(APIError) as caught:
        client.payments.create(create_params())
    assert caught.value.kind is ErrorKind.UNKNOWN_OUTCOME
    assert caught.value.method == "GET"


# ---------------------------------------------------------------- deadline


def test_retries_never_pass_the_deadline(
    api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock
) -> None:
    client = make_client(deadline=1.0, retry_policy=RetryPolicy(max_retries=10, jitter=0.0))
    start = clock.now
    api.get(PAYMENT_URL, status=503, body=b"")
    with pytest.raises(APIError) as caught:
        client.payments.retrieve(PAYMENT_ID)
    # 0.25 and 0.5 fit; a 1.0 s wait would leave no time for another attempt.
    assert clock.sleeps == [0.25, 0.5] and caught.value.attempts == 3
    assert clock.now - start <= 1.0


def test_a_retry_after_beyond_the_deadline_is_not_waited_for(
    api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock
) -> None:
    client = make_client(deadline=5.0)
    api.post(f"{PAYMENT_URL}/capture", status=429, headers={"Retry-After": "30"}, body=b"")
    with pytest.raises(RateLimitError) as caught:
        client.payments.capture(PAYMENT_ID)
    assert caught.value.retry_after == 30.0 and caught.value.kind is ErrorKind.NOT_PROCESSED
    assert clock.sleeps == [] and len(api.calls) == 1


def test_each_attempt_gets_what_is_left_of_the_deadline(
    api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock
) -> None:
    client = make_client(deadline=4.0, connect_timeout=3.05, read_timeout=10.0)
    api.get(PAYMENT_URL, status=500, json=SERVER_ERROR)
    api.get(PAYMENT_URL, json=payment_body())
    client.payments.retrieve(PAYMENT_ID)
    first, second = (call.request.req_kwargs["timeout"] for call in api.calls)
    assert first == (2.0, 2.0)  # connect + read never exceed the 4 s left
    assert second == (1.875, 1.875)  # after the 0.25 s backoff
    assert sum(first) <= 4.0 and sum(second) <= 3.75


def test_default_timeouts_leave_room_under_kill_bill_s_30_s(
    api: responses.RequestsMock,
) -> None:
    api.get(PAYMENT_URL, json=payment_body())
    with HyperswitchClient(BASE_URL, "snd_key") as client:
        client.payments.retrieve(PAYMENT_ID)
    connect, read = api.calls[0].request.req_kwargs["timeout"]
    assert connect == 3.05 and read == 10.0
    assert connect + read < 25


def test_the_deadline_spans_the_read_back(
    api: responses.RequestsMock, make_client: Callable[..., HyperswitchClient], clock: FakeClock
) -> None:
    client = make_client(deadline=1.0, retry_policy=RetryPolicy(max_retries=10, jitter=0.0))
    api.post(f"{BASE_URL}/payments", status=500, json=SERVER_ERROR)
    api.post(f"{BASE_URL}/payments", status=400, json=HE_01)
    api.get(PAYMENT_URL, status=500, json=SERVER_ERROR)
    with pytest.raises(APIError):
        client.payments.create(create_params())
    # create: 0.25 s wait; read-back: a 0.25 s wait fits in the 0.75 s left, a 0.5 s one does not.
    assert clock.sleeps == [0.25, 0.25]
    assert clock.now - 1000.0 <= 1.0


# ---------------------------------------------------------------- odd answers


def test_a_blocked_payment_answers_200_with_an_error(
    api: responses.RequestsMock, client: HyperswitchClient
) -> None:
    blocked = {"error": {"type": "blocked", "code": "HE_03", "message": "blocked",
                         "reason": "card is blocklisted"}}  # fmt: skip
    api.post(f"{BASE_URL}/payments", json=blocked)
    with pytest.raises(PaymentBlockedError) as caught:
        client.payments.create(create_params())
    assert caught.value.kind is ErrorKind.KNOWN_OUTCOME and caught.value.http_status == 200
    assert len(api.calls) == 1


def test_a_redirect_is_not_followed(api: responses.RequestsMock, client: HyperswitchClient) -> None:
    api.get(PAYMENT_URL, status=301, headers={"Location": "https://elsewhere.test/"})
    with pytest.raises(UnreadableResponseError) as caught:
        client.payments.retrieve(PAYMENT_ID)
    assert caught.value.http_status == 301
