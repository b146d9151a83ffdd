"""The simulator's stored objects, with the identifiers and timestamps the real router uses."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

_ALPHANUMERIC = string.ascii_letters + string.digits

CONNECTOR = "fauxpay"  # one of the router's dummy test connectors (reference §10)


def new_id(prefix: str, length: int = 20) -> str:
    """``<prefix>_`` + random alphanumerics, the router's ``generate_id`` shape (e.g. ``pay_`` + 20)."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with milliseconds and ``Z``, as ``common_utils::custom_serde::iso8601`` writes it."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Profile:
    profile_id: str
    merchant_id: str
    payment_response_hash_key: str
    profile_name: str = "default"
    webhook_details: dict[str, Any] | None = None
    return_url: str | None = None
    enable_payment_response_hash: bool = True
    redirect_to_merchant_with_http_post: bool = False
    session_expiry: int | None = None
    metadata: dict[str, Any] | None = None
    outgoing_webhook_custom_http_headers: dict[str, str] | None = None
    merchant_connector_id: str = field(default_factory=lambda: new_id("mca"))
    extra: dict[str, Any] = field(default_factory=dict)  # other ProfileCreate fields, echoed back

    @property
    def webhook_url(self) -> str | None:
        return (self.webhook_details or {}).get("webhook_url")


@dataclass
class Merchant:
    merchant_id: str
    publishable_key: str
    profiles: dict[str, Profile] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiKey:
    key: str
    merchant_id: str
    profile_id: str  # the profile used when a request names none


@dataclass
class Card:
    """What the simulator keeps of a card: never the number, only what the router shows back."""

    last4: str
    isin: str
    network: str | None
    exp_month: str
    exp_year: str
    holder_name: str | None
    fingerprint: str


@dataclass
class Payment:
    payment_id: str
    merchant_id: str
    profile_id: str
    amount: int
    currency: str
    status: str
    capture_method: str
    created: datetime
    modified_at: datetime
    client_secret: str
    attempt_id: str
    attempt_status: str
    attempt_created: datetime
    customer_id: str | None = None
    setup_future_usage: str | None = None
    off_session: bool | None = None
    customer_acceptance: dict[str, Any] | None = None
    mandate_data: dict[str, Any] | None = None
    payment_method: str | None = None
    payment_method_type: str | None = None
    card: Card | None = None
    amount_captured: int | None = None
    amount_capturable: int = 0
    error_code: str | None = None
    error_message: str | None = None
    unified_code: str | None = None
    unified_message: str | None = None
    cancellation_reason: str | None = None
    next_action: dict[str, Any] | None = None
    connector_transaction_id: str | None = None
    payment_method_id: str | None = None
    mandate_id: str | None = None
    connector_mandate_id: str | None = None
    network_transaction_id: str | None = None
    payment_link_id: str | None = None
    expires_on: datetime | None = None
    manual_retry_allowed: bool | None = None
    echo: dict[str, Any] = field(default_factory=dict)  # request fields returned unchanged
    # What the authorization saves once it completes (after 3DS, a payment link or a settlement).
    pending_save: dict[str, Any] | None = None
    # A card given at create without confirm: (masked card, outcome name), used by the later confirm.
    staged_card: tuple[Card, str] | None = None


@dataclass
class Refund:
    refund_id: str
    payment_id: str
    merchant_id: str
    profile_id: str
    amount: int
    currency: str
    status: str
    created_at: datetime
    updated_at: datetime
    connector_refund_id: str
    reason: str | None = None
    metadata: dict[str, Any] | None = None
    error_code: str | None = None
    error_message: str | None = None
    unified_code: str | None = None
    unified_message: str | None = None


@dataclass
class Customer:
    customer_id: str
    merchant_id: str
    created_at: datetime
    fields: dict[str, Any] = field(default_factory=dict)  # name, email, phone, address, metadata, ...
    default_payment_method_id: str | None = None
    redacted: bool = False


@dataclass
class PaymentMethod:
    payment_method_id: str
    merchant_id: str
    customer_id: str
    card: Card
    created: datetime
    recurring_enabled: bool
    network_transaction_id: str | None = None
    last_used_at: datetime | None = None
    behaviour: str = "approve"  # outcome of merchant-initiated charges, set through control


@dataclass
class Mandate:
    mandate_id: str
    merchant_id: str
    profile_id: str
    customer_id: str
    payment_method_id: str
    card: Card
    created: datetime
    mandate_type: dict[str, Any] | None
    customer_acceptance: dict[str, Any] | None
    connector_mandate_id: str
    status: str = "active"
    behaviour: str = "approve"


@dataclass
class PaymentLink:
    payment_link_id: str
    merchant_id: str
    payment_id: str
    link: str
    amount: int
    currency: str
    created_at: datetime
    fulfilment_time: datetime
    description: str | None = None


@dataclass
class Dispute:
    dispute_id: str
    payment_id: str
    merchant_id: str
    profile_id: str
    attempt_id: str
    amount: int
    currency: str
    created_at: datetime
    updated_at: datetime
    connector_dispute_id: str
    dispute_stage: str = "dispute"
    dispute_status: str = "dispute_opened"
    connector_reason: str | None = None
    connector_reason_code: str | None = None
    challenge_required_by: datetime | None = None


@dataclass(frozen=True)
class RequestContext:
    """Who is calling (from the api-key and profile selection) and the base of links we hand out."""

    merchant: Merchant
    profile: Profile
    base_url: str

    @property
    def merchant_id(self) -> str:
        return self.merchant.merchant_id


@dataclass
class Payout:
    """A payout to a customer's card or bank account; ``outcome`` is what the connector will answer."""

    payout_id: str
    merchant_id: str
    profile_id: str
    amount: int
    currency: str
    status: str
    created: datetime
    modified_at: datetime
    client_secret: str
    attempt_id: str
    outcome: str
    customer_id: str | None = None
    payout_type: str | None = None
    payout_method_id: str | None = None
    card: Card | None = None
    bank: dict[str, Any] | None = None  # the masked account, as PayoutMethodDataResponse shows it
    auto_fulfill: bool = False
    entity_type: str = "Individual"
    recurring: bool = False
    connector_transaction_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    unified_code: str | None = None
    unified_message: str | None = None
    cancellation_reason: str | None = None
    echo: dict[str, Any] = field(default_factory=dict)  # request fields returned unchanged
