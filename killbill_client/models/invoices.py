"""Invoice models (``InvoiceJson``, ``InvoiceItemJson``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from killbill_client.models.base import AuditLog, InvoiceStatus, KillBillModel


class InvoiceItem(KillBillModel):
    invoice_item_id: UUID | None = None
    invoice_id: UUID | None = None
    linked_invoice_item_id: UUID | None = None
    account_id: UUID | None = None
    child_account_id: UUID | None = None
    bundle_id: UUID | None = None
    subscription_id: UUID | None = None
    product_name: str | None = None
    plan_name: str | None = None
    phase_name: str | None = None
    usage_name: str | None = None
    pretty_product_name: str | None = None
    pretty_plan_name: str | None = None
    pretty_phase_name: str | None = None
    pretty_usage_name: str | None = None
    item_type: str | None = None
    description: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    amount: Decimal | None = None
    rate: Decimal | None = None
    currency: str | None = None
    quantity: Decimal | None = None
    item_details: str | None = None
    catalog_effective_date: datetime | None = None
    child_items: list[InvoiceItem] | None = None
    audit_logs: list[AuditLog] | None = None


class ExternalCharge(KillBillModel):
    """One external charge to invoice; currency defaults to the account's."""

    amount: Decimal
    description: str | None = None
    currency: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    item_details: str | None = None


class Invoice(KillBillModel):
    amount: Decimal | None = None
    currency: str | None = None
    status: InvoiceStatus | None = None
    credit_adj: Decimal | None = None
    refund_adj: Decimal | None = None
    invoice_id: UUID | None = None
    invoice_date: date | None = None
    target_date: date | None = None
    invoice_number: str | None = None
    balance: Decimal | None = None
    account_id: UUID | None = None
    bundle_keys: str | None = None
    credits: list[InvoiceItem] | None = None
    items: list[InvoiceItem] | None = None
    tracking_ids: list[str] | None = None
    is_parent_invoice: bool | None = None
    parent_invoice_id: UUID | None = None
    parent_account_id: UUID | None = None
    audit_logs: list[AuditLog] | None = None
