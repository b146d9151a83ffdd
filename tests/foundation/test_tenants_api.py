"""The tenant mapping over /admin/v1/tenants."""

from __future__ import annotations

import uuid

from tests.foundation.factories import SECRETS, tenant_payload


def test_create_read_update_delete(client, admin_headers) -> None:
    payload = tenant_payload()
    created = client.post("/admin/v1/tenants", json=payload, headers=admin_headers)
    assert created.status_code == 201, created.json
    tenant_id = payload["kb_tenant_id"]
    assert created.headers["Location"] == f"/admin/v1/tenants/{tenant_id}"
    body = created.json
    assert body["hs_merchant_id"] == payload["hs_merchant_id"]
    assert body["settings"]["email"]["sender"] == "billing@acme.test"
    assert body["settings"]["reminders"]["days_after_invoice"] == [3, 7, 14]  # defaults filled in
    for field, secret in SECRETS.items():
        assert body[field] == "****" + secret[-4:]  # masked, never the value

    listed = client.get("/admin/v1/tenants", headers=admin_headers).json["tenants"]
    assert [t["kb_tenant_id"] for t in listed] == [tenant_id]

    patched = client.patch(f"/admin/v1/tenants/{tenant_id}", headers=admin_headers, json={
        "name": "Acme Renamed", "hs_api_key": "snd_rotatedkey_00000000001111",
        "settings": {"reminders": {"days_after_invoice": [14, 5]}}})
    assert patched.status_code == 200, patched.json
    assert patched.json["name"] == "Acme Renamed"
    assert patched.json["hs_api_key"] == "****1111"
    assert patched.json["settings"]["reminders"]["days_after_invoice"] == [5, 14]
    assert patched.json["settings"]["email"]["sender"] == "billing@acme.test"  # merged, not replaced

    shown = client.get(f"/admin/v1/tenants/{tenant_id}", headers=admin_headers)
    assert shown.json["name"] == "Acme Renamed"

    assert client.delete(f"/admin/v1/tenants/{tenant_id}", headers=admin_headers).status_code == 204
    gone = client.get(f"/admin/v1/tenants/{tenant_id}", headers=admin_headers)
    assert gone.status_code == 404
    assert gone.json == {"error": "unknown_tenant", "detail": f"no tenant {tenant_id}"}


def test_duplicates_are_refused_with_a_reason(client, admin_headers) -> None:
    first = tenant_payload()
    assert client.post("/admin/v1/tenants", json=first, headers=admin_headers).status_code == 201

    again = client.post("/admin/v1/tenants", json=first, headers=admin_headers)
    assert again.status_code == 409
    assert again.json["error"] == "duplicate_tenant"

    same_profile = tenant_payload(hs_merchant_id=first["hs_merchant_id"], hs_profile_id=first["hs_profile_id"])
    clash = client.post("/admin/v1/tenants", json=same_profile, headers=admin_headers)
    assert clash.status_code == 409
    assert "already mapped" in clash.json["detail"]

    # Several Kill Bill tenants may share a merchant through different profiles.
    sibling = tenant_payload(hs_merchant_id=first["hs_merchant_id"])
    assert client.post("/admin/v1/tenants", json=sibling, headers=admin_headers).status_code == 201

    key_clash = client.patch(f"/admin/v1/tenants/{sibling['kb_tenant_id']}", headers=admin_headers,
                             json={"kb_api_key": first["kb_api_key"]})
    assert key_clash.status_code == 409


def test_malformed_requests_get_a_clear_400(client, admin_headers) -> None:
    cases = [
        ({"data": "not json", "content_type": "application/json"}, "invalid_json"),
        ({"json": [1, 2]}, "invalid_request"),
        ({"json": tenant_payload(kb_tenant_id="not-a-uuid")}, "invalid_request"),
        ({"json": tenant_payload(killbill_url="ftp://x")}, "invalid_request"),
        ({"json": tenant_payload(hs_api_key="  ")}, "invalid_request"),
        ({"json": {**tenant_payload(), "unexpected": 1}}, "invalid_request"),
        ({"json": tenant_payload(settings={"email": {"sender": "nope"}})}, "invalid_request"),
    ]
    for kwargs, error in cases:
        response = client.post("/admin/v1/tenants", headers=admin_headers, **kwargs)
        assert response.status_code == 400, (kwargs, response.json)
        assert response.json["error"] == error
        assert response.json["detail"]
    missing = client.post("/admin/v1/tenants", headers=admin_headers,
                          json={k: v for k, v in tenant_payload().items() if k != "hs_api_key"})
    assert "hs_api_key: Field required" in missing.json["detail"]
    assert client.get("/admin/v1/tenants", headers=admin_headers).json["tenants"] == []  # nothing half-written


def test_bad_settings_patch_changes_nothing(client, admin_headers) -> None:
    payload = tenant_payload()
    client.post("/admin/v1/tenants", json=payload, headers=admin_headers)
    response = client.patch(f"/admin/v1/tenants/{payload['kb_tenant_id']}", headers=admin_headers,
                            json={"name": "Changed", "settings": {"reminders": {"days_after_invoice": [-1]}}})
    assert response.status_code == 400
    assert response.json["error"] == "invalid_settings"
    shown = client.get(f"/admin/v1/tenants/{payload['kb_tenant_id']}", headers=admin_headers).json
    assert shown["name"] == payload["name"]


def test_admin_token_is_required(client) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        response = client.get("/admin/v1/tenants", headers=headers)
        assert response.status_code == 401
        assert response.json["error"] == "invalid_admin_token"
    assert client.delete(f"/admin/v1/tenants/{uuid.uuid4()}").status_code == 401


def test_admin_api_is_off_without_a_token(runtime) -> None:
    from bridge.app import create_app

    runtime.settings = runtime.settings.model_copy(update={"admin_token": None})
    response = create_app(runtime=runtime).test_client().get("/admin/v1/tenants",
                                                             headers={"Authorization": "Bearer x"})
    assert response.status_code == 503
    assert response.json["error"] == "admin_api_disabled"


def test_unknown_routes_and_methods_answer_json(client, admin_headers) -> None:
    assert client.get("/nope").json["error"] == "not_found"
    response = client.put("/admin/v1/tenants", headers=admin_headers, json={})
    assert response.status_code == 405
    assert response.json["error"] == "method_not_allowed"


def test_oversized_body_is_refused(client, admin_headers) -> None:
    response = client.post("/admin/v1/tenants", headers=admin_headers, data="x" * 2_000_000,
                           content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"] == "request_entity_too_large"
