"""The simulator is thread-safe: concurrent requests neither lose nor duplicate anything."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from killbill_client import KillBillClient
from killbill_client.constants import EXTERNAL_PAYMENT_PLUGIN
from killbill_client.models import Account, ExternalCharge, TransactionType


def test_concurrent_payments_and_charges_are_all_recorded_once(kb: KillBillClient, account: Account) -> None:
    kb.payment_methods.add(account.account_id, EXTERNAL_PAYMENT_PLUGIN, is_default=True)  # type: ignore[arg-type]

    def pay(index: int) -> str:
        payment = kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal("1.25"),  # type: ignore[arg-type]
                                     transaction_external_key=f"txn-{index}")
        return payment.payment_number  # type: ignore[return-value]

    def charge(_: int) -> None:
        kb.invoices.create_external_charges(account.account_id, [ExternalCharge(amount=Decimal("2"))],  # type: ignore[arg-type]
                                            auto_commit=False)

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(pay, range(24)))
        list(pool.map(charge, range(12)))
    assert sorted(int(n) for n in numbers) == list(range(1, 25))
    payments = kb.payments.list_for_account(account.account_id)  # type: ignore[arg-type]
    assert len(payments) == 24 and sum((p.purchased_amount for p in payments), Decimal(0)) == Decimal("30.00")
    invoices = kb.invoices.list_for_account(account.account_id)  # type: ignore[arg-type]
    assert sorted(int(i.invoice_number) for i in invoices) == list(range(1, 13))  # type: ignore[arg-type]
