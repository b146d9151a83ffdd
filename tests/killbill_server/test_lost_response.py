"""A purchase whose answer from Hyperswitch is lost: the bridge cannot know the outcome, so Kill Bill records
UNKNOWN (never a failure it would retry, which could charge twice); then reconciliation finds the one charge
Hyperswitch made, and Kill Bill ends SUCCESS with the invoice paid."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from bridge.payments import ids
from killbill_client.models import TransactionStatus, TransactionType
from tests.killbill_server.harness import Biller, eventually

PURCHASE = TransactionType.PURCHASE


def killbill_reported(biller: Biller, event_type: str, status: str) -> list[dict]:
    """Kill Bill's push notifications the bridge stored (``bridge webhooks list``) with that payment status."""
    listed = biller.sidecar.cli("webhooks", "list", "--source", "killbill", "--tenant", biller.tenant_id,
                                "--limit", "200", "--json")
    assert listed.returncode == 0, listed.stderr
    found = []
    for event in json.loads(listed.stdout):
        if event["event_type"] != event_type:
            continue
        shown = biller.sidecar.cli("webhooks", "show", str(event["id"]), "--json")
        body = json.loads(json.loads(shown.stdout)["body"])
        if json.loads(body.get("metaData") or "{}").get("status") == status:
            found.append(body)
    return found


def test_lost_answer_is_unknown_then_resolved_with_one_charge(biller: Biller) -> None:
    payor = biller.payor()
    # Hyperswitch makes the payment, then every answer to a create is lost on the way back.
    biller.hs_state.add_fault("POST", "/payments", "drop_after_commit", times=50)
    try:
        invoice_id = payor.invoice("25.00")
        eventually(lambda: killbill_reported(biller, "PAYMENT_FAILED", "UNKNOWN"),
                   "Kill Bill's PAYMENT_FAILED push with status UNKNOWN")
    finally:
        biller.hs_state.clear_faults()

    # Whatever resolves it first (the payment_succeeded webhook through the bridge's worker, or Kill Bill's
    # janitor asking getPaymentInfo once its clock passes the first UNKNOWN check), it is the one charge made.
    if not payor.last_transaction(invoice_id, PURCHASE, TransactionStatus.SUCCESS):
        biller.kb.clock.set(biller.kb.clock.get().current_utc_time + timedelta(minutes=6))
    txn = eventually(lambda: payor.last_transaction(invoice_id, PURCHASE, TransactionStatus.SUCCESS),
                     "Kill Bill's SUCCESS")
    eventually(lambda: payor.balance(invoice_id) == Decimal(0), "the invoice to be paid")

    [purchase] = payor.transactions(invoice_id, PURCHASE)
    assert purchase.transaction_id == txn.transaction_id and purchase.processed_amount == Decimal("25.00")
    [charge] = biller.charges_in_hyperswitch()
    assert (charge["payment_id"], charge["status"], charge["amount"]) == (
        ids.payment_id(txn.transaction_id), "succeeded", 2500)
