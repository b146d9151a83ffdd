"""``/admin/v1``: operators' API, behind a bearer admin token."""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, request

from bridge.errors import ServiceUnavailable, Unauthorized

bp = Blueprint("admin", __name__, url_prefix="/admin/v1")


class AdminTokenRequired(Unauthorized):
    error = "invalid_admin_token"


@bp.before_request
def _require_admin_token() -> None:
    configured = current_app.extensions["bridge"].settings.admin_token
    if configured is None:
        raise ServiceUnavailable("the admin API is disabled: set BRIDGE_ADMIN_TOKEN to enable it",
                                 error="admin_api_disabled")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(),
                                                             configured.get_secret_value().encode()):
        raise AdminTokenRequired("a valid admin token is required: Authorization: Bearer <BRIDGE_ADMIN_TOKEN>")


from bridge.web.admin import accounts, jobs, tenants, webhooks  # noqa: E402,F401  (routes attach to bp)
