"""Shared pieces of the Kill Bill models: the base class, enums, plugin properties, audit logs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class KillBillModel(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields are kept, not rejected."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    def to_wire(self) -> dict[str, Any]:
        """The request body: only the fields that are set, by their Kill Bill names."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="python")


class TransactionType(StrEnum):
    AUTHORIZE = "AUTHORIZE"
    CAPTURE = "CAPTURE"
    CHARGEBACK = "CHARGEBACK"
    CREDIT = "CREDIT"
    PURCHASE = "PURCHASE"
    REFUND = "REFUND"
    VOID = "VOID"


class TransactionStatus(StrEnum):
    """What the plugin's PaymentPluginStatus becomes (reference/killbill.md §A3)."""

    SUCCESS = "SUCCESS"
    UNKNOWN = "UNKNOWN"
    PENDING = "PENDING"
    PAYMENT_FAILURE = "PAYMENT_FAILURE"
    PLUGIN_FAILURE = "PLUGIN_FAILURE"
    PAYMENT_SYSTEM_OFF = "PAYMENT_SYSTEM_OFF"


class InvoiceStatus(StrEnum):
    DRAFT = "DRAFT"
    COMMITTED = "COMMITTED"
    VOID = "VOID"


class ObjectType(StrEnum):
    ACCOUNT = "ACCOUNT"
    ACCOUNT_EMAIL = "ACCOUNT_EMAIL"
    BLOCKING_STATES = "BLOCKING_STATES"
    BUNDLE = "BUNDLE"
    CUSTOM_FIELD = "CUSTOM_FIELD"
    INVOICE = "INVOICE"
    PAYMENT = "PAYMENT"
    TRANSACTION = "TRANSACTION"
    INVOICE_ITEM = "INVOICE_ITEM"
    INVOICE_PAYMENT = "INVOICE_PAYMENT"
    SUBSCRIPTION = "SUBSCRIPTION"
    SUBSCRIPTION_EVENT = "SUBSCRIPTION_EVENT"
    SERVICE_BROADCAST = "SERVICE_BROADCAST"
    PAYMENT_ATTEMPT = "PAYMENT_ATTEMPT"
    PAYMENT_METHOD = "PAYMENT_METHOD"
    TAG = "TAG"
    TAG_DEFINITION = "TAG_DEFINITION"
    TENANT = "TENANT"
    TENANT_KVS = "TENANT_KVS"


class AuditLog(KillBillModel):
    change_type: str | None = None
    change_date: datetime | None = None
    object_type: str | None = None
    object_id: str | None = None
    changed_by: str | None = None
    reason_code: str | None = None
    comments: str | None = None
    user_token: str | None = None


class PluginProperty(KillBillModel):
    """``{key, value, isUpdatable}``; Kill Bill's REST layer carries every value as a string."""

    key: str
    value: str | None = None
    is_updatable: bool | None = False


PluginProperties = Mapping[str, Any] | Iterable[PluginProperty] | None


def properties_to_list(properties: PluginProperties) -> list[PluginProperty]:
    """Accept ``{"k": "v"}`` or PluginProperty objects."""
    if properties is None:
        return []
    if isinstance(properties, Mapping):
        return [PluginProperty(key=str(k), value=None if v is None else str(v)) for k, v in properties.items()]
    return list(properties)


def properties_to_query(properties: PluginProperties) -> list[str]:
    """Kill Bill's ``pluginProperty=key=value`` query form (everything after the first ``=`` is the value)."""
    return [f"{p.key}={'' if p.value is None else p.value}" for p in properties_to_list(properties)]
