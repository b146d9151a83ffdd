"""Business profiles: read the webhook settings and signing key, set the webhook URL."""

from __future__ import annotations

from urllib.parse import quote

from pydantic import Field

from ._requestor import Call, Requestor
from .common import (
    OpenIntentStatus,
    OpenStoredRefundStatus,
    RequestModel,
    ResponseModel,
    Secret,
    Text255,
)
from .enums import IntentStatus, StoredRefundStatus

__all__ = [
    "Profile",
    "ProfileUpdateParams",
    "ProfileWebhookDetails",
    "ProfilesService",
    "WebhookDetailsParams",
]


class WebhookDetailsParams(RequestModel):
    """``webhook_details`` of a profile update; it replaces the stored value as a whole.

    An empty status list means the router's defaults (``get_payment_webhook_statuses``): payments
    succeeded, failed, partially_captured, requires_merchant_action; refunds success, failure,
    transaction_failure. Any other status (processing, requires_capture, cancelled, …) fires only if
    listed. ``refund_statuses_enabled`` takes storage names; a non-empty list therefore does not
    validate against the spec, which types it as IntentStatus (see ``StoredRefundStatus``).
    """

    webhook_url: str | None = None
    webhook_version: Text255 | None = None
    webhook_username: Text255 | None = None
    webhook_password: Secret | None = None
    payment_created_enabled: bool | None = None
    payment_succeeded_enabled: bool | None = None
    payment_failed_enabled: bool | None = None
    # The spec requires both lists; the router treats an empty list like an absent one.
    payment_statuses_enabled: list[IntentStatus] = Field(default_factory=list)
    refund_statuses_enabled: list[StoredRefundStatus] = Field(default_factory=list)


class ProfileUpdateParams(RequestModel):
    """Body of ``POST /account/{merchant_id}/business_profile/{profile_id}``."""

    webhook_details: WebhookDetailsParams | None = None
    return_url: Text255 | None = None


class ProfileWebhookDetails(ResponseModel):
    webhook_url: str | None = None
    webhook_version: str | None = None
    payment_created_enabled: bool | None = None
    payment_succeeded_enabled: bool | None = None
    payment_failed_enabled: bool | None = None
    payment_statuses_enabled: list[OpenIntentStatus] | None = None
    refund_statuses_enabled: list[OpenStoredRefundStatus] | None = None


class Profile(ResponseModel):
    """``ProfileResponse``. ``payment_response_hash_key`` signs outgoing webhooks."""

    merchant_id: str
    profile_id: str
    profile_name: str | None = None
    return_url: str | None = None
    enable_payment_response_hash: bool | None = None
    payment_response_hash_key: str | None = Field(default=None, repr=False)
    webhook_details: ProfileWebhookDetails | None = None


class ProfilesService:
    def __init__(self, requestor: Requestor, default_profile_id: str | None) -> None:
        self._requestor = requestor
        self._default_profile_id = default_profile_id

    def retrieve(self, merchant_id: str, profile_id: str | None = None) -> Profile:
        return self._requestor.request(
            Call(
                "GET",
                self._path(merchant_id, profile_id),
                parse=Profile.model_validate,
                idempotent=True,
            )
        )

    def update(
        self, merchant_id: str, params: ProfileUpdateParams, profile_id: str | None = None
    ) -> Profile:
        # Sets fields to given values: sending it twice leaves the same state.
        return self._requestor.request(
            Call(
                "POST",
                self._path(merchant_id, profile_id),
                parse=Profile.model_validate,
                body=params.to_body(),
                idempotent=True,
            )
        )

    def update_webhook_details(
        self, merchant_id: str, details: WebhookDetailsParams, profile_id: str | None = None
    ) -> Profile:
        return self.update(merchant_id, ProfileUpdateParams(webhook_details=details), profile_id)

    def _path(self, merchant_id: str, profile_id: str | None) -> str:
        profile_id = profile_id or self._default_profile_id
        if not profile_id:
            raise ValueError("profile_id is required (none given and the client has no default)")
        return (
            f"/account/{quote(merchant_id, safe='')}/business_profile/{quote(profile_id, safe='')}"
        )
