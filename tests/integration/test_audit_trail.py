"""Hyperswitch calls made through ``runtime.hyperswitch(creds)`` become rows of ``hyperswitch_calls``:
one per HTTP attempt, with method, path, status, latency and attempt number, and never the api key or a
card number (the client redacts before the hook; the writer stores what it is given)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

import hyperswitch_client as hs
from bridge.db.audit import HyperswitchCall
from bridge.db.engine import session_scope
from bridge.simulators.hyperswitch import SimulatorState
from bridge.tenancy import service
from bridge.tenancy.schemas import TenantCreate
from hyperswitch_client.customers import CustomerCreateParams
from hyperswitch_client.enums import CaptureMethod
from hyperswitch_client.payments import (
    CardDetails,
    PaymentCaptureParams,
    PaymentCreateParams,
    PaymentMethodData,
)

from .conftest import FAST_POLICY, MERCHANT, new_id

CARD_NUMBER = "4242424242424242"
CVC = "987"


@pytest.fixture
def creds(runtime, hs_url: str) -> service.TenantCredentials:
    data = TenantCreate.model_validate({
        "kb_tenant_id": str(uuid.uuid4()), "name": "Audited", "killbill_url": "http://127.0.0.1:9",
        "kb_api_key": f"audit-{uuid.uuid4().hex[:8]}", "kb_api_secret": "kb-secret-audit-0001",
        "kb_username": "admin", "kb_password": "kb-password-audit-0001", "hs_base_url": hs_url,
        "hs_merchant_id": MERCHANT["merchant_id"], "hs_profile_id": MERCHANT["profile_id"],
        "hs_api_key": MERCHANT["api_key"], "hs_webhook_secret": MERCHANT["payment_response_hash_key"]})
    with session_scope(runtime.sessions) as session:
        tenant = service.create_tenant(session, data, runtime.keyring)
        return service.credentials(tenant, runtime.keyring)


def card_payment(**extra: Any) -> PaymentCreateParams:
    return PaymentCreateParams(
        payment_id=new_id("pay_"), amount=2_500, currency="USD", confirm=True, payment_method="card",
        payment_method_data=PaymentMethodData(card=CardDetails(
            card_number=CARD_NUMBER, card_exp_month="12", card_exp_year="35", card_holder_name="Ada Lovelace",
            card_cvc=CVC)), **extra)


def rows(runtime) -> list[HyperswitchCall]:
    with session_scope(runtime.sessions) as session:
        found = session.scalars(select(HyperswitchCall).order_by(HyperswitchCall.id)).all()
        session.expunge_all()
        return list(found)


def raw_rows(runtime) -> list[str]:
    """Every row as the database returns it, each column as text."""
    with runtime.engine.connect() as conn:
        result = conn.execute(text("SELECT * FROM hyperswitch_calls"))
        return [json.dumps([None if v is None else str(v) for v in row]) for row in result]


def test_every_attempt_is_a_row_without_key_or_card(runtime, creds, hs_state: SimulatorState,
                                                    database_url: str) -> None:
    client = runtime.hyperswitch(creds, retry_policy=FAST_POLICY)
    payment = client.payments.create(card_payment(capture_method=CaptureMethod.MANUAL))
    hs_state.add_fault("GET", "/payments/{payment_id}", "error", status=503, times=1)
    client.payments.retrieve(payment.payment_id, force_sync=True)
    client.payments.capture(payment.payment_id, PaymentCaptureParams(amount_to_capture=1_000))
    with pytest.raises(hs.NotFoundError):
        client.payments.retrieve("pay_" + "0" * 26)

    runtime.audit.flush()
    trail = rows(runtime)

    assert [(r.method, r.path, r.status, r.attempt) for r in trail] == [
        ("POST", "/payments", 200, 1),
        ("GET", f"/payments/{payment.payment_id}", 503, 1),
        ("GET", f"/payments/{payment.payment_id}", 200, 2),
        ("POST", f"/payments/{payment.payment_id}/capture", 200, 1),
        ("GET", "/payments/pay_" + "0" * 26, 404, 1),
    ]
    assert {r.kb_tenant_id for r in trail} == {creds.kb_tenant_id}
    assert all(r.latency_ms >= 0 and r.started_at is not None for r in trail)
    assert [(r.error_kind, r.error_code) for r in trail] == [
        (None, None), ("unknown_outcome", "HE_00"), (None, None), (None, None), ("known_outcome", "HE_02")]
    created = trail[0]
    assert created.request_body["amount"] == 2_500 and created.response_body["payment_id"] == payment.payment_id
    assert trail[3].request_body == {"amount_to_capture": 1_000}
    # Card data is masked in the request, and secrets in the answer.
    assert set(created.request_body["payment_method_data"]["card"].values()) == {"[REDACTED]"}
    assert created.response_body["client_secret"] == "[REDACTED]"

    dumped = raw_rows(runtime)
    assert len(dumped) == 5
    for row in dumped:
        assert MERCHANT["api_key"] not in row
        assert CARD_NUMBER not in row and f'"{CVC}"' not in row
        assert payment.client_secret and payment.client_secret not in row
    if database_url.startswith("sqlite:///"):
        database = Path(database_url.removeprefix("sqlite:///")).read_bytes()
        assert MERCHANT["api_key"].encode() not in database and CARD_NUMBER.encode() not in database


def test_a_call_with_no_answer_is_a_row_without_status(runtime, creds, hs_state: SimulatorState) -> None:
    client = runtime.hyperswitch(creds, retry_policy=FAST_POLICY)
    authorized = client.payments.create(card_payment(capture_method=CaptureMethod.MANUAL))
    hs_state.add_fault("POST", "/payments/{payment_id}/capture", "reset")

    with pytest.raises(hs.ConnectionLostError):
        client.payments.capture(authorized.payment_id)

    runtime.audit.flush()
    last = rows(runtime)[-1]
    assert (last.method, last.path, last.status, last.attempt) == (
        "POST", f"/payments/{authorized.payment_id}/capture", None, 1)
    assert last.error_kind == "unknown_outcome" and last.response_body is None


def test_the_tenant_environment_client_is_audited_too(runtime, creds) -> None:
    env = runtime.tenant_env(creds.kb_tenant_id)
    env.hyperswitch.customers.create(CustomerCreateParams(customer_id=new_id("cus_"), name="Ada"))

    runtime.audit.flush()
    trail = rows(runtime)
    assert [(r.method, r.path, r.status, r.kb_tenant_id) for r in trail] == [
        ("POST", "/customers", 200, creds.kb_tenant_id)]
