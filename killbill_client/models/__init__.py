"""Pydantic models of Kill Bill's JSON, one module per resource."""

from killbill_client.models.accounts import Account
from killbill_client.models.base import (
                                         AuditLog,
                                         InvoiceStatus,
                                         KillBillModel,
                                         ObjectType,
                                         PluginProperties,
                                         PluginProperty,
                                         TransactionStatus,
                                         TransactionType,
)
from killbill_client.models.clock import ClockState
from killbill_client.models.invoices import ExternalCharge, Invoice, InvoiceItem
from killbill_client.models.payment_methods import (
                                         PaymentMethod,
                                         PaymentMethodPluginDetail,
)
from killbill_client.models.payments import (
                                         InvoicePayment,
                                         InvoicePaymentTransaction,
                                         Payment,
                                         PaymentAttempt,
                                         PaymentTransaction,
)
from killbill_client.models.tags import CustomField, Tag
from killbill_client.models.tenants import Tenant, TenantKeyValue

__all__ = [
    "Account", "AuditLog", "ClockState", "CustomField", "ExternalCharge", "Invoice", "InvoiceItem", "InvoicePayment",
    "InvoicePaymentTransaction", "InvoiceStatus", "KillBillModel", "ObjectType", "Payment", "PaymentAttempt",
    "PaymentMethod", "PaymentMethodPluginDetail", "PaymentTransaction", "PluginProperties", "PluginProperty",
    "Tag", "Tenant", "TenantKeyValue", "TransactionStatus", "TransactionType",
]
