"""Every PaymentPluginApi method the sidecar serves: its request model and the capability handling it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from bridge.payment_methods import plugin as payment_methods
from bridge.payments import plugin as payments
from bridge.plugin_api import models as m
from bridge.tenancy.env import TenantEnv


@dataclass(frozen=True)
class Operation:
    request: type[BaseModel]
    handler: Callable[[TenantEnv, Any], Any]
    response: Any  # the Java return type, for the OpenAPI document (None for void)


OPERATIONS: dict[str, Operation] = {
    "authorizePayment": Operation(m.PaymentCall, payments.authorize_payment, m.PaymentTransactionInfoPlugin),
    "capturePayment": Operation(m.PaymentCall, payments.capture_payment, m.PaymentTransactionInfoPlugin),
    "purchasePayment": Operation(m.PaymentCall, payments.purchase_payment, m.PaymentTransactionInfoPlugin),
    "voidPayment": Operation(m.VoidCall, payments.void_payment, m.PaymentTransactionInfoPlugin),
    "creditPayment": Operation(m.PaymentCall, payments.credit_payment, m.PaymentTransactionInfoPlugin),
    "refundPayment": Operation(m.PaymentCall, payments.refund_payment, m.PaymentTransactionInfoPlugin),
    "getPaymentInfo": Operation(m.PaymentInfoCall, payments.get_payment_info, list[m.PaymentTransactionInfoPlugin]),
    "searchPayments": Operation(m.SearchCall, payments.search_payments, m.Pagination[m.PaymentTransactionInfoPlugin]),
    "addPaymentMethod": Operation(m.AddPaymentMethodCall, payment_methods.add_payment_method, None),
    "deletePaymentMethod": Operation(m.PaymentMethodCall, payment_methods.delete_payment_method, None),
    "getPaymentMethodDetail": Operation(m.PaymentMethodDetailCall, payment_methods.get_payment_method_detail,
                                        m.PaymentMethodPlugin),
    "setDefaultPaymentMethod": Operation(m.PaymentMethodCall, payment_methods.set_default_payment_method, None),
    "getPaymentMethods": Operation(m.GetPaymentMethodsCall, payment_methods.get_payment_methods,
                                   list[m.PaymentMethodInfoPlugin]),
    "searchPaymentMethods": Operation(m.SearchCall, payment_methods.search_payment_methods,
                                      m.Pagination[m.PaymentMethodPlugin]),
    "resetPaymentMethods": Operation(m.ResetPaymentMethodsCall, payment_methods.reset_payment_methods, None),
    "buildFormDescriptor": Operation(m.BuildFormDescriptorCall, payment_methods.build_form_descriptor,
                                     m.HostedPaymentPageFormDescriptor),
    "processNotification": Operation(m.ProcessNotificationCall, payments.process_notification,
                                     m.GatewayNotification),
}
