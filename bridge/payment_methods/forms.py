"""buildFormDescriptor: a hosted Hyperswitch page on which the payor saves a payment method (and may pay).

The form is a Hyperswitch payment link for the account's customer with ``setup_future_usage=off_session``,
so the card the payor enters (and agrees to save) becomes a saved payment method for later
merchant-initiated charges. Once the payor is done, Kill Bill's addPaymentMethod with the property
``hsPaymentId`` turns it into a Kill Bill payment method. Without an ``amount`` it is a zero-amount setup,
which Hyperswitch allows (reference/hyperswitch.md §2); with one, the payor pays it too, and that payment
is recorded in Kill Bill by a purchase with the same ``hsPaymentId``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl, urlsplit, urlunsplit
from uuid import UUID, uuid4

import hyperswitch_client as hs
from bridge.payment_methods import errors
from bridge.payment_methods.customers import ensure_customer, kb_account
from bridge.payments import ids
from bridge.payments.service import minor_units
from bridge.plugin_api import models as m
from bridge.plugin_api.errors import invalid
from bridge.tenancy.env import TenantEnv
from hyperswitch_client.enums import FutureUsage
from hyperswitch_client.payments import MAX_AMOUNT, Payment, PaymentCreateParams, PaymentLinkConfig

# customFields (or properties) the form reads.
FIELD_AMOUNT = "amount"  # major units, as a decimal string; absent: a zero-amount setup
FIELD_CURRENCY = "currency"  # absent: the account's currency
FIELD_RETURN_URL = "returnUrl"  # where the payor's browser goes at the end; absent: the bridge's public URL
FIELD_DESCRIPTION = "description"
FIELD_SESSION_EXPIRY = "sessionExpiry"  # seconds the link stays open; absent: the profile's (900 s by default)

_MAX_URL = 2048
_MAX_DESCRIPTION = 255
_SESSION_EXPIRY_RANGE = (60, 7_890_000)  # what Hyperswitch accepts (reference/hyperswitch.md §5)
FORM_PURPOSE = "kb_payment_method_form"


@dataclass(frozen=True)
class Form:
    kb_account_id: UUID
    customer_id: str
    payment: Payment
    url: str  # the link without its query: a GET form submits its fields as the query
    fields: list[tuple[str, str]]
    amount: Decimal


@dataclass(frozen=True)
class _LinkOptions:
    minor: int
    currency: str
    return_url: str
    description: str | None
    session_expiry: int | None


def build(env: TenantEnv, call: m.BuildFormDescriptorCall) -> Form:
    fields = _Fields(call.customFields, call.properties)
    currency = (fields.get(FIELD_CURRENCY) or _account_currency(env, call.kbAccountId)).upper()
    amount = _amount(fields.get(FIELD_AMOUNT))
    link = _LinkOptions(_minor(amount, currency), currency, _return_url(env, fields),
                        _description(fields), _session_expiry(fields.get(FIELD_SESSION_EXPIRY)))
    customer_id = ensure_customer(env, call.kbAccountId)  # only once the input is known to be good
    payment = _create(env, _params(env, call.kbAccountId, customer_id, link))
    if payment.payment_link is None:
        raise errors.refused(errors.HYPERSWITCH_ERROR, f"Hyperswitch created payment {payment.payment_id} without "
                                                       f"a payment link", 502)
    url, query = _split(payment.payment_link.link)
    return Form(call.kbAccountId, customer_id, payment, url, query, amount)


class _Fields:
    """A value from customFields, else from properties; the last one given wins, as in Kill Bill."""

    def __init__(self, custom: Iterable[m.PluginProperty], properties: Iterable[m.PluginProperty]) -> None:
        self._values: dict[str, str] = {}
        for prop in [*properties, *custom]:
            if prop.value is not None and str(prop.value).strip():
                self._values[prop.key] = str(prop.value).strip()

    def get(self, key: str) -> str | None:
        return self._values.get(key)


def _account_currency(env: TenantEnv, kb_account_id: UUID) -> str:
    currency = kb_account(env, kb_account_id).currency
    if not currency:
        raise invalid(f"account {kb_account_id} has no currency: give the form a {FIELD_CURRENCY} field")
    return currency


def _amount(raw: str | None) -> Decimal:
    if raw is None:
        return Decimal(0)
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise invalid(f"field {FIELD_AMOUNT} must be a decimal amount in major units, got {raw!r}") from None
    if not amount.is_finite():
        raise invalid(f"field {FIELD_AMOUNT} must be a finite amount")
    return amount


def _params(env: TenantEnv, kb_account_id: UUID, customer_id: str, link: _LinkOptions) -> PaymentCreateParams:
    return PaymentCreateParams(
        amount=link.minor, currency=link.currency, payment_id=ids.derive(ids.IdKind.FORM, uuid4()),
        customer_id=customer_id, setup_future_usage=FutureUsage.OFF_SESSION, payment_link=True,
        return_url=link.return_url, description=link.description, session_expiry=link.session_expiry,
        # A zero amount only saves the card: the hosted page then asks for no payment.
        payment_link_config=PaymentLinkConfig(is_setup_mandate_flow=True) if link.minor == 0 else None,
        metadata={"kb_tenant_id": env.tenant_id, "kb_account_id": str(kb_account_id), "purpose": FORM_PURPOSE})


def _minor(amount: Decimal, currency: str) -> int:
    minor = minor_units(amount, currency, allow_zero=True)
    if minor > MAX_AMOUNT:
        raise invalid(f"field {FIELD_AMOUNT} is above what Hyperswitch accepts ({MAX_AMOUNT} minor units)")
    return minor


def _return_url(env: TenantEnv, fields: _Fields) -> str:
    url = fields.get(FIELD_RETURN_URL) or env.public_url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > _MAX_URL:
        raise invalid(f"field {FIELD_RETURN_URL} must be an http(s) URL of at most {_MAX_URL} characters")
    return url


def _description(fields: _Fields) -> str | None:
    text = fields.get(FIELD_DESCRIPTION)
    return text[:_MAX_DESCRIPTION] if text else None


def _session_expiry(raw: str | None) -> int | None:
    if raw is None:
        return None
    low, high = _SESSION_EXPIRY_RANGE
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise invalid(f"field {FIELD_SESSION_EXPIRY} must be a number of seconds from {low} to {high}")
    return int(raw)


def _create(env: TenantEnv, params: PaymentCreateParams) -> Payment:
    try:
        return env.hyperswitch.payments.create(params)
    except hs.HyperswitchError as error:
        raise errors.hyperswitch_failure(f"creating the form's payment {params.payment_id}", error) from None


def _split(link: str) -> tuple[str, list[tuple[str, str]]]:
    parts = urlsplit(link)
    return urlunsplit(parts._replace(query="", fragment="")), parse_qsl(parts.query, keep_blank_values=True)
