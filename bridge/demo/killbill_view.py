"""What Kill Bill says about a demo invoice: its balance and the transactions of its payments.

Read without plugin info while waiting (Kill Bill then reports only its own state, never asking the bridge,
so a state it reaches is one the bridge told it), and with plugin info for the summary, which shows the
Hyperswitch id the bridge reported for each transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from bridge.demo.waiting import Seen, StepFailed
from killbill_client import KillBillClient
from killbill_client.models import InvoicePayment, PaymentTransaction, TransactionStatus, TransactionType

# Kill Bill never moves these to another status on its own.
FINAL = frozenset({TransactionStatus.SUCCESS, TransactionStatus.PAYMENT_FAILURE, TransactionStatus.PLUGIN_FAILURE,
                   TransactionStatus.PAYMENT_SYSTEM_OFF})


@dataclass(frozen=True)
class DemoInvoice:
    number: str
    invoice_id: UUID
    item_id: UUID
    payor: str
    amount: Decimal
    currency: str


def money(amount: Decimal | None, currency: str) -> str:
    return f"{amount if amount is not None else Decimal(0):.2f} {currency}"


def payments(kb: KillBillClient, invoice: DemoInvoice, *, with_plugin_info: bool = False) -> list[InvoicePayment]:
    return kb.invoice_payments.list_for_invoice(invoice.invoice_id, with_plugin_info=with_plugin_info)


def transactions(kb: KillBillClient, invoice: DemoInvoice, kind: TransactionType, *,
                 with_plugin_info: bool = False) -> list[PaymentTransaction]:
    return [txn for payment in payments(kb, invoice, with_plugin_info=with_plugin_info)
            for txn in payment.transactions or [] if txn.transaction_type == kind]


def balance(kb: KillBillClient, invoice: DemoInvoice) -> Decimal:
    return kb.invoices.get(invoice.invoice_id).balance or Decimal(0)


def last_transaction_is(kb: KillBillClient, invoice: DemoInvoice, kind: TransactionType,
                        expected: TransactionStatus) -> Seen:
    """The invoice's newest ``kind`` transaction has ``expected``; a different final status fails at once."""
    found = transactions(kb, invoice, kind)
    if not found:
        return Seen(False, f"no {kind.value.lower()} in Kill Bill yet")
    status = found[-1].status
    if status == expected:
        return Seen(True, f"{kind.value} {status.value}")
    if status in FINAL:
        raise StepFailed(f"Kill Bill's {kind.value.lower()} is {status.value if status else 'without status'}, "
                         f"expected {expected.value} ({describe_error(found[-1])})")
    return Seen(False, f"Kill Bill {kind.value} {status.value if status else '(no status)'}")


def balance_is(kb: KillBillClient, invoice: DemoInvoice, expected: Decimal) -> Seen:
    current = balance(kb, invoice)
    return Seen(current == expected, f"balance {money(current, invoice.currency)}")


def describe_error(txn: PaymentTransaction) -> str:
    if not (txn.gateway_error_code or txn.gateway_error_msg):
        return "no gateway error"
    return f"{txn.gateway_error_code or '?'}: {txn.gateway_error_msg or ''}".rstrip(": ")
