"""Base classes and shared types for request and response models.

Request models forbid unknown fields, because Hyperswitch rejects unknown keys with IR_06 (most of its
request structs are ``deny_unknown_fields``), and drop ``None`` fields when serialized. Response
models allow extra fields, because Hyperswitch adds fields over time, and type the ones the bridge reads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    StringConstraints,
)

from .enums import (
    AcceptanceType,
    AttemptStatus,
    DisputeStage,
    DisputeStatus,
    EventType,
    IntentStatus,
    MandateStatus,
    PaymentLinkStatus,
    PayoutStatus,
    RefundStatus,
    StoredRefundStatus,
    WebhookContentType,
)
from .money import currency_exponent

__all__ = [
    "Address",
    "AddressDetails",
    "BrowserInformation",
    "CountryCode",
    "CurrencyCode",
    "CustomerAcceptance",
    "MerchantId",
    "OnlineMandate",
    "OpenAttemptStatus",
    "OpenDisputeStage",
    "OpenDisputeStatus",
    "OpenEventType",
    "OpenIntentStatus",
    "OpenMandateStatus",
    "OpenPaymentLinkStatus",
    "OpenPayoutStatus",
    "OpenRefundStatus",
    "OpenStoredRefundStatus",
    "OpenWebhookContentType",
    "PhoneDetails",
    "RequestDatetime",
    "RequestModel",
    "ResponseModel",
    "Secret",
    "Text255",
    "UtcDatetime",
]


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_body(self) -> dict[str, Any]:
        """The JSON body Hyperswitch receives: spec field names, ``None`` left out."""
        return self.model_dump(mode="json", exclude_none=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


def _to_utc(value: datetime) -> datetime:
    # Hyperswitch's PrimitiveDateTime values are UTC; a naive timestamp is read as UTC.
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]
"""A response timestamp, always tz-aware UTC."""


def _iso8601(value: datetime) -> str:
    # Hyperswitch's own format (custom_serde::iso8601): UTC, milliseconds, "Z".
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


RequestDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_to_utc),
    PlainSerializer(_iso8601, return_type=str, when_used="json"),
]
"""A request timestamp: must be tz-aware; sent as UTC with milliseconds and a ``Z``."""


def _known_currency(value: str) -> str:
    currency_exponent(value)
    return value.upper()


CurrencyCode = Annotated[str, AfterValidator(_known_currency)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Text255 = Annotated[str, StringConstraints(max_length=255)]
# payment_id / customer_id rules of the router (common_utils::id_type): 1–64 of [A-Za-z0-9_-].
MerchantId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]

Secret = Annotated[
    SecretStr, PlainSerializer(lambda s: s.get_secret_value(), return_type=str, when_used="json")
]
"""A secret request value: hidden in ``repr``, sent in clear in the body."""

# A response field typed by an enum that keeps values Hyperswitch adds later as plain ``str``:
# the enum is tried first, so known values come back as members.
_OPEN = Field(union_mode="left_to_right")
OpenIntentStatus = Annotated[IntentStatus | str, _OPEN]
OpenAttemptStatus = Annotated[AttemptStatus | str, _OPEN]
OpenRefundStatus = Annotated[RefundStatus | str, _OPEN]
OpenStoredRefundStatus = Annotated[StoredRefundStatus | str, _OPEN]
OpenMandateStatus = Annotated[MandateStatus | str, _OPEN]
OpenDisputeStatus = Annotated[DisputeStatus | str, _OPEN]
OpenDisputeStage = Annotated[DisputeStage | str, _OPEN]
OpenPaymentLinkStatus = Annotated[PaymentLinkStatus | str, _OPEN]
OpenPayoutStatus = Annotated[PayoutStatus | str, _OPEN]
OpenEventType = Annotated[EventType | str, _OPEN]
OpenWebhookContentType = Annotated[WebhookContentType | str, _OPEN]


class AddressDetails(RequestModel):
    city: Annotated[str, StringConstraints(max_length=50)] | None = None
    country: CountryCode | None = None
    line1: Annotated[str, StringConstraints(max_length=200)] | None = None
    line2: Annotated[str, StringConstraints(max_length=50)] | None = None
    line3: Annotated[str, StringConstraints(max_length=50)] | None = None
    zip: Annotated[str, StringConstraints(max_length=50)] | None = None
    state: str | None = None
    first_name: Text255 | None = None
    last_name: Text255 | None = None
    origin_zip: Annotated[str, StringConstraints(max_length=50)] | None = None


class PhoneDetails(RequestModel):
    number: str | None = None
    country_code: str | None = None


class Address(RequestModel):
    address: AddressDetails | None = None
    phone: PhoneDetails | None = None
    email: str | None = None


class OnlineMandate(RequestModel):
    ip_address: str
    user_agent: str


class CustomerAcceptance(RequestModel):
    """The payor's consent to store the payment method (required to save it for later MITs)."""

    acceptance_type: AcceptanceType
    accepted_at: RequestDatetime | None = None
    online: OnlineMandate | None = None


class BrowserInformation(RequestModel):
    color_depth: Annotated[int, Field(ge=0)] | None = None
    java_enabled: bool | None = None
    java_script_enabled: bool | None = None
    language: str | None = None
    screen_height: Annotated[int, Field(ge=0)] | None = None
    screen_width: Annotated[int, Field(ge=0)] | None = None
    time_zone: int | None = None
    ip_address: str | None = None
    accept_header: str | None = None
    user_agent: str | None = None
    os_type: str | None = None
    os_version: str | None = None
    device_model: str | None = None
    accept_language: str | None = None
    referer: str | None = None
