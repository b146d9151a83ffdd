"""The load: purchases and refunds made the way Kill Bill makes them, through the Kill Bill simulator's payments
API (which calls the bridge's plugin contract), by several concurrent callers over several tenants and accounts.

A purchase is a plain payment, an invoice payment asked for (an AUTO_PAY_OFF account), or an invoice that Kill
Bill pays on its own bus (an auto-pay account). A share of the purchases that succeeded is refunded a little
later, in full or in part, some of them left ``pending`` by the processor.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

import killbill_client as kb
from bridge.payments import ids
from killbill_client.models import ExternalCharge, Payment, TransactionStatus, TransactionType
from tests.soak.world import Payor, SoakTenant, World

# Kill Bill's answer to a payment call, by the client's error class (what a failed call tells its caller).
_ERROR_OUTCOMES = {kb.PaymentDeclinedError: "PAYMENT_FAILURE", kb.PaymentPluginFailureError: "PLUGIN_FAILURE",
                   kb.PaymentUnknownError: "UNKNOWN", kb.PaymentPluginTimeoutError: "PLUGIN_TIMEOUT"}
# A purchase waits this many later purchases of its caller before its refund (so webhooks cross).
REFUND_LAG = 3
# After Kill Bill could not reach the plugin (the bridge restarting), a caller pauses, as a billing run would,
# instead of spinning through its purchases in the seconds the web process takes to come back.
PAUSE_AFTER_PLUGIN_FAILURE = 2.0
PENDING_REFUND_SHARE = 0.3


@dataclass(frozen=True)
class Purchase:
    tenant: SoakTenant
    payor: Payor
    kb_payment_id: UUID
    kb_transaction_id: UUID
    amount: Decimal
    via_invoice: bool


class Load:
    def __init__(self, world: World, *, purchases: int, callers: int, refund_share: float, seed: int,
                 counts: Counter[str]) -> None:
        self.world = world
        self.purchases = purchases
        self.callers = callers
        self.refund_share = refund_share
        self.seed = seed
        self.counts = counts
        self._numbers = iter(range(purchases))
        self._lock = threading.Lock()
        self._choices = [(tenant, payor) for tenant in world.tenants for payor in tenant.payors]

    def run(self) -> None:
        threads = [threading.Thread(target=self._caller, args=(number,), name=f"soak-caller-{number}")
                   for number in range(self.callers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _next(self) -> int | None:
        with self._lock:
            return next(self._numbers, None)

    def _count(self, key: str) -> None:
        with self._lock:
            self.counts[key] += 1

    def _caller(self, number: int) -> None:
        rng = random.Random(f"{self.seed}:caller:{number}")
        to_refund: deque[Purchase] = deque()
        while self._next() is not None:
            tenant, payor = rng.choice(self._choices)
            purchase = self._purchase(rng, tenant, payor)
            if purchase is not None and rng.random() < self.refund_share:
                to_refund.append(purchase)
            if len(to_refund) > REFUND_LAG:
                self._refund(rng, to_refund.popleft())
        for purchase in to_refund:
            self._refund(rng, purchase)

    # -- purchases ------------------------------------------------------------------------------------
    def _purchase(self, rng: random.Random, tenant: SoakTenant, payor: Payor) -> Purchase | None:
        """One purchase; the Purchase when Kill Bill answered SUCCESS (refundable), else None."""
        amount = Decimal(rng.randint(100, 50_000)).scaleb(-2)
        via_invoice = rng.random() < 0.5
        kind = "invoice_auto_pay" if via_invoice and payor.auto_pay else "invoice" if via_invoice else "plain"
        client = tenant.biller.kb
        try:
            if kind == "plain":
                payment: Payment | None = client.payments.create(payor.account_id, TransactionType.PURCHASE, amount,
                                                                 currency="USD")
            else:
                [item] = client.invoices.create_external_charges(payor.account_id, [ExternalCharge(
                    amount=amount, description="soak", currency="USD")])
                if kind == "invoice_auto_pay":  # Kill Bill pays it on its bus: the audit sees the outcome
                    self._count(f"purchases.{kind}.asked")
                    return None
                assert item.invoice_id is not None
                payment = client.invoice_payments.pay_invoice(item.invoice_id, payor.account_id)
        except kb.KillBillError as error:
            self._count(f"purchases.{kind}.{_outcome(error)}")
            if isinstance(error, kb.PaymentPluginFailureError):
                time.sleep(PAUSE_AFTER_PLUGIN_FAILURE)
            return None
        txn = _last(payment, TransactionType.PURCHASE)
        status = txn.status.value if txn and txn.status else "none"
        self._count(f"purchases.{kind}.{status}")
        if payment is None or txn is None or txn.status is not TransactionStatus.SUCCESS:
            return None
        assert payment.payment_id is not None and txn.transaction_id is not None
        return Purchase(tenant, payor, payment.payment_id, txn.transaction_id, amount, via_invoice)

    # -- refunds --------------------------------------------------------------------------------------
    def _refund(self, rng: random.Random, purchase: Purchase) -> None:
        minor = int(purchase.amount.scaleb(2))
        amount = purchase.amount if rng.random() < 0.5 or minor < 2 else Decimal(rng.randint(1, minor - 1)).scaleb(-2)
        if rng.random() < PENDING_REFUND_SHARE:  # the processor will answer pending, and settle it later
            self.world.hyperswitch.control("POST", "/refund_behaviour", json={
                "outcome": "pending", "merchant_id": purchase.tenant.merchant_id,
                "payment_id": ids.payment_id(purchase.kb_transaction_id)})
        kind = "invoice" if purchase.via_invoice else "plain"
        client = purchase.tenant.biller.kb
        try:
            if purchase.via_invoice:
                payment: Payment = client.invoice_payments.refund(purchase.kb_payment_id, amount)
            else:
                payment = client.payments.refund(purchase.kb_payment_id, amount)
        except kb.KillBillError as error:
            self._count(f"refunds.{kind}.{_outcome(error)}")
            return
        txn = _last(payment, TransactionType.REFUND)
        self._count(f"refunds.{kind}.{txn.status.value if txn and txn.status else 'none'}")


def _last(payment: Payment | None, ttype: TransactionType):  # type: ignore[no-untyped-def]
    found = [t for t in (payment.transactions if payment else None) or [] if t.transaction_type == ttype]
    return found[-1] if found else None


def _outcome(error: kb.KillBillError) -> str:
    return next((name for cls, name in _ERROR_OUTCOMES.items() if isinstance(error, cls)),
                f"error_{type(error).__name__}")

