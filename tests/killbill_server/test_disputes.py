"""A dispute lost in Hyperswitch becomes a chargeback on the Kill Bill invoice payment: the invoice is open
again for the disputed amount (Kill Bill records chargebacks without calling the plugin)."""

from __future__ import annotations

from decimal import Decimal

from bridge.payments import ids
from killbill_client.models import TransactionStatus, TransactionType
from tests.killbill_server.harness import Biller, eventually

PURCHASE, CHARGEBACK = TransactionType.PURCHASE, TransactionType.CHARGEBACK


def test_lost_dispute_is_a_chargeback_on_the_invoice(biller: Biller) -> None:
    payor = biller.payor()
    invoice_id = payor.invoice("60.00")
    paid = eventually(lambda: payor.last_transaction(invoice_id, PURCHASE, TransactionStatus.SUCCESS),
                      "Kill Bill's auto-pay")
    eventually(lambda: payor.balance(invoice_id) == Decimal(0), "the invoice to be paid")

    dispute = biller.hs_state.open_dispute(ids.payment_id(paid.transaction_id), amount=6000)
    biller.hs_state.lose_dispute(dispute["dispute_id"])

    chargeback = eventually(lambda: payor.last_transaction(invoice_id, CHARGEBACK, TransactionStatus.SUCCESS),
                            "the chargeback in Kill Bill")
    assert chargeback.amount == Decimal("60.00")
    assert chargeback.transaction_external_key == f"hs-dispute-{dispute['dispute_id']}"
    eventually(lambda: payor.balance(invoice_id) == Decimal("60.00"), "the invoice to be open again")
    [payment] = payor.payments(invoice_id)
    assert [t.transaction_type for t in payment.transactions or []] == [PURCHASE, CHARGEBACK]
