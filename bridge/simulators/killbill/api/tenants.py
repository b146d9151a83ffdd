"""``/1.0/kb/tenants``: tenants, per-tenant plugin configuration, push notification callback."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, Response, request

from bridge.simulators.killbill import errors
from bridge.simulators.killbill.api.common import (
    body_object,
    call_context,
    created,
    no_content,
    require,
    state,
    tenant,
)
from bridge.simulators.killbill.model import (
    PLUGIN_CONFIG_PREFIX,
    PUSH_NOTIFICATION_CB,
    new_id,
)
from bridge.simulators.killbill.serialize import kv_json, tenant_json
from bridge.simulators.killbill.wire import json_response

bp = Blueprint("kb_tenants", __name__, url_prefix="/1.0/kb/tenants")

CALLBACK_PATH = "/1.0/kb/tenants/registerNotificationCallback"


@bp.post("")
def create_tenant() -> Response:
    data = body_object("TenantJson")
    api_key = require(data.get("apiKey"), "TenantJson apiKey needs to be set")
    api_secret = require(data.get("apiSecret"), "TenantJson apiSecret needs to be set")
    if request.headers.get("X-Killbill-CreatedBy") is None:
        raise errors.missing_created_by()
    created_tenant = state().new_tenant(api_key, api_secret, data.get("externalKey"))
    return created(f"/1.0/kb/tenants/{created_tenant.id}")


@bp.get("")
def get_tenant_by_api_key() -> Response:
    api_key = request.args.get("apiKey")
    found = state().tenant_by_api_key(api_key)
    if found is None:
        raise errors.no_tenant_for_api_key(api_key)
    return json_response(tenant_json(found))


@bp.get("/<uuid:tenant_id>")
def get_tenant(tenant_id: UUID) -> Response:
    found = state().tenants.get(tenant_id)
    if found is None:
        raise errors.no_tenant(tenant_id)
    return json_response(tenant_json(found))


def _put_key(key: str, value: str) -> None:
    sim, current = state(), tenant()
    with sim.lock:
        current.kv[key] = [value]
        current.kv_ids[key] = new_id()
        record_id = current.kv_ids[key]
    sim.post_event(current.id, "TENANT_CONFIG_CHANGE", "TENANT_KVS", record_id, None, key)


def _delete_key(key: str) -> None:
    sim, current = state(), tenant()
    with sim.lock:
        current.kv.pop(key, None)
        current.kv_ids.pop(key, None)
    sim.post_event(current.id, "TENANT_CONFIG_DELETION", "TENANT_KVS", None, None, {"key": key})


def _get_key(key: str) -> Response:
    with state().lock:
        values = list(tenant().kv.get(key, []))
    return json_response(kv_json(key, values))


@bp.post("/uploadPluginConfig/<path:plugin_name>")
def upload_plugin_config(plugin_name: str) -> Response:
    call_context()
    _put_key(PLUGIN_CONFIG_PREFIX + plugin_name, request.get_data(as_text=True))
    return created(f"/1.0/kb/tenants/uploadPluginConfig/{plugin_name}")


@bp.get("/uploadPluginConfig/<path:plugin_name>")
def get_plugin_config(plugin_name: str) -> Response:
    return _get_key(PLUGIN_CONFIG_PREFIX + plugin_name)


@bp.delete("/uploadPluginConfig/<path:plugin_name>")
def delete_plugin_config(plugin_name: str) -> Response:
    call_context()
    _delete_key(PLUGIN_CONFIG_PREFIX + plugin_name)
    return no_content()


@bp.post("/registerNotificationCallback")
def register_callback() -> Response:
    call_context()
    url = require(request.args.get("cb"), "Notification callback cb needs to be set")
    _put_key(PUSH_NOTIFICATION_CB, url)
    return created(CALLBACK_PATH)


@bp.get("/registerNotificationCallback")
def get_callback() -> Response:
    return _get_key(PUSH_NOTIFICATION_CB)


@bp.delete("/registerNotificationCallback")
def delete_callback() -> Response:
    call_context()
    _delete_key(PUSH_NOTIFICATION_CB)
    return no_content()
