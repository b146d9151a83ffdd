"""Tenant data for tests, with secrets distinctive enough to search for in dumps and logs."""

from __future__ import annotations

import uuid
from typing import Any

SECRETS = {
    "kb_api_secret": "kbsecret-7d1e2f3a9b8c",
    "kb_password": "kbpassword-44c1d0e9f2",
    "hs_api_key": "snd_hsapikey0c9b8a7f6e5d4c3b2a1",
    "hs_webhook_secret": "whsec-hashkey-9a8b7c6d5e4f3a2b1c0d",
    "plugin_shared_secret": "pluginsecret-1a2b3c4d5e6f",
}


def tenant_payload(**overrides: Any) -> dict[str, Any]:
    suffix = uuid.uuid4().hex[:8]
    payload: dict[str, Any] = {
        "kb_tenant_id": str(uuid.uuid4()),
        "name": f"Acme {suffix}",
        "killbill_url": "http://127.0.0.1:8080",
        "kb_api_key": f"acme-{suffix}",
        "kb_username": "admin",
        "hs_base_url": "http://127.0.0.1:9080",
        "hs_merchant_id": f"merchant_{suffix}",
        "hs_profile_id": f"pro_{suffix}",
        "hs_publishable_key": f"pk_snd_{suffix}",
        "settings": {"email": {"sender": "billing@acme.test", "brand_name": "Acme"}},
        **SECRETS,
    }
    payload.update(overrides)
    return payload
