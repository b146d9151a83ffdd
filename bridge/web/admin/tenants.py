"""``/admin/v1/tenants``: the tenant mapping over HTTP; the same service as `bridge tenants`."""

from __future__ import annotations

from flask import current_app, jsonify

from bridge.db.engine import session_scope
from bridge.tenancy import service
from bridge.tenancy.schemas import TenantCreate, TenantUpdate
from bridge.tenancy.verify import verify_tenant
from bridge.web.admin import bp
from bridge.web.requests import json_body


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
    data = json_body(TenantCreate)
    runtime = _runtime()
    with session_scope(runtime.sessions) as session:
        tenant = service.create_tenant(session, data, runtime.keyring)
        body = _view_json(tenant, runtime.keyring)
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
        tenant = service.update_tenant(session, tenant_id, patch, runtime.keyring)
        return jsonify(_view_json(tenant, runtime.keyring))


@bp.delete("/tenants/<tenant_id>")
def remove_tenant(tenant_id: str):  # type: ignore[no-untyped-def]
    runtime = _runtime()
    with session_scope(runtime.sessions) as session:
        service.remove_tenant(session, tenant_id)
    return "", 204


@bp.post("/tenants/<tenant_id>/verify")
def verify(tenant_id: str):  # type: ignore[no-untyped-def]
    runtime = _runtime()
    with session_scope(runtime.sessions) as session:
        creds = service.credentials(service.get_tenant(session, tenant_id), runtime.keyring)
    report = verify_tenant(creds)
    return jsonify(report.model_dump(mode="json")), 200
