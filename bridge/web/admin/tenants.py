"""``/admin/v1/tenants``: the tenant mapping over HTTP; the same service as `bridge tenants`.

The Kill Bill push callback, as on the command line:
- ``POST /admin/v1/tenants?register_callback=true|false`` (default true): once the mapping is stored,
  register ``<BRIDGE_PUBLIC_URL>/webhooks/killbill/<token>`` with Kill Bill. The 201 answer carries
  ``"callback": {"status": "registered"|"failed"|"skipped", "detail": ...}``; a failure keeps the
  mapping and its detail says how to retry.
- ``POST /admin/v1/tenants/<id>/verify?register_callback=true`` (default false) registers it again
  before the checks; without it the callback is checked read-only (when BRIDGE_PUBLIC_URL is set).
"""

from __future__ import annotations

from flask import current_app, jsonify, request

from bridge.db.engine import session_scope
from bridge.errors import BadRequest
from bridge.tenancy import service
from bridge.tenancy.schemas import TenantCreate, TenantUpdate
from bridge.tenancy.verify import callback_target, public_url, register_on_add, verify_tenant
from bridge.web.admin import bp
from bridge.web.requests import json_body

_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def _flag(name: str, default: bool) -> bool:
    value = request.args.get(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise BadRequest(f"{name} must be true or false", error="invalid_request")


def _runtime():  # type: ignore[no-untyped-def]
    return current_app.extensions["bridge"]


def _view_json(tenant, keyring):  # type: ignore[no-untyped-def]
    return service.view(tenant, keyring).model_dump(mode="json")


@bp.get("/tenants")
def list_tenants():  # type: ignore[no-untyped-def]
    runtime = _runtime()
    with session_scope(runtime.sessions) as session:
        return jsonify({"tenants": [_view_json(t, runtime.keyring) for t in service.list_tenants(session)]})


@bp.post("/tenants")
def create_tenant():  # type: ignore[no-untyped-def]
    register = _flag("register_callback", True)
    data = json_body(TenantCreate)
    runtime = _runtime()
    with session_scope(runtime.sessions) as session:
        tenant = service.create_tenant(session, data, runtime.keyring, urls=runtime.edges.urls)
        body = _view_json(tenant, runtime.keyring)
        creds = service.credentials(tenant, runtime.keyring)
        target = callback_target(tenant, runtime.keyring, public_url(runtime.settings), registering=True) \
            if register else None
    # The mapping is committed: a Kill Bill failure now is reported, not undone.
    body["callback"] = register_on_add(creds, target, requested=register).model_dump(mode="json")
    return jsonify(body), 201, {"Location": f"/admin/v1/tenants/{body['kb_tenant_id']}"}


@bp.get("/tenants/<tenant_id>")
def show_tenant(tenant_id: str):  # type: ignore[no-untyped-def]
    runtime = _runtime()
    with session_scope(runtime.sessions) as session:
        return jsonify(_view_json(service.get_tenant(session, tenant_id), runtime.keyring))


@bp.patch("/tenants/<tenant_id>")
def update_tenant(tenant_id: str):  # type: ignore[no-untyped-def]
    patch = json_body(TenantUpdate)
    runtime = _runtime()
    with session_scope(runtime.sessions) as session:
        tenant = service.update_tenant(session, tenant_id, patch, runtime.keyring, urls=runtime.edges.urls)
        return jsonify(_view_json(tenant, runtime.keyring))


@bp.delete("/tenants/<tenant_id>")
def remove_tenant(tenant_id: str):  # type: ignore[no-untyped-def]
    runtime = _runtime()
    with session_scope(runtime.sessions) as session:
        service.remove_tenant(session, tenant_id)
    return "", 204


@bp.post("/tenants/<tenant_id>/verify")
def verify(tenant_id: str):  # type: ignore[no-untyped-def]
    register = _flag("register_callback", False)
    runtime = _runtime()
    with session_scope(runtime.sessions) as session:
        tenant = service.get_tenant(session, tenant_id)
        target = callback_target(tenant, runtime.keyring, public_url(runtime.settings), registering=register)
        creds = service.credentials(tenant, runtime.keyring)
    report = verify_tenant(creds, target, register=register)
    return jsonify(report.model_dump(mode="json")), 200
