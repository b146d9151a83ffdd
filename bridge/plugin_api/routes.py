"""``POST /plugin/v1/<operation>``: authenticate, parse, dispatch to the capability, answer Java's type.

The body names its tenant (``context.tenantId``) but is trusted only once ``X-Bridge-Signature``
matches the tenant's shared secret or the deployment's. Errors are ``{"errorType", "errorMessage"}``
with a 4xx/5xx status, which the Java plugin turns into a PaymentPluginApiException.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from flask import Blueprint, Response, current_app, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import HTTPException

from bridge.errors import BridgeError
from bridge.logs import looks_like_card_number
from bridge.plugin_api import signature
from bridge.plugin_api.errors import PluginApiError
from bridge.plugin_api.operations import OPERATIONS
from bridge.tenancy.env import TenantEnv
from bridge.web.requests import describe_validation_error, strings_in

log = logging.getLogger(__name__)

bp = Blueprint("plugin", __name__, url_prefix="/plugin/v1")


def _json(status: int, body: Any) -> Response:
    return current_app.response_class(json.dumps(body, separators=(",", ":")), status=status,
                                      mimetype="application/json")


@bp.errorhandler(PluginApiError)
def _plugin_error(exc: PluginApiError) -> Response:
    return _json(exc.status, {"errorType": exc.error_type, "errorMessage": exc.message})


@bp.errorhandler(BridgeError)
def _bridge_error(exc: BridgeError) -> Response:
    return _json(exc.status, {"errorType": exc.error.upper(), "errorMessage": exc.detail})


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        return _json(exc.code or 500, {"errorType": (exc.name or "error").upper().replace(" ", "_"),
                                       "errorMessage": exc.description or ""})
    log.exception("plugin call %s failed", request.path)
    return _json(500, {"errorType": "INTERNAL_ERROR",
                       "errorMessage": "the bridge failed to handle this call; see its logs"})


@bp.errorhandler(413)
def _too_large(_exc: Exception) -> Response:
    return _json(413, {"errorType": "PAYLOAD_TOO_LARGE", "errorMessage": "the request body is too large"})


def _tenant_id(data: dict[str, Any]) -> str:
    context = data.get("context")
    tenant_id = context.get("tenantId") if isinstance(context, dict) else None
    if not isinstance(tenant_id, str) or not tenant_id:
        raise PluginApiError("INVALID_REQUEST", "context.tenantId is required", 400)
    try:  # checked before it is looked up: no garbage (or NUL) reaches the database
        uuid.UUID(tenant_id)
    except ValueError:
        raise PluginApiError("INVALID_REQUEST", "context.tenantId must be a Kill Bill tenant id (a UUID)",
                             400) from None
    return tenant_id


def _authenticate(raw: bytes, tenant_id: str) -> TenantEnv:
    """The tenant's environment, once the signature matches its secret or the deployment's; looked up once,
    the call then uses it."""
    runtime = current_app.extensions["bridge"]
    secrets: list[str] = []
    env: TenantEnv | None = None
    try:
        env = runtime.tenant_env(tenant_id)
        if env.creds.plugin_shared_secret:
            secrets.append(env.creds.plugin_shared_secret)
    except BridgeError:  # UnknownTenant among them: said only to a caller whose signature matches
        env = None
    if runtime.settings.plugin_shared_secret is not None:
        secrets.append(runtime.settings.plugin_shared_secret.get_secret_value())
    if not secrets:
        raise PluginApiError("UNAUTHORIZED", "no plugin shared secret is configured for this tenant", 401)
    try:
        signature.verify(request.headers.get(signature.HEADER), raw, secrets)
    except signature.SignatureError as exc:
        log.warning("plugin call refused: %s", exc)
        raise PluginApiError("UNAUTHORIZED", str(exc), 401) from None
    if env is None:
        raise PluginApiError("UNKNOWN_TENANT", f"no tenant {tenant_id} is mapped in the bridge", 404)
    return env


def _refuse_card_data(value: Any, where: str) -> None:
    """No card numbers, and no NUL characters (PostgreSQL text cannot store them), anywhere in the body."""
    for at, text in strings_in(value, where):
        if "\x00" in text:
            raise PluginApiError("INVALID_REQUEST", f"{at} contains a NUL character", 400)
        if looks_like_card_number(text):
            raise PluginApiError("CARD_DATA_REFUSED", f"{at} looks like a card number; the bridge never "
                                                      "accepts card numbers (use a Hyperswitch payment method)", 400)


def _parse(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise PluginApiError("INVALID_REQUEST", describe_validation_error(exc), 400) from None


@bp.post("/<operation>")
def call(operation: str) -> Response:
    spec = OPERATIONS.get(operation)
    if spec is None:
        raise PluginApiError("UNKNOWN_OPERATION", f"no plugin operation {operation!r}", 404)
    raw = request.get_data(cache=False)
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise PluginApiError("INVALID_REQUEST", "the body must be a JSON object", 400) from None
    if not isinstance(data, dict):
        raise PluginApiError("INVALID_REQUEST", "the body must be a JSON object", 400)
    env = _authenticate(raw, _tenant_id(data))
    _refuse_card_data(data, "body")
    parsed = _parse(spec.request, data)
    result = spec.handler(env, parsed)
    return _json(200, _dump(result))


def _dump(result: Any) -> Any:
    if result is None:
        return None
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    if isinstance(result, list):
        return [_dump(item) for item in result]
    return result
