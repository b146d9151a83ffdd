"""Failures toward Hyperswitch: CANCELED only when certainly not sent, UNDEFINED when unknown, and
getPaymentInfo (or Kill Bill's completion call) resolving the truth without a second charge."""

from __future__ import annotations

import socket
from datetime import timedelta

from bridge.db.base import utcnow
from bridge.db.engine import session_scope
from bridge.db.tenancy import Tenant
from bridge.payments import ids, service
from tests.plugin.conftest import payment_call
from tests.plugin.test_purchase import create_calls, history


def _purchase(plugin, payor, amount="25.00"):  # type: ignore[no-untyped-def]
    body = payment_call(payor.account_id, amount, kbPaymentMethodId=payor.kb_payment_method_id)
    return body, plugin.ok("purchasePayment", **body)


def _info(plugin, payor, body):  # type: ignore[no-untyped-def]
    return plugin.ok("getPaymentInfo", kbAccountId=payor.account_id, kbPaymentId=body["kbPaymentId"])


def test_committed_then_dropped_is_undefined_then_resolved_with_one_charge(plugin, payor, hs_state, runtime) -> None:
    hs_state.add_fault("POST", "/payments", "drop_after_commit")  # every try: the answer never arrives
    body, info = _purchase(plugin, payor)
    assert info["status"] == "UNDEFINED"
    hs_id = ids.payment_id(body["kbTransactionId"])
    assert create_calls(hs_state, hs_id) >= 1
    hs_state.clear_faults()
    infos = _info(plugin, payor, body)
    assert [i["status"] for i in infos] == ["PROCESSED"]
    assert [p["payment_id"] for p in hs_state.payments_overview() if p["payment_id"] == hs_id] == [hs_id]
    assert history(runtime, body["kbTransactionId"])[-1] == ("UNDEFINED", "PROCESSED", "refresh")


def test_server_errors_are_undefined_and_completion_sends_the_create_again(plugin, payor, hs_state) -> None:
    hs_state.add_fault("POST", "/payments", "error", status=503)
    body, info = _purchase(plugin, payor)
    assert info["status"] == "UNDEFINED"
    hs_state.clear_faults()
    # Hyperswitch never made it; Kill Bill's completion call re-sends the same payment_id once.
    again = plugin.ok("purchasePayment", **body)
    assert again["status"] == "PROCESSED"
    assert create_calls(hs_state, ids.payment_id(body["kbTransactionId"])) == 1


def test_a_read_timeout_is_undefined(plugin, payor, hs_state, runtime, tenant_id) -> None:
    runtime.settings = runtime.settings.model_copy(update={"hyperswitch_read_timeout_seconds": 0.3})
    runtime.reset_clients()
    hs_state.add_fault("POST", "/payments", "drop_after_commit", hold_ms=1500)
    body, info = _purchase(plugin, payor)
    assert info["status"] == "UNDEFINED"
    hs_state.clear_faults()
    assert [i["status"] for i in _info(plugin, payor, body)] == ["PROCESSED"]


def test_connection_refused_is_canceled(plugin, payor, runtime, tenant_id) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    with session_scope(runtime.sessions) as session:
        session.get(Tenant, tenant_id).hs_base_url = f"http://127.0.0.1:{closed_port}"
    body, info = _purchase(plugin, payor)
    assert info["status"] == "CANCELED"
    assert info["gatewayErrorCode"]


def test_rate_limit_and_lock_contention_are_retried(plugin, payor, hs_state) -> None:
    hs_state.add_fault("POST", "/payments", "rate_limit", times=1, retry_after=0)
    hs_state.add_fault("POST", "/payments", "busy", times=1)
    body, info = _purchase(plugin, payor)
    assert info["status"] == "PROCESSED"


def test_unknown_to_hyperswitch_long_after_the_attempt_is_canceled(plugin, payor, hs_state, runtime,
                                                                   tenant_id) -> None:
    hs_state.add_fault("POST", "/payments", "reset")  # refused before processing, answer lost
    body, info = _purchase(plugin, payor)
    assert info["status"] == "UNDEFINED"
    assert [i["status"] for i in _info(plugin, payor, body)] == ["UNDEFINED"]  # too early to say
    runtime.clock = lambda: utcnow() + service.NEVER_RECEIVED_AFTER + timedelta(seconds=1)
    runtime.reset_clients()
    infos = _info(plugin, payor, body)
    assert infos[0]["status"] == "CANCELED" and infos[0]["gatewayErrorCode"] == "NOT_RECEIVED"
    assert create_calls(hs_state, ids.payment_id(body["kbTransactionId"])) == 0
