"""The payment-method operations of the plugin contract: thin handlers from Java's calls to the service."""

from __future__ import annotations

from decimal import Decimal

from bridge.db.payments import PaymentMethod
from bridge.payment_methods import forms, service, store
from bridge.payment_methods.sources import PROP_MANDATE, PROP_PAYMENT, PROP_PAYMENT_METHOD
from bridge.plugin_api import models as m
from bridge.tenancy.env import TenantEnv
from hyperswitch_client import currency_exponent
from hyperswitch_client.payment_methods import CustomerPaymentMethod


def _properties(pairs: list[tuple[str, str | None]]) -> list[m.PluginProperty]:
    return [m.PluginProperty(key=key, value=value) for key, value in pairs if value]


def external_id(row: PaymentMethod) -> str | None:
    """What Kill Bill keeps as the external key: the mandate when there is one, else the saved method."""
    return row.hs_mandate_id or row.hs_payment_method_id


def method_plugin(row: PaymentMethod) -> m.PaymentMethodPlugin:
    """``PaymentMethodPlugin`` from a stored row; card facts are masked (last four digits at most)."""
    properties = _properties([
        ("state", row.state.value), ("paymentMethodType", row.payment_method), ("cardBrand", row.card_network),
        ("cardLast4", row.card_last4), ("cardExpMonth", row.card_exp_month), ("cardExpYear", row.card_exp_year),
        ("mandateStatus", row.mandate_status), ("hsCustomerId", row.hs_customer_id),
        (PROP_PAYMENT_METHOD, row.hs_payment_method_id), (PROP_MANDATE, row.hs_mandate_id),
    ])
    return m.PaymentMethodPlugin(kbPaymentMethodId=row.kb_payment_method_id, externalPaymentMethodId=external_id(row),
                                 isDefaultPaymentMethod=row.is_default, properties=properties)


def _info(row: PaymentMethod) -> m.PaymentMethodInfoPlugin:
    return m.PaymentMethodInfoPlugin(accountId=row.kb_account_id, paymentMethodId=row.kb_payment_method_id,
                                     isDefault=row.is_default, externalPaymentMethodId=external_id(row))


def _gateway_info(call: m.GetPaymentMethodsCall, pm: CustomerPaymentMethod) -> m.PaymentMethodInfoPlugin:
    # No Kill Bill id yet: Kill Bill creates one and tells it with resetPaymentMethods. Never the
    # default, so a refresh cannot change which method Kill Bill charges.
    return m.PaymentMethodInfoPlugin(accountId=call.kbAccountId, paymentMethodId=None, isDefault=False,
                                     externalPaymentMethodId=pm.payment_method_id)


def add_payment_method(env: TenantEnv, call: m.AddPaymentMethodCall) -> None:
    service.add(env, call)


def delete_payment_method(env: TenantEnv, call: m.PaymentMethodCall) -> None:
    service.delete(env, call)


def get_payment_method_detail(env: TenantEnv, call: m.PaymentMethodDetailCall) -> m.PaymentMethodPlugin:
    return method_plugin(service.owned(env, call.kbAccountId, call.kbPaymentMethodId))


def set_default_payment_method(env: TenantEnv, call: m.PaymentMethodCall) -> None:
    service.set_default(env, call)


def get_payment_methods(env: TenantEnv, call: m.GetPaymentMethodsCall) -> list[m.PaymentMethodInfoPlugin]:
    found = service.account_methods(env, call.kbAccountId, call.refreshFromGateway)
    return [_info(row) for row in found.known] + [_gateway_info(call, pm) for pm in found.gateway_only]


def search_payment_methods(env: TenantEnv, call: m.SearchCall) -> m.Pagination:
    rows, total = store.search(env, call.searchKey, call.offset, call.limit)
    following = call.offset + len(rows)
    return m.Pagination(currentOffset=call.offset, nextOffset=following if following < total else None,
                        totalNbRecords=total, maxNbRecords=total,
                        records=[method_plugin(row).model_dump(mode="json") for row in rows])


def reset_payment_methods(env: TenantEnv, call: m.ResetPaymentMethodsCall) -> None:
    service.reset(env, call)


def build_form_descriptor(env: TenantEnv, call: m.BuildFormDescriptorCall) -> m.HostedPaymentPageFormDescriptor:
    form = forms.build(env, call)
    payment = form.payment
    link = payment.payment_link
    properties = _properties([
        (PROP_PAYMENT, payment.payment_id), ("hsCustomerId", form.customer_id),
        ("hsPaymentLinkId", link.payment_link_id if link else None), ("paymentLinkUrl", link.link if link else None),
        ("clientSecret", payment.client_secret), ("hsPublishableKey", env.creds.hs_publishable_key),
        ("amount", _major(form.amount, payment.currency)), ("currency", payment.currency),
        ("expiresOn", payment.expires_on.isoformat() if payment.expires_on else None),
    ])
    return m.HostedPaymentPageFormDescriptor(
        kbAccountId=form.kb_account_id, formMethod="GET", formUrl=form.url,
        formFields=[m.PluginProperty(key=key, value=value) for key, value in form.fields], properties=properties)


def _major(amount: Decimal, currency: str) -> str:
    return format(amount.quantize(Decimal(1).scaleb(-currency_exponent(currency))), "f")
