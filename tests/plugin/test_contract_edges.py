"""The plugin contract's edges: signatures, tenants, bad input (4xx, nothing stored), search,
getPaymentInfo and processNotification."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bridge.db.engine import session_scope
from bridge.db.payments import Transaction
from bridge.payments import ids
from bridge.plugin_api import signature
from tests.plugin.conftest import PLUGIN_SECRET, PluginClient, payment_call


def _transactions(runtime) -> int:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return session.scalar(select(func.count()).select_from(Transaction))


def _body(plugin: PluginClient, payor, **overrides) -> bytes:  # type: ignore[no-untyped-def]
    params = payment_call(payor.account_id, "5.00", kbPaymentMethodId=payor.kb_payment_method_id)
    params["context"] = {"tenantId": plugin.tenant_id}
    params.update(overrides)
    return json.dumps(params).encode()


def test_bad_or_stale_signatures_are_refused(plugin, payor, runtime) -> None:
    body = _body(plugin, payor)
    cases = {
        "missing": {signature.HEADER: ""},
        "wrong secret": {signature.HEADER: signature.sign(body, "not-the-secret")},
        "stale": {signature.HEADER: signature.sign(body, PLUGIN_SECRET, int(time.time()) - 301)},
        "other body": {signature.HEADER: signature.sign(body + b" ", PLUGIN_SECRET)},
        "malformed": {signature.HEADER: "v1=abc"},
    }
    for name, headers in cases.items():
        response = plugin.raw("purchasePayment", body, headers)
        assert response.status_code == 401, name
        assert response.json["errorType"] == "UNAUTHORIZED"
    assert _transactions(runtime) == 0


def test_rotation_accepts_any_listed_signature(plugin, payor) -> None:
    body = _body(plugin, payor)
    header = signature.sign(body, ["a-retired-secret", PLUGIN_SECRET])
    assert plugin.raw("purchasePayment", body, {signature.HEADER: header}).status_code == 200


def test_unknown_tenant_with_the_deployment_secret(plugin, payor, runtime) -> None:
    runtime.settings = runtime.settings.model_copy(update={"plugin_shared_secret": SecretStr("deployment-secret-1")})
    stranger = PluginClient(plugin.http, str(uuid.uuid4()), secret="deployment-secret-1")
    response = stranger.call("purchasePayment", **payment_call(payor.account_id, "1.00"))
    assert response.status_code == 404 and response.json["errorType"] == "UNKNOWN_TENANT"
    unsigned = PluginClient(plugin.http, str(uuid.uuid4()), secret="guess")
    assert unsigned.call("purchasePayment", **payment_call(payor.account_id, "1.00")).status_code == 401


@pytest.mark.parametrize(("overrides", "error_type"), [
    ({"amount": "-1.00"}, "INVALID_AMOUNT"),
    ({"amount": "0"}, "INVALID_AMOUNT"),
    ({"amount": "1.001"}, "INVALID_AMOUNT"),
    ({"amount": 1.5}, "INVALID_REQUEST"),
    ({"currency": "usd"}, "INVALID_REQUEST"),
    ({"currency": "XXX"}, "INVALID_CURRENCY"),
    ({"kbTransactionId": "not-a-uuid"}, "INVALID_REQUEST"),
    ({"kbPaymentMethodId": str(uuid.uuid4())}, "UNKNOWN_PAYMENT_METHOD"),
    ({"properties": [{"key": "note", "value": "card 4111 1111 1111 1111"}]}, "CARD_DATA_REFUSED"),
])
def test_bad_input_is_a_clear_4xx_and_stores_nothing(plugin, payor, runtime, overrides, error_type) -> None:
    response = plugin.raw("purchasePayment", _body(plugin, payor, **overrides))
    assert 400 <= response.status_code < 500, response.json
    assert response.json["errorType"] == error_type
    assert response.json["errorMessage"]
    assert _transactions(runtime) == 0


def test_missing_fields_and_garbage(plugin, payor) -> None:
    missing = json.loads(_body(plugin, payor))
    del missing["kbPaymentId"]
    response = plugin.raw("purchasePayment", json.dumps(missing).encode())
    assert response.status_code == 400 and "kbPaymentId: Field required" in response.json["errorMessage"]
    for raw in (b"not json", b"[]", b'{"context": {}}'):
        assert plugin.raw("purchasePayment", raw).status_code in (400, 401)
    assert plugin.call("noSuchOperation").status_code == 404


def test_oversized_body_is_refused(plugin) -> None:
    response = plugin.raw("purchasePayment", b'{"x": "' + b"a" * 2_000_000 + b'"}')
    assert response.status_code == 413 and response.json["errorType"] == "PAYLOAD_TOO_LARGE"


def test_a_follow_up_in_another_currency_is_refused(plugin, payor) -> None:
    purchase = payment_call(payor.account_id, "5.00", kbPaymentMethodId=payor.kb_payment_method_id)
    plugin.ok("purchasePayment", **purchase)
    refund = payment_call(payor.account_id, "5.00", "EUR", kbPaymentId=purchase["kbPaymentId"])
    response = plugin.call("refundPayment", **refund)
    assert response.status_code == 400 and response.json["errorType"] == "INVALID_CURRENCY"


def test_follow_ups_on_unknown_payments_are_404(plugin, payor) -> None:
    for operation in ("capturePayment", "refundPayment"):
        response = plugin.call(operation, **payment_call(payor.account_id, "1.00"))
        assert response.status_code == 404 and response.json["errorType"] == "UNKNOWN_PAYMENT"


def test_get_payment_info_of_an_unknown_payment_is_empty(plugin, payor) -> None:
    assert plugin.ok("getPaymentInfo", kbAccountId=payor.account_id, kbPaymentId=str(uuid.uuid4())) == []


def test_search_by_kill_bill_or_hyperswitch_ids_with_pagination(plugin, payor) -> None:
    bodies = [payment_call(payor.account_id, "1.00", kbPaymentMethodId=payor.kb_payment_method_id)
              for _ in range(3)]
    for body in bodies:
        plugin.ok("purchasePayment", **body)
    page = plugin.ok("searchPayments", searchKey=payor.account_id, offset=0, limit=2)
    assert (page["currentOffset"], page["nextOffset"], page["totalNbRecords"]) == (0, 2, 3)
    rest = plugin.ok("searchPayments", searchKey=payor.account_id, offset=2, limit=2)
    assert rest["nextOffset"] is None and len(rest["records"]) == 1
    by_hs = plugin.ok("searchPayments", searchKey=ids.payment_id(bodies[0]["kbTransactionId"]))
    assert [r["kbTransactionPaymentId"] for r in by_hs["records"]] == [bodies[0]["kbTransactionId"]]
    assert plugin.ok("searchPayments", searchKey="nothing-matches")["records"] == []


def test_process_notification_reconciles_from_hyperswitch_not_the_body(plugin, payor, hs_state) -> None:
    hs_state.set_mandate_behaviour(payor.mandate_id, "processing")
    body = payment_call(payor.account_id, "8.00", kbPaymentMethodId=payor.kb_payment_method_id)
    assert plugin.ok("purchasePayment", **body)["status"] == "PENDING"
    hs_id = ids.payment_id(body["kbTransactionId"])
    # A forged "succeeded" relayed by Kill Bill changes nothing while Hyperswitch still says processing.
    forged = {"merchant_id": "merchant_plugin", "event_id": "evt_forged", "event_type": "payment_succeeded",
              "content": {"type": "payment_details", "object": {"payment_id": hs_id, "status": "succeeded"}},
              "timestamp": "2026-11-22T00:00:00Z"}
    answer = plugin.ok("processNotification", notification=json.dumps(forged))
    assert answer["status"] == 200 and answer["kbPaymentId"] == body["kbPaymentId"]
    infos = plugin.ok("getPaymentInfo", kbAccountId=payor.account_id, kbPaymentId=body["kbPaymentId"])
    assert infos[0]["status"] == "PENDING"
    hs_state.settle_payment(hs_id, "succeeded")
    plugin.ok("processNotification", notification=json.dumps(forged))
    infos = plugin.ok("getPaymentInfo", kbAccountId=payor.account_id, kbPaymentId=body["kbPaymentId"])
    assert infos[0]["status"] == "PROCESSED"


def test_process_notification_refuses_garbage_and_other_merchants(plugin) -> None:
    assert plugin.ok("processNotification", notification="nonsense")["status"] == 400
    other = {"merchant_id": "someone_else", "event_id": "evt_1", "event_type": "payment_succeeded",
             "content": {"type": "payment_details", "object": {"payment_id": "pay_x"}}}
    assert plugin.ok("processNotification", notification=json.dumps(other))["status"] == 400
