"""Typed boundaries of the tenant mapping: what operators send, what they see, per-tenant settings."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, SecretStr, field_validator)

from bridge.channels.phones import is_e164

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_HS_ID = r"^[A-Za-z0-9_-]{1,64}$"
_ACCOUNT_SID = _HS_ID  # the messaging provider's account: the same safe shape, as it goes into URL paths


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"not an email address: {value!r}")
    return value


Email = Annotated[str, AfterValidator(_email)]
BaseUrl = Annotated[HttpUrl, AfterValidator(lambda url: url)]


def _days(values: list[int]) -> list[int]:
    if any(day < 0 or day > 365 for day in values):
        raise ValueError("days must be between 0 and 365")
    return sorted(set(values))


def _minimums(values: dict[str, Decimal]) -> dict[str, Decimal]:
    for code, amount in values.items():
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise ValueError(f"not an ISO 4217 currency code: {code!r}")
        if not amount.is_finite() or amount <= 0:
            raise ValueError(f"the minimum for {code} must be a positive amount")
    return values


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EmailSettings(_Strict):
    sender: Email | None = Field(None, description="From: address of payor emails")
    reply_to: Email | None = None
    brand_name: str | None = Field(None, max_length=200, description="shown in emails and on the invoice page")


ChannelName = Literal["email", "sms", "whatsapp"]
_ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")


def _channel_list(values: list[ChannelName]) -> list[ChannelName]:
    if not values:
        raise ValueError("name at least one channel")
    return list(dict.fromkeys(values))


def _e164(value: str) -> str:
    if not is_e164(value):
        raise ValueError(f"not a phone number in E.164 form (+14155552671): {value!r}")
    return value


def _sms_sender(value: str) -> str:
    if not (is_e164(value) or _ALPHANUMERIC_SENDER.match(value)):
        raise ValueError("an E.164 number, or an alphanumeric sender id (1-11 letters, digits, spaces)")
    return value


class ChannelSettings(_Strict):
    """Where payors hear from the biller: email, SMS and WhatsApp (the text channels through the tenant's
    messaging provider). The account's Kill Bill custom field NOTIFICATION_CHANNELS overrides ``default``."""

    default: Annotated[list[ChannelName], AfterValidator(_channel_list)] = Field(
        default_factory=lambda: ["email"], description="channels every payor gets unless their account says otherwise")
    sms_sender: Annotated[str, AfterValidator(_sms_sender)] | None = Field(
        None, description="From: of SMS, an E.164 number or an alphanumeric sender id where carriers allow one")
    whatsapp_sender: Annotated[str, AfterValidator(_e164)] | None = Field(
        None, description="the biller's WhatsApp sender number, E.164")


class PayByLinkSettings(_Strict):
    """When the payor gets a link instead of (or after) an automatic charge."""

    manual_pay_accounts: bool = Field(True, description="accounts tagged AUTO_PAY_OFF or MANUAL_PAY")
    accounts_without_mandate: bool = Field(True, description="no usable Hyperswitch mandate")
    after_failed_payment: bool = Field(True, description="after a final failure of an automatic payment")
    link_valid_days: int = Field(60, ge=1, le=365)
    offer_to_save_card: bool = False
    saved_card_becomes_default: bool = Field(
        False, description="a card the payor saves on a link payment becomes the account's default payment "
                           "method in Kill Bill (so Kill Bill charges it automatically next time)")
    record_as_external_payment: bool = Field(
        False, description="record a link payment as a Kill Bill external payment when the account has no "
                           "payment method of the bridge's plugin (deployments without the Java plugin)")
    payment_terms_days: int | None = Field(
        None, ge=0, le=365, description="Kill Bill invoices carry no due date: an invoice is due this many days "
                                        "after its invoice date (the account's custom field PAYMENT_TERMS_DAYS "
                                        "overrides it); unset, invoices have no due date")
    part_payments: bool = Field(
        False, description="the payor may pay part of an invoice's balance (at least part_payment_minimum); the "
                           "rest stays open and reminders continue for it")
    part_payment_minimum: Annotated[dict[str, Decimal], AfterValidator(_minimums)] = Field(
        default_factory=dict, description="the smallest part payment per currency, ISO 4217 code → amount in major "
                                          "units (e.g. {\"USD\": \"10.00\"}); a currency not listed takes no part "
                                          "payments")


class ReminderSettings(_Strict):
    days_after_invoice: Annotated[list[int], AfterValidator(_days)] = Field(default_factory=lambda: [3, 7, 14])
    days_before_due: Annotated[list[int], AfterValidator(_days)] = Field(
        default_factory=list, description="needs a due date (pay_by_link.payment_terms_days)")
    send_hour: int = Field(9, ge=0, le=23, description="hour of the day, in the account's time zone, at which "
                                                       "reminders go out")


class ReconciliationSettings(_Strict):
    stale_after_minutes: int = Field(
        15, ge=1, le=10_080, description="the sweeper re-reads PENDING/UNDEFINED transactions older than this")


class PayoutSettings(_Strict):
    """Kill Bill credits (creditPayment) as Hyperswitch payouts to the account's saved payment method."""

    enabled: bool = Field(
        False, description="pay credits out through Hyperswitch (the merchant needs a payout connector); "
                           "when off, a credit is CANCELED with CREDIT_NOT_SUPPORTED and nothing is sent")


class PacingSettings(_Strict):
    """Requests toward Hyperswitch for the tenant's merchant (tenants of one merchant share its pace)."""

    requests_per_second: float | None = Field(
        None, gt=0, le=10_000, description="default: the deployment's hyperswitch_requests_per_second (50)")
    burst: int | None = Field(None, ge=1, le=10_000, description="default: the deployment's hyperswitch_burst (20)")


class TenantSettings(_Strict):
    email: EmailSettings = Field(default_factory=EmailSettings)
    channels: ChannelSettings = Field(default_factory=ChannelSettings)
    pacing: PacingSettings = Field(default_factory=PacingSettings)
    reconciliation: ReconciliationSettings = Field(default_factory=ReconciliationSettings)
    payouts: PayoutSettings = Field(default_factory=PayoutSettings)
    pay_by_link: PayByLinkSettings = Field(default_factory=PayByLinkSettings)
    reminders: ReminderSettings = Field(default_factory=ReminderSettings)


def _url_text(url: HttpUrl) -> str:
    return str(url).rstrip("/")


class TenantFields(_Strict):
    """Fields shared by create and update (all optional here)."""

    name: str | None = Field(None, min_length=1, max_length=200)
    killbill_url: HttpUrl | None = None
    kb_api_key: str | None = Field(None, min_length=1, max_length=200)
    kb_api_secret: SecretStr | None = None
    kb_username: str | None = Field(None, min_length=1, max_length=200)
    kb_password: SecretStr | None = None
    hs_base_url: HttpUrl | None = None
    hs_merchant_id: str | None = Field(None, pattern=_HS_ID)
    hs_profile_id: str | None = Field(None, pattern=_HS_ID)
    hs_api_key: SecretStr | None = None
    hs_publishable_key: str | None = Field(None, max_length=200)
    hs_webhook_secret: SecretStr | None = Field(None, description="the profile's payment_response_hash_key")
    plugin_shared_secret: SecretStr | None = None
    messaging_base_url: HttpUrl | None = Field(None, description="the messaging provider of SMS and WhatsApp "
                                                                 "(Twilio-compatible), e.g. https://api.twilio.com")
    messaging_account_sid: str | None = Field(None, pattern=_ACCOUNT_SID, description="the provider account's SID")
    messaging_auth_token: SecretStr | None = Field(None, description="the provider account's auth token")

    @field_validator("kb_api_secret", "kb_password", "hs_api_key", "hs_webhook_secret", "plugin_shared_secret",
                     "messaging_auth_token")
    @classmethod
    def _not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value


class TenantCreate(TenantFields):
    kb_tenant_id: UUID
    name: str = Field(min_length=1, max_length=200)
    killbill_url: HttpUrl
    kb_api_key: str = Field(min_length=1, max_length=200)
    kb_api_secret: SecretStr
    kb_username: str = Field(min_length=1, max_length=200)
    kb_password: SecretStr
    hs_base_url: HttpUrl
    hs_merchant_id: str = Field(pattern=_HS_ID)
    hs_profile_id: str = Field(pattern=_HS_ID)
    hs_api_key: SecretStr
    hs_webhook_secret: SecretStr
    settings: TenantSettings = Field(default_factory=TenantSettings)


# Fields a tenant cannot be without: an update may change them but not clear them with null.
_REQUIRED_IN_A_TENANT = tuple(name for name in TenantCreate.model_fields
                              if name in TenantFields.model_fields and TenantCreate.model_fields[name].is_required())


def _not_nullable(schema: dict[str, Any]) -> None:
    """The JSON Schema of TenantUpdate: the required fields take a value, never null."""
    for name in _REQUIRED_IN_A_TENANT:
        prop = schema.get("properties", {}).get(name, {})
        variants = [v for v in prop.pop("anyOf", []) if v != {"type": "null"}]
        if len(variants) == 1:
            prop.update(variants[0])
        elif variants:
            prop["anyOf"] = variants
        prop.pop("default", None)


class TenantUpdate(TenantFields):
    """A partial update; ``settings`` is merged into the stored settings, then validated whole."""

    model_config = ConfigDict(json_schema_extra=_not_nullable)

    settings: dict[str, Any] | None = None

    @field_validator(*_REQUIRED_IN_A_TENANT, mode="before")
    @classmethod
    def _no_null(cls, value: Any) -> Any:
        # Called only for fields the request sets: leaving a field out keeps it, null would clear it.
        if value is None:
            raise ValueError("a tenant needs this field: leave it out to keep it, null cannot clear it")
        return value


class TenantView(BaseModel):
    """What operators see: every secret masked."""

    kb_tenant_id: str
    name: str
    killbill_url: str
    kb_api_key: str
    kb_api_secret: str
    kb_username: str
    kb_password: str
    hs_base_url: str
    hs_merchant_id: str
    hs_profile_id: str
    hs_api_key: str
    hs_publishable_key: str | None
    hs_webhook_secret: str
    plugin_shared_secret: str | None
    messaging_base_url: str | None = None
    messaging_account_sid: str | None = None
    messaging_auth_token: str | None = None
    settings: TenantSettings
    created_at: datetime
    updated_at: datetime


def mask(secret: str | None) -> str | None:
    """Enough to tell two keys apart, never enough to use one: the last four characters of long keys."""
    if secret is None:
        return None
    return "****" + secret[-4:] if len(secret) >= 16 else "****"
