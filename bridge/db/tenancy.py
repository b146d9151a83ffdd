"""Tenant mapping: a Kill Bill tenant and the Hyperswitch merchant/profile it collects through.

Columns ending in ``_encrypted`` hold Fernet tokens (bridge.tenancy.crypto); nothing secret is stored
in plain text. The publishable key is public by design (it is sent to browsers) and stays readable.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.base import Base, created_at, updated_at

SECRET_COLUMNS = (
    "kb_api_secret_encrypted",
    "kb_password_encrypted",
    "hs_api_key_encrypted",
    "hs_webhook_secret_encrypted",
    "plugin_shared_secret_encrypted",
    "kb_callback_token_encrypted",
    "messaging_auth_token_encrypted",
)


class Tenant(Base):
    __tablename__ = "tenants"
    __table_args__ = (UniqueConstraint("hs_merchant_id", "hs_profile_id"),)

    kb_tenant_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))

    # Kill Bill side
    killbill_url: Mapped[str] = mapped_column(String(500))
    kb_api_key: Mapped[str] = mapped_column(String(200), unique=True)
    kb_api_secret_encrypted: Mapped[str] = mapped_column(Text)
    kb_username: Mapped[str] = mapped_column(String(200))
    kb_password_encrypted: Mapped[str] = mapped_column(Text)

    # Hyperswitch side
    hs_base_url: Mapped[str] = mapped_column(String(500))
    hs_merchant_id: Mapped[str] = mapped_column(String(64))
    hs_profile_id: Mapped[str] = mapped_column(String(64))
    hs_api_key_encrypted: Mapped[str] = mapped_column(Text)
    hs_publishable_key: Mapped[str | None] = mapped_column(String(200))
    hs_webhook_secret_encrypted: Mapped[str] = mapped_column(Text)  # the profile's payment_response_hash_key

    # Kill Bill push notifications arrive at /webhooks/killbill/<token>: the token's SHA-256 finds the
    # tenant; the token itself is kept (encrypted) to register the callback URL again.
    kb_callback_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    kb_callback_token_encrypted: Mapped[str | None] = mapped_column(Text)

    # Overrides BRIDGE_PLUGIN_SHARED_SECRET for this tenant's X-Bridge-Signature.
    plugin_shared_secret_encrypted: Mapped[str | None] = mapped_column(Text)

    # The messaging provider of SMS and WhatsApp (a Twilio-compatible API, bridge.channels.provider): its base
    # URL, the account it sends as, and that account's auth token. All three, or the text channels are off.
    messaging_base_url: Mapped[str | None] = mapped_column(String(500))
    messaging_account_sid: Mapped[str | None] = mapped_column(String(64))
    messaging_auth_token_encrypted: Mapped[str | None] = mapped_column(Text)

    # bridge.tenancy.schemas.TenantSettings, validated on every write.
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)

    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    def __repr__(self) -> str:  # never shows secrets
        return f"Tenant({self.kb_tenant_id!r}, merchant={self.hs_merchant_id!r}, profile={self.hs_profile_id!r})"
