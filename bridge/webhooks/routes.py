"""``/webhooks/...``: inbound deliveries from Hyperswitch and Kill Bill, stored before answering 2xx."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from bridge.errors import Unauthorized
from bridge.web import openapi
from bridge.web.admin import webhooks as admin_webhooks
from bridge.webhooks import hyperswitch, killbill

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


class WebhookRefused(Unauthorized):
    error = "webhook_refused"


@bp.post("/hyperswitch")
def hyperswitch_webhook():  # type: ignore[no-untyped-def]
    runtime = current_app.extensions["bridge"]
    try:
        stored, _tenant = hyperswitch.receive(runtime, request.get_data(cache=False),
                                              request.headers.get("X-Webhook-Signature-512"))
    except hyperswitch.Refused as exc:
        raise WebhookRefused(f"webhook refused: {exc}") from None
    return jsonify({"status": "duplicate" if stored.duplicate else "accepted", "id": stored.event_id}), 200


@bp.post("/killbill/<token>")
def killbill_notification(token: str):  # type: ignore[no-untyped-def]
    """Kill Bill push notifications: the tenant is the one whose callback token is in the URL."""
    runtime = current_app.extensions["bridge"]
    stored, _tenant = killbill.receive(runtime, token, request.get_data(cache=False))
    return jsonify({"status": "duplicate" if stored.duplicate else "accepted", "id": stored.event_id}), 200


openapi.register_tag("webhooks", "Inbound events from Hyperswitch and Kill Bill: stored before answering 2xx, "
                                 "processed by the worker, listed and replayed through `/admin/v1/webhooks`.")
openapi.register(
    openapi.Endpoint(
        "POST", "/webhooks/hyperswitch", "hyperswitchWebhook", "webhooks",
        "Hyperswitch outgoing webhook (the business profile's webhook_url)",
        description="The envelope's merchant_id (and the object's profile_id) pick the tenant; its "
                    "payment_response_hash_key must have signed the exact body (`X-Webhook-Signature-512`, lowercase "
                    "hex HMAC-SHA512), else 401 and nothing is stored. The event is stored unique on event_id, then "
                    "answered 200; the worker re-reads the object from Hyperswitch before acting.",
        parameters=(openapi.Param("X-Webhook-Signature-512", "header", str, "HMAC-SHA512 of the raw body",
                                  required=True),),
        request=hyperswitch.HyperswitchWebhook,
        responses={
            200: openapi.Reply("Stored (or stored before): Hyperswitch counts any 2xx as delivered.",
                               killbill.NotificationReceipt),
            401: openapi.Reply("`webhook_refused`: unknown merchant, bad signature or not an envelope; nothing "
                               "stored.", openapi.AdminError),
            413: openapi.Reply("The body exceeds the configured request size limit.", openapi.AdminError),
            "5XX": openapi.Reply("The bridge could not store it; Hyperswitch retries.", openapi.AdminError),
        }),
    openapi.Endpoint(
        "POST", "/webhooks/killbill/{token}", "killbillNotification", "webhooks",
        "Kill Bill push notification (the tenant's registered callback)",
        description="Kill Bill signs nothing: the tenant is the one whose random callback token is in the path "
                    "(registered by `bridge tenants add` or `bridge tenants verify --register-callback`). The "
                    "body is stored as received, keyed by its SHA-256 (Kill Bill's retries resend the same "
                    "body), and processed by the worker, which re-reads what it acts on from Kill Bill.",
        parameters=(openapi.Param("token", "path", str, "the tenant's callback token"),),
        request=killbill.NotificationJson,
        responses={
            200: openapi.Reply("Stored (or stored before): Kill Bill counts any 2xx as delivered.",
                               killbill.NotificationReceipt),
            400: openapi.Reply("`malformed_notification`: not Kill Bill's notification shape; nothing stored.",
                               openapi.AdminError),
            404: openapi.Reply("`unknown_callback`: no tenant has this token; nothing stored.", openapi.AdminError),
            413: openapi.Reply("The body exceeds the configured request size limit.", openapi.AdminError),
            "5XX": openapi.Reply("The bridge could not store it; Kill Bill retries.", openapi.AdminError),
        }),
    *admin_webhooks.openapi_endpoints(),
)
