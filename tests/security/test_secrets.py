"""Secrets with known values go through the bridge's error paths (refused signatures, peers failing, bad
tenant data, verification against the peers) and the leak guard of this suite (conftest.py) then finds
none of them in a log line, a response body or a database column. The guard itself is shown to see."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select

from bridge.db.audit import HyperswitchCall
from bridge.db.engine import session_scope
from bridge.plugin_api import signature
from hyperswitch_client import compute_signature
from tests.foundation.factories import SECRETS, tenant_payload
from tests.plugin.conftest import payment_call
from tests.security.conftest import KNOWN_SECRETS, Side, dump_database, find_leaks


def test_the_error_paths_leak_no_secret(tenant_a: Side, tenant_b: Side, client, admin_headers, runtime,  # type: ignore[no-untyped-def]
                                        hs_state, leak_guard) -> None:
    # The admin API takes secrets in, answers them masked, and refuses a clash by naming no secret.
    payload = tenant_payload()
    created = client.post("/admin/v1/tenants?register_callback=false", headers=admin_headers, json=payload)
    assert created.status_code == 201 and created.json["hs_api_key"].startswith("****")
    clash = client.post("/admin/v1/tenants", headers=admin_headers, json={**payload, "kb_tenant_id": str(uuid.uuid4())})
    assert clash.status_code == 409
    patched = client.patch(f"/admin/v1/tenants/{payload['kb_tenant_id']}", headers=admin_headers,
                           json={"hs_api_key": SECRETS["hs_api_key"] + "-rotated", "kb_password": ""})
    assert patched.status_code == 400
    # Verification against the peers: one that passes (the profile shows its hash key), one that cannot connect.
    for tenant in (tenant_a.tenant_id, payload["kb_tenant_id"]):
        assert client.post(f"/admin/v1/tenants/{tenant}/verify", headers=admin_headers).status_code == 200
    # Refused plugin calls: another tenant's secret, a stale signature, garbage.
    raw = b'{"context": {"tenantId": "%s"}}' % tenant_a.tenant_id.encode()
    for header in (signature.sign(raw, tenant_b.plugin_secret), signature.sign(raw, tenant_a.plugin_secret, 1),
                   f"t=1,v1={tenant_a.plugin_secret}"):
        assert tenant_a.plugin.raw("voidPayment", raw, {signature.HEADER: header}).status_code == 401
    # Hyperswitch failing under a payment: an error answer, a reset connection.
    for kind in ("error", "reset"):
        hs_state.add_fault("POST", "/payments", kind, times=8)
        tenant_a.plugin.ok("purchasePayment", **payment_call(tenant_a.payor.account_id, "3.00",
                                                             kbPaymentMethodId=tenant_a.payor.kb_payment_method_id))
        hs_state.clear_faults()
    # Webhooks signed with the wrong key, and an unknown callback token shaped like a real one.
    event = b'{"merchant_id": "%s", "event_id": "evt_1", "event_type": "payment_succeeded"}' % (
        tenant_a.merchant["merchant_id"].encode())
    assert client.post("/webhooks/hyperswitch", data=event, content_type="application/json",
                       headers={"X-Webhook-Signature-512": compute_signature(event, tenant_b.merchant[
                           "payment_response_hash_key"])}).status_code == 401
    assert client.post(f"/webhooks/killbill/{tenant_a.callback_token[::-1]}", data=b"{}").status_code in (400, 404)
    # A careless log line of the bridge's own: registered secrets are redacted before they are written.
    logging.getLogger("bridge.test").warning("calling with api_key %s and password=%s", tenant_b.merchant["api_key"],
                                             SECRETS["kb_password"])

    logs = leak_guard()
    assert "plugin call refused" in logs and "webhook" in logs.lower() and "[redacted]" in logs
    runtime.audit.flush()
    with session_scope(runtime.sessions) as session:  # the failed payment calls are on the audit trail
        failed = session.scalars(select(HyperswitchCall).where(HyperswitchCall.error_kind.is_not(None))).all()
        assert {call.error_kind for call in failed} >= {"unknown_outcome"} and all(c.request_body for c in failed)
    # The guard's own check runs after the test; here, the same check over what it will see.
    assert find_leaks({"logs": logs, "database": dump_database(runtime)}) == []


def test_the_guard_sees_a_secret_in_each_place() -> None:
    planted = {"logs": f"level=INFO message=connecting with {KNOWN_SECRETS['B: plugin secret']}",
               "responses": "200 {}", "database": f"tenants: ('x', '{KNOWN_SECRETS['admin token']}')"}
    leaks = find_leaks(planted)
    assert [(leak.secret, leak.where) for leak in leaks] == [("B: plugin secret", "logs"), ("admin token", "database")]
    assert all(value not in str(leaks) for value in KNOWN_SECRETS.values())  # reported by name only
