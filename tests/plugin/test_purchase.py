"""authorizePayment / purchasePayment: off-session charges, exactly once per kbTransactionId."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from bridge.db.engine import session_scope
from bridge.db.payments import PaymentMethod, PaymentMethodState, Transaction, TransactionHistory
from bridge.payments import ids
from tests.plugin.conftest import make_payor, payment_call


def create_calls(hs_state, payment_id: str) -> int:  # type: ignore[no-untyped-def]
    return next((p["create_calls"] for p in hs_state.payments_overview() if p["payment_id"] == payment_id), 0)


def history(runtime, kb_transaction_id: str) -> list[tuple[str | None, str, str]]:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        txn = session.scalars(select(Transaction).where(Transaction.kb_transaction_id == kb_transaction_id)).one()
        rows = session.scalars(select(TransactionHistory).where(TransactionHistory.transaction_id == txn.id)
                               .order_by(TransactionHistory.id)).all()
        return [(r.from_status and r.from_status.value, r.to_status.value, r.source.value) for r in rows]


def test_purchase_succeeds_with_the_mandate(plugin, payor, hs, hs_state, runtime) -> None:
    body = payment_call(payor.account_id, "10.50", kbPaymentMethodId=payor.kb_payment_method_id,
                        properties=[{"key": "IPCD_INVOICE_ID", "value": "inv-42", "isUpdatable": False}])
    info = plugin.ok("purchasePayment", **body)
    assert info["status"] == "PROCESSED"
    assert info["kbTransactionPaymentId"] == body["kbTransactionId"]
    assert info["transactionType"] == "PURCHASE"
    assert info["amount"] == "10.50" and info["currency"] == "USD"
    hs_payment = hs.payments.retrieve(ids.payment_id(body["kbTransactionId"]))
    assert hs_payment.amount == 1050 and str(hs_payment.status) == "succeeded"
    assert hs_payment.customer_id == payor.customer_id and hs_payment.off_session
    assert hs_payment.metadata["kb_invoice_id"] == "inv-42"
    assert hs_payment.merchant_order_reference_id == "inv-42"
    assert info["firstPaymentReferenceId"] == hs_payment.payment_id
    assert history(runtime, body["kbTransactionId"]) == [(None, "UNDEFINED", "plugin"),
                                                         ("UNDEFINED", "PROCESSED", "plugin")]


def test_saved_payment_method_without_mandate_is_charged(plugin, runtime, kb, hs, tenant_id) -> None:
    payor = make_payor(runtime, kb, hs, tenant_id, mandate=False)
    body = payment_call(payor.account_id, "3.00", kbPaymentMethodId=payor.kb_payment_method_id)
    assert plugin.ok("purchasePayment", **body)["status"] == "PROCESSED"


@pytest.mark.parametrize(("outcome", "code"), [("decline", "card_declined"),
                                                ("insufficient_funds", "card_declined")])
def test_declines_are_errors_with_the_gateway_code(plugin, payor, hs_state, outcome: str, code: str) -> None:
    hs_state.set_mandate_behaviour(payor.mandate_id, outcome)
    info = plugin.ok("purchasePayment", **payment_call(payor.account_id, "20.00",
                                                       kbPaymentMethodId=payor.kb_payment_method_id))
    assert info["status"] == "ERROR"
    assert info["gatewayErrorCode"] == code
    assert info["gatewayError"]


def test_asynchronous_payment_is_pending_until_settled(plugin, payor, hs_state) -> None:
    hs_state.set_mandate_behaviour(payor.mandate_id, "processing")
    body = payment_call(payor.account_id, "7.00", kbPaymentMethodId=payor.kb_payment_method_id)
    assert plugin.ok("purchasePayment", **body)["status"] == "PENDING"
    hs_state.settle_payment(ids.payment_id(body["kbTransactionId"]), "succeeded")
    infos = plugin.ok("getPaymentInfo", kbAccountId=payor.account_id, kbPaymentId=body["kbPaymentId"])
    assert [i["status"] for i in infos] == ["PROCESSED"]


def test_customer_action_is_pending_with_the_redirect(plugin, payor, hs_state) -> None:
    hs_state.set_mandate_behaviour(payor.mandate_id, "requires_customer_action")
    body = payment_call(payor.account_id, "7.00", kbPaymentMethodId=payor.kb_payment_method_id,
                        properties=[{"key": "returnUrl", "value": "https://shop.test/back"}])
    info = plugin.ok("purchasePayment", **body)
    assert info["status"] == "PENDING"
    redirect = {p["key"]: p["value"] for p in info["properties"]}["redirectUrl"]
    assert redirect.startswith("http")


def test_authorize_then_capture_in_parts_and_refund(plugin, payor, hs) -> None:
    auth = payment_call(payor.account_id, "100.00", kbPaymentMethodId=payor.kb_payment_method_id,
                        properties=[{"key": "captureMethod", "value": "manual_multiple"}])
    assert plugin.ok("authorizePayment", **auth)["status"] == "PROCESSED"
    hs_id = ids.payment_id(auth["kbTransactionId"])
    assert str(hs.payments.retrieve(hs_id).status) == "requires_capture"
    follow = {"kbAccountId": payor.account_id, "kbPaymentId": auth["kbPaymentId"], "currency": "USD"}
    first = plugin.ok("capturePayment", **follow, kbTransactionId=str(uuid.uuid4()), amount="30.00")
    second = plugin.ok("capturePayment", **follow, kbTransactionId=str(uuid.uuid4()), amount="70.00")
    assert (first["status"], second["status"]) == ("PROCESSED", "PROCESSED")
    assert hs.payments.retrieve(hs_id).amount_received == 10_000
    refund = plugin.ok("refundPayment", **follow, kbTransactionId=str(uuid.uuid4()), amount="100.00")
    assert refund["status"] == "PROCESSED"
    infos = plugin.ok("getPaymentInfo", kbAccountId=payor.account_id, kbPaymentId=auth["kbPaymentId"])
    assert [i["transactionType"] for i in infos] == ["AUTHORIZE", "CAPTURE", "CAPTURE", "REFUND"]


def test_void_an_authorization(plugin, payor, hs) -> None:
    auth = payment_call(payor.account_id, "40.00", kbPaymentMethodId=payor.kb_payment_method_id)
    plugin.ok("authorizePayment", **auth)
    void = plugin.ok("voidPayment", kbAccountId=payor.account_id, kbPaymentId=auth["kbPaymentId"],
                     kbTransactionId=str(uuid.uuid4()))
    assert void["status"] == "PROCESSED" and void["transactionType"] == "VOID"
    assert str(hs.payments.retrieve(ids.payment_id(auth["kbTransactionId"])).status) == "cancelled"


def test_partial_refunds_add_up_to_the_total_and_no_further(plugin, payor) -> None:
    purchase = payment_call(payor.account_id, "50.00", kbPaymentMethodId=payor.kb_payment_method_id)
    plugin.ok("purchasePayment", **purchase)
    follow = {"kbAccountId": payor.account_id, "kbPaymentId": purchase["kbPaymentId"], "currency": "USD"}
    statuses = [plugin.ok("refundPayment", **follow, kbTransactionId=str(uuid.uuid4()), amount=amount)["status"]
                for amount in ("10.00", "15.00", "25.00")]
    assert statuses == ["PROCESSED"] * 3
    over = plugin.ok("refundPayment", **follow, kbTransactionId=str(uuid.uuid4()), amount="0.01")
    assert over["status"] == "ERROR" and over["gatewayErrorCode"] == "IR_13"


def test_pending_refund_settles_on_refresh(plugin, payor, hs_state, hs) -> None:
    purchase = payment_call(payor.account_id, "12.00", kbPaymentMethodId=payor.kb_payment_method_id)
    plugin.ok("purchasePayment", **purchase)
    hs_state.set_refund_behaviour("pending", merchant_id=hs_state_merchant(hs_state))
    refund = payment_call(payor.account_id, "12.00", kbPaymentId=purchase["kbPaymentId"])
    assert plugin.ok("refundPayment", **refund)["status"] == "PENDING"
    hs_state.settle_refund(ids.refund_id(refund["kbTransactionId"]), "succeeded")
    infos = plugin.ok("getPaymentInfo", kbAccountId=payor.account_id, kbPaymentId=purchase["kbPaymentId"])
    assert [i["status"] for i in infos] == ["PROCESSED", "PROCESSED"]


def hs_state_merchant(hs_state) -> str:  # type: ignore[no-untyped-def]
    from tests.plugin.conftest import MERCHANT

    return MERCHANT["merchant_id"]


# Hyperswitch's exponents, not ISO's: ISK has 2 decimals there (reference/hyperswitch.md §8).
@pytest.mark.parametrize(("currency", "amount", "minor"), [("JPY", "1500", 1500), ("KWD", "12.345", 12345),
                                                           ("ISK", "990", 99000)])
def test_zero_and_three_decimal_currencies(plugin, runtime, kb, hs, tenant_id, currency, amount, minor) -> None:
    payor = make_payor(runtime, kb, hs, tenant_id, currency=currency)
    body = payment_call(payor.account_id, amount, currency, kbPaymentMethodId=payor.kb_payment_method_id)
    info = plugin.ok("purchasePayment", **body)
    assert info["status"] == "PROCESSED" and Decimal(info["amount"]) == Decimal(amount)
    assert hs.payments.retrieve(ids.payment_id(body["kbTransactionId"])).amount == minor


def test_a_repeated_call_returns_the_stored_result_without_charging_again(plugin, payor, hs_state) -> None:
    body = payment_call(payor.account_id, "9.99", kbPaymentMethodId=payor.kb_payment_method_id)
    first = plugin.ok("purchasePayment", **body)
    again = plugin.ok("purchasePayment", **body)
    assert first == again
    assert create_calls(hs_state, ids.payment_id(body["kbTransactionId"])) == 1


def test_concurrent_duplicates_make_exactly_one_payment(plugin, payor, hs_state) -> None:
    hs_state.add_fault("POST", "/payments", "latency", latency_ms=300)
    body = payment_call(payor.account_id, "5.00", kbPaymentMethodId=payor.kb_payment_method_id)
    results: list[dict] = []
    barrier = threading.Barrier(6)

    def call() -> None:
        barrier.wait()
        results.append(plugin.ok("purchasePayment", **body))

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [r["status"] for r in results] == ["PROCESSED"] * 6
    assert create_calls(hs_state, ids.payment_id(body["kbTransactionId"])) == 1
    assert len([p for p in hs_state.payments_overview() if p["payment_id"].startswith("kbp_")]) == 1


def test_unusable_payment_method_is_refused_without_calling_hyperswitch(plugin, payor, runtime, tenant_id,
                                                                         hs_state) -> None:
    with session_scope(runtime.sessions) as session:
        session.get(PaymentMethod, (tenant_id, payor.kb_payment_method_id)).state = PaymentMethodState.UNUSABLE
    body = payment_call(payor.account_id, "5.00", kbPaymentMethodId=payor.kb_payment_method_id)
    info = plugin.ok("purchasePayment", **body)
    assert info["status"] == "ERROR" and info["gatewayErrorCode"] == "PAYMENT_METHOD_UNUSABLE"
    assert create_calls(hs_state, ids.payment_id(body["kbTransactionId"])) == 0


def test_credit_is_canceled_with_a_reason(plugin, payor) -> None:
    info = plugin.ok("creditPayment", **payment_call(payor.account_id, "5.00",
                                                     kbPaymentMethodId=payor.kb_payment_method_id))
    assert info["status"] == "CANCELED" and info["gatewayErrorCode"] == "CREDIT_NOT_SUPPORTED"


def test_explicit_instrument_properties_do_not_bypass_the_payment_method_state(plugin, payor, runtime, tenant_id,
                                                                               hs_state) -> None:
    with session_scope(runtime.sessions) as session:
        session.get(PaymentMethod, (tenant_id, payor.kb_payment_method_id)).state = PaymentMethodState.UNUSABLE
    body = payment_call(payor.account_id, "5.00", kbPaymentMethodId=payor.kb_payment_method_id,
                        properties=[{"key": "hsMandateId", "value": payor.mandate_id}])
    info = plugin.ok("purchasePayment", **body)
    assert info["status"] == "ERROR" and info["gatewayErrorCode"] == "PAYMENT_METHOD_UNUSABLE"
    unknown = payment_call(payor.account_id, "5.00", kbPaymentMethodId=str(uuid.uuid4()),
                           properties=[{"key": "hsMandateId", "value": payor.mandate_id}])
    assert plugin.call("purchasePayment", **unknown).status_code == 404
    assert create_calls(hs_state, ids.payment_id(body["kbTransactionId"])) == 0


def test_amounts_beyond_what_hyperswitch_takes_are_refused(plugin, payor) -> None:
    response = plugin.call("purchasePayment", **payment_call(payor.account_id, "10000000.00",
                                                             kbPaymentMethodId=payor.kb_payment_method_id))
    assert response.status_code == 400 and response.json["errorType"] == "INVALID_AMOUNT"
