"""Business profiles: read and update (webhook_details, return_url, the response hash key, ...).

A merchant API key may read and update its own profiles (``routes/profiles.rs``); the route's merchant
must be the key's merchant, else IR_01 (``ApiKeyAuthWithMerchantIdFromRoute``).
"""

from __future__ import annotations

from typing import Any

from . import errors, schema
from .model import Profile, RequestContext
from .validation import check_fields, optional_bool, optional_int, optional_object, optional_str

# Fields with their own attribute on Profile; the rest of ProfileCreate is kept in Profile.extra.
_ATTRIBUTES = ("profile_name", "return_url", "enable_payment_response_hash", "payment_response_hash_key",
               "redirect_to_merchant_with_http_post", "webhook_details", "session_expiry", "metadata",
               "outgoing_webhook_custom_http_headers")


def get(ctx: RequestContext, merchant_id: str, profile_id: str) -> Profile:
    if merchant_id != ctx.merchant_id:
        raise errors.unauthorized()
    profile = ctx.merchant.profiles.get(profile_id)
    if profile is None:
        raise errors.profile_not_found(profile_id)
    return profile


def retrieve(ctx: RequestContext, merchant_id: str, profile_id: str) -> dict[str, Any]:
    return render(get(ctx, merchant_id, profile_id))


def update(ctx: RequestContext, merchant_id: str, profile_id: str, body: dict[str, Any]) -> dict[str, Any]:
    profile = get(ctx, merchant_id, profile_id)
    changes = _read_update(body)
    for key, value in changes.items():
        if key in _ATTRIBUTES:
            setattr(profile, key, value)
        else:
            profile.extra[key] = value
    return render(profile)


def _read_update(body: dict[str, Any]) -> dict[str, Any]:
    details = optional_object(body, "webhook_details")
    if details is not None:
        check_fields(details, schema.WEBHOOK_DETAILS_FIELDS)
        optional_str(details, "webhook_url")
    for key in ("profile_name", "return_url", "payment_response_hash_key"):
        optional_str(body, key)
    for key in ("enable_payment_response_hash", "redirect_to_merchant_with_http_post"):
        optional_bool(body, key)
    optional_int(body, "session_expiry")
    optional_object(body, "outgoing_webhook_custom_http_headers")
    return {key: value for key, value in body.items() if value is not None}


def render(profile: Profile) -> dict[str, Any]:
    response: dict[str, Any] = dict.fromkeys(schema.PROFILE_RESPONSE_KEYS)
    response.update({key: value for key, value in profile.extra.items() if key in response})
    response.update({
        "merchant_id": profile.merchant_id, "profile_id": profile.profile_id,
        "profile_name": profile.profile_name, "return_url": profile.return_url,
        "enable_payment_response_hash": profile.enable_payment_response_hash,
        "payment_response_hash_key": profile.payment_response_hash_key,
        "redirect_to_merchant_with_http_post": profile.redirect_to_merchant_with_http_post,
        "webhook_details": _webhook_details(profile.webhook_details),
        "metadata": profile.metadata, "session_expiry": profile.session_expiry,
        "outgoing_webhook_custom_http_headers": profile.outgoing_webhook_custom_http_headers,
        "intent_fulfillment_time": 900,
    })
    for flag in ("is_tax_connector_enabled", "is_network_tokenization_enabled", "is_auto_retries_enabled",
                 "is_click_to_pay_enabled", "is_clear_pan_retries_enabled", "force_3ds_challenge",
                 "is_pre_network_tokenization_enabled"):
        response[flag] = bool(profile.extra.get(flag, False))
    return response


def _webhook_details(details: dict[str, Any] | None) -> dict[str, Any] | None:
    if details is None:
        return None
    rendered: dict[str, Any] = dict.fromkeys(schema.WEBHOOK_DETAILS_FIELDS)
    rendered.update(details)
    return rendered
