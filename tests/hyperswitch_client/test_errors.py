"""``error_from_response``: every answer maps to one class and one kind, by code, never by message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import jsonschema
import pytest

from hyperswitch_client.errors import (
    APIError,
    AuthenticationError,
    ConnectorError,
    DuplicateResourceError,
    ErrorKind,
    HyperswitchError,
    InvalidRequestError,
    NotFoundError,
    OperationRefusedError,
    PaymentBlockedError,
    PermissionDeniedError,
    RateLimitError,
    ResourceBusyError,
    UnreadableResponseError,
    error_from_response,
    parse_retry_after,
)
from tests.contract.spec import HYPERSWITCH_ERROR_ENVELOPE
from tests.hyperswitch_client.conftest import example_bytes

NOT, KNOWN, UNKNOWN = ErrorKind.NOT_PROCESSED, ErrorKind.KNOWN_OUTCOME, ErrorKind.UNKNOWN_OUTCOME


def envelope(code: str, *, type_: str = "invalid_request", message: str = "m", **extras: Any) -> bytes:
    return json.dumps({"error": {"type": type_, "message": message, "code": code, **extras}}).encode()


# (example file, HTTP status it comes with, method, path) → (class, kind)
REAL_ERRORS = [
    ("error_HE_01_duplicate_payment_id.json", 400, "POST", "/payments", DuplicateResourceError, KNOWN),
    ("error_HE_01_duplicate_refund_id.json", 400, "POST", "/refunds", DuplicateResourceError, KNOWN),
    ("error_HE_02_not_found.json", 404, "GET", "/payments/pay_x", NotFoundError, KNOWN),
    ("error_IR_01_unauthorized.json", 401, "POST", "/payments", AuthenticationError, NOT),
    ("error_IR_04_missing_param.json", 400, "POST", "/payments", InvalidRequestError, NOT),
    ("error_IR_05_invalid_data.json", 400, "POST", "/payments/p/capture", InvalidRequestError, NOT),
    ("error_IR_06_json_deserialize.json", 400, "POST", "/payments", InvalidRequestError, NOT),
    ("error_IR_08_client_secret_expired.json", 400, "POST", "/payments/p/confirm",
     InvalidRequestError, NOT),
    ("error_IR_16_cancel_succeeded_payment.json", 400, "POST", "/payments/p/cancel",
     OperationRefusedError, KNOWN),
    ("error_IR_16_invalid_expiry_month.json", 400, "POST", "/payments", OperationRefusedError, KNOWN),
]  # fmt: skip


@pytest.mark.parametrize(("name", "status", "method", "path", "cls", "kind"), REAL_ERRORS)
def test_real_error_bodies(
    name: str, status: int, method: str, path: str, cls: type[HyperswitchError], kind: ErrorKind
) -> None:
    body = example_bytes(name)
    jsonschema.validate(json.loads(body), HYPERSWITCH_ERROR_ENVELOPE)  # the fixture is the wire shape
    error = error_from_response(status, body, method=method, path=path)
    expected = json.loads(body)["error"]
    assert type(error) is cls
    assert error.kind is kind
    assert (error.code, error.message, error.http_status) == (
        expected["code"], expected["message"], status)  # fmt: skip
    assert error.error_type == "invalid_request"
    assert error.body == body
    assert (error.method, error.path) == (method, path)


def test_ir_06_error_type_key_is_read() -> None:
    error = error_from_response(400, example_bytes("error_IR_06_json_deserialize.json"))
    assert error.error_type == "invalid_request" and error.code == "IR_06"


CODE_TABLE = [
    # code, status, method, path → class, kind
    ("IR_12", 400, "POST", "/customers", DuplicateResourceError, KNOWN),  # customer_id exists
    ("IR_12", 400, "POST", "/refunds", OperationRefusedError, KNOWN),  # max refund attempts
    ("IR_38", 400, "POST", "/payments", DuplicateResourceError, KNOWN),
    ("HE_04", 404, "GET", "/disputes/d", NotFoundError, KNOWN),
    ("IR_37", 404, "GET", "/payments/p", NotFoundError, KNOWN),
    ("IR_13", 400, "POST", "/refunds", OperationRefusedError, KNOWN),
    ("IR_14", 400, "POST", "/payments/p/capture", OperationRefusedError, KNOWN),
    ("IR_10", 400, "DELETE", "/customers/c", OperationRefusedError, KNOWN),
    ("IR_39", 400, "POST", "/payments", OperationRefusedError, KNOWN),
    ("HE_03", 400, "POST", "/refunds", OperationRefusedError, KNOWN),
    ("HE_03", 404, "POST", "/payments", OperationRefusedError, KNOWN),  # return_url missing
    ("XY_99", 400, "POST", "/payments", OperationRefusedError, KNOWN),  # unknown 4xx code
    ("IR_02", 404, "GET", "/nowhere", InvalidRequestError, NOT),
    ("IR_07", 400, "POST", "/payments", InvalidRequestError, NOT),
    ("IR_15", 401, "GET", "/customers/c", AuthenticationError, NOT),
    ("IR_22", 403, "GET", "/customers/c", PermissionDeniedError, NOT),
    ("HE_00", 422, "POST", "/payments/p/capture", ResourceBusyError, NOT),  # API lock
    ("HE_00", 500, "POST", "/payments", APIError, UNKNOWN),  # internal error
    ("HE_02", 500, "POST", "/mandates/revoke/m", APIError, UNKNOWN),  # 5xx wins over the code
    ("IE_00", 500, "POST", "/payments", APIError, UNKNOWN),
    ("HE_01", 503, "POST", "/payments", APIError, UNKNOWN),
]  # fmt: skip


@pytest.mark.parametrize(("code", "status", "method", "path", "cls", "kind"), CODE_TABLE)
def test_code_table(
    code: str, status: int, method: str, path: str, cls: type[HyperswitchError], kind: ErrorKind
) -> None:
    error = error_from_response(status, envelope(code), method=method, path=path)
    assert (type(error), error.kind, error.code) == (cls, kind, code)


def test_the_message_text_is_never_consulted() -> None:
    lying = envelope("IR_04", message="The payment with the specified payment_id already exists")
    assert type(error_from_response(400, lying)) is InvalidRequestError
    busy = envelope("HE_00", message="There was an issue processing the webhook body")
    assert type(error_from_response(422, busy)) is ResourceBusyError


def test_connector_errors() -> None:
    body = envelope("CE_00", type_="connector", message="card_declined: nope", connector="stripe",
                    reason="do_not_honor")  # fmt: skip
    error = error_from_response(402, body)
    assert type(error) is ConnectorError and error.kind is KNOWN
    assert error.extras == {"connector": "stripe"} and error.reason == "do_not_honor"
    assert type(error_from_response(400, envelope("CE_03"))) is ConnectorError
    # The same passthrough with the connector's 5xx: the outcome is unknown.
    assert type(error_from_response(502, body)) is APIError


def test_duplicate_payment_reason_is_kept() -> None:
    body = envelope("HE_01", reason="pay_abc already exists")
    error = error_from_response(400, body, method="POST", path="/payments")
    assert error.reason == "pay_abc already exists"


def test_blocked_payment_comes_with_http_200() -> None:
    body = envelope("HE_03", type_="blocked", message="blocked", reason="card blocklisted")
    error = error_from_response(200, body)
    assert type(error) is PaymentBlockedError and error.kind is KNOWN
    assert isinstance(error, OperationRefusedError)
    assert error.error_type == "blocked"


@pytest.mark.parametrize(
    ("status", "body"),
    [(400, b"<html>Bad Request</html>"), (404, b""), (400, b'{"message": "no"}'),
     (401, b'{"error": "unauthorized"}'), (409, b'{"error": {"message": "x"}}'), (400, b"\xff"),
     (302, b""), (200, b'{"error": {"message": "no code"}}')],
)  # fmt: skip
def test_answers_not_in_hyperswitch_s_shape_are_unreadable(status: int, body: bytes) -> None:
    error = error_from_response(status, body)
    assert type(error) is UnreadableResponseError and error.kind is UNKNOWN
    assert error.http_status == status and error.body == body


@pytest.mark.parametrize("body", [b"<html>502 Bad Gateway</html>", b"", envelope("HE_00", type_="api")])
def test_5xx_is_an_unknown_outcome_whatever_the_body(body: bytes) -> None:
    error = error_from_response(502, body)
    assert type(error) is APIError and error.kind is UNKNOWN


@pytest.mark.parametrize("body", [b"", b"<html>slow down</html>", envelope("RL_00")])
def test_429_is_rate_limited_whatever_the_body(body: bytes) -> None:
    error = error_from_response(429, body, headers={"Retry-After": "3"})
    assert type(error) is RateLimitError and error.kind is NOT
    assert error.retry_after == 3.0


def test_429_without_retry_after() -> None:
    error = error_from_response(429, b"")
    assert isinstance(error, RateLimitError) and error.retry_after is None


def test_retry_after_forms() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=7), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == pytest.approx(7.0)
    earlier = format_datetime(now - timedelta(seconds=7), usegmt=True)
    assert parse_retry_after(earlier, now=now.timestamp()) == 0.0
    assert parse_retry_after(" 12 ") == 12.0
    for bad in (None, "", "soon", "-3", "1.5e9x"):
        assert parse_retry_after(bad) is None


def test_string_form_names_code_status_and_endpoint() -> None:
    error = error_from_response(404, envelope("HE_02", message="Payment does not exist"),
                                method="GET", path="/payments/p")  # fmt: skip
    assert str(error) == "[HE_02] Payment does not exist (HTTP 404) on GET /payments/p"
    assert "NotFoundError" in repr(error) and "known_outcome" in repr(error)


def test_every_class_has_a_fixed_kind() -> None:
    kinds = {
        cls: cls.kind
        for cls in (AuthenticationError, PermissionDeniedError, InvalidRequestError, RateLimitError,
                    ResourceBusyError, NotFoundError, DuplicateResourceError, OperationRefusedError,
                    ConnectorError, PaymentBlockedError, APIError, UnreadableResponseError)
    }  # fmt: skip
    assert {cls for cls, kind in kinds.items() if kind is NOT} == {
        AuthenticationError, PermissionDeniedError, InvalidRequestError, RateLimitError,
        ResourceBusyError}  # fmt: skip
    assert {cls for cls, kind in kinds.items() if kind is UNKNOWN} == {APIError, UnreadableResponseError}
