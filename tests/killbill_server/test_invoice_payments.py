"""Invoice payments on a real Kill Bill: Kill Bill's own invoice auto-pay calls purchasePayment through the Java
plugin; the bridge charges the payor's Hyperswitch mandate and answers with the outcome Hyperswitch knows."""

from __future__ import annotations

from decimal import Decimal

from bridge.payments import ids
from killbill_client.models import TransactionStatus, TransactionType
from tests.killbill_server.harness import Biller, eventually

PURCHASE, REFUND = TransactionType.PURCHASE, TransactionType.REFUND
SUCCESS, PENDING, FAILURE = TransactionStatus.SUCCESS, TransactionStatus.PENDING, TransactionStatus.PAYMENT_FAILURE


def test_external_charge_invoice_is_paid_through_the_plugin(biller: Biller) -> None:
    payor = biller.payor()

    invoice_id = payor.invoice("49.90")

    txn = eventually(lambda: payor.last_transaction(invoice_id, PURCHASE, SUCCESS), "Kill Bill's auto-pay")
    assert payor.balance(invoice_id) == Decimal(0)
    assert txn.amount == Decimal("49.90") and txn.processed_amount == Decimal("49.90")
    # getPaymentInfo through the plugin: the Hyperswitch payment, its id derived from Kill Bill's transaction id.
    [info] = payor.transactions(invoice_id, PURCHASE, with_plugin_info=True)
    assert info.first_payment_reference_id == ids.payment_id(txn.transaction_id)
    payment = biller.hs.payments.retrieve(info.first_payment_reference_id)
    assert (str(payment.status), payment.amount, payment.mandate_id) == ("succeeded", 4990, payor.mandate_id)
    [charge] = biller.charges_in_hyperswitch()
    assert charge["create_calls"] == 1


def test_decline_is_a_payment_failure_that_kill_bill_retries(biller: Biller) -> None:
    payor = biller.payor()
    payor.processor_answers("insufficient_funds")

    invoice_id = payor.invoice("20.00")

    failed = eventually(lambda: payor.last_transaction(invoice_id, PURCHASE, FAILURE), "the declined purchase")
    assert failed.gateway_error_code and failed.processed_amount == Decimal(0)
    assert payor.balance(invoice_id) == Decimal("20.00")
    # Kill Bill's invoice payment control plugin schedules the next attempt (org.killbill.payment.retry.days).
    [payment] = payor.payments(invoice_id)
    attempts = payment.payment_attempts or []
    assert [a.state_name for a in attempts] == ["RETRIED", "SCHEDULED"], attempts

    # The card works again; Kill Bill's retry (8 days later on its clock) charges it through the plugin.
    payor.processor_answers("approve")
    biller.kb.clock.add_days(8)

    retried = eventually(lambda: payor.last_transaction(invoice_id, PURCHASE, SUCCESS), "Kill Bill's retry")
    assert retried.transaction_id != failed.transaction_id
    assert payor.balance(invoice_id) == Decimal(0)
    statuses = {row["payment_id"]: row["status"] for row in biller.charges_in_hyperswitch()}
    assert statuses == {ids.payment_id(failed.transaction_id): "failed",
                        ids.payment_id(retried.transaction_id): "succeeded"}


def test_asynchronous_payment_is_pending_until_the_hyperswitch_webhook(biller: Biller) -> None:
    payor = biller.payor()
    payor.processor_answers("processing")

    invoice_id = payor.invoice("30.00")

    pending = eventually(lambda: payor.last_transaction(invoice_id, PURCHASE, PENDING), "the pending purchase")
    assert payor.balance(invoice_id) == Decimal("30.00")
    hs_payment_id = ids.payment_id(pending.transaction_id)

    # The processor settles; Hyperswitch sends the signed payment_succeeded webhook to the bridge, whose worker
    # re-reads the payment and tells Kill Bill (notifyStateChanged with the invoice payment control plugin).
    biller.hs_state.settle_payment(hs_payment_id, "succeeded")

    done = eventually(lambda: payor.last_transaction(invoice_id, PURCHASE, SUCCESS), "Kill Bill's SUCCESS")
    assert done.transaction_id == pending.transaction_id
    eventually(lambda: payor.balance(invoice_id) == Decimal(0), "the invoice to be paid")
    delivered = [d for d in biller.hs_state.deliveries(event_type="payment_succeeded")
                 if d["object_id"] == hs_payment_id and d["state"] == "delivered"]
    assert delivered


def test_partial_then_full_refund(biller: Biller) -> None:
    payor = biller.payor()
    invoice_id = payor.invoice("80.00")
    eventually(lambda: payor.last_transaction(invoice_id, PURCHASE, SUCCESS), "Kill Bill's auto-pay")
    [payment] = payor.payments(invoice_id)
    assert payment.payment_id is not None

    biller.kb.invoice_payments.refund(payment.payment_id, Decimal("30.00"))
    first = eventually(lambda: payor.last_transaction(invoice_id, REFUND, SUCCESS), "the partial refund")
    biller.kb.invoice_payments.refund(payment.payment_id, Decimal("50.00"))
    eventually(lambda: len([t for t in payor.transactions(invoice_id, REFUND) if t.status == SUCCESS]) == 2,
               "the second refund")

    refunds = payor.transactions(invoice_id, REFUND)
    assert [t.amount for t in refunds] == [Decimal("30.00"), Decimal("50.00")]
    assert refunds[0].transaction_id == first.transaction_id
    paid = biller.kb.payments.get(payment.payment_id)
    assert (paid.purchased_amount, paid.refunded_amount) == (Decimal("80.00"), Decimal("80.00"))
    # Refunded without adjusting the invoice: Kill Bill reopens the whole amount.
    assert payor.balance(invoice_id) == Decimal("80.00")
    for txn in refunds:
        refund = biller.hs.refunds.retrieve(ids.refund_id(txn.transaction_id))
        assert str(refund.status) == "succeeded" and refund.amount == int(txn.amount * 100)
    hs_payment = biller.hs.payments.retrieve(ids.payment_id(paid.transactions[0].transaction_id))
    assert hs_payment.amount == 8000
