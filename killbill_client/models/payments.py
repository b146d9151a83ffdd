"""Payment models (``PaymentJson``, ``PaymentTransactionJson``, ``PaymentAttemptJson``, ``InvoicePaymentJson``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from killbill_client.models.base import (
    AuditLog,
    KillBillModel,
    PluginProperty,
    TransactionStatus,
    TransactionType,
)
from killbill_client.models.invoices import InvoiceItem


class PaymentTransaction(KillBillModel):
    transaction_id: UUID | None = None
    transaction_external_key: str | None = None
    payment_id: UUID | None = None
    payment_external_key: str | None = None
    transaction_type: TransactionType | None = None
    amount: Decimal | None = None
    currency: str | None = None
    effective_date: datetime | None = None
    processed_amount: Decimal | None = None
    processed_currency: str | None = None
    status: TransactionStatus | None = None
    gateway_error_code: str | None = None
    gateway_error_msg: str | None = None
    # The next three come from the plugin: only with ``withPluginInfo=true``.
    first_payment_reference_id: str | None = None
    second_payment_reference_id: str | None = None
    properties: list[PluginProperty] | None = None
    audit_logs: list[AuditLog] | None = None

    def property(self, key: str) -> str | None:
        for prop in self.properties or []:
            if prop.key == key:
                return prop.value
        return None


class PaymentAttempt(KillBillModel):
    account_id: UUID | None = None
    payment_method_id: UUID | None = None
    payment_external_key: str | None = None
    transaction_id: UUID | None = None
    transaction_external_key: str | None = None
    transaction_type: TransactionType | None = None
    effective_date: datetime | None = None
    # INIT, SUCCESS (also for PENDING transactions), RETRIED or ABORTED; SCHEDULED for a retry Kill Bill has
    # queued (then effective_date is when it runs, and transaction_id is null).
    state_name: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    plugin_name: str | None = None
    plugin_properties: list[PluginProperty] | None = None
    audit_logs: list[AuditLog] | None = None


class Payment(KillBillModel):
    account_id: UUID | None = None
    payment_id: UUID | None = None
    payment_number: str | None = None
    payment_external_key: str | None = None
    auth_amount: Decimal | None = None
    captured_amount: Decimal | None = None
    purchased_amount: Decimal | None = None
    refunded_amount: Decimal | None = None
    credited_amount: Decimal | None = None
    currency: str | None = None
    payment_method_id: UUID | None = None
    transactions: list[PaymentTransaction] | None = None
    payment_attempts: list[PaymentAttempt] | None = None
    audit_logs: list[AuditLog] | None = None

    def transaction(self, transaction_id: UUID) -> PaymentTransaction:
        for txn in self.transactions or []:
            if txn.transaction_id == transaction_id:
                return txn
        raise KeyError(f"payment {self.payment_id} has no transaction {transaction_id}")

    @property
    def last_transaction(self) -> PaymentTransaction | None:
        return self.transactions[-1] if self.transactions else None


class InvoicePayment(Payment):
    target_invoice_id: UUID | None = None


class InvoicePaymentTransaction(PaymentTransaction):
    """A refund/chargeback request on an invoice payment; ``adjustments`` are invoice item adjustments."""

    is_adjusted: bool | None = None
    adjustments: list[InvoiceItem] | None = None
