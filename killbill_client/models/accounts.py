"""Account model (``AccountJson``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from pydantic import Field

from killbill_client.models.base import AuditLog, KillBillModel


class Account(KillBillModel):
    account_id: UUID | None = None
    name: str | None = None
    first_name_length: int | None = None
    external_key: str | None = None
    email: str | None = None
    bill_cycle_day_local: int | None = None
    currency: str | None = None
    parent_account_id: UUID | None = None
    is_payment_delegated_to_parent: bool | None = None
    # The account's default payment method.
    payment_method_id: UUID | None = None
    reference_time: datetime | None = None
    time_zone: str | None = None
    address1: str | None = None
    address2: str | None = None
    postal_code: str | None = None
    company: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    locale: str | None = None
    phone: str | None = None
    notes: str | None = None
    is_migrated: bool | None = None
    # Only filled when asked for (accountWithBalance / accountWithBalanceAndCBA).
    account_balance: Decimal | None = None
    account_cba: Decimal | None = Field(default=None, alias="accountCBA")
    audit_logs: list[AuditLog] | None = None
