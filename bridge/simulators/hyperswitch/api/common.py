"""What every route does: read the body, authenticate, pick the profile, answer JSON.

Order matters and follows actix: the JSON extractor runs before authentication, so a bad body is IR_06
even without an api-key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Response, request

from .. import errors
from ..model import RequestContext
from ..state import SimulatorState
from ..validation import parse_object


def json_body(allowed: Iterable[str] | None) -> dict[str, Any]:
    if request.mimetype != "application/json":
        raise errors.json_deserialize("Content type error")
    return parse_object(request.get_data(), allowed)


def context(state: SimulatorState, body_profile_id: Any = None) -> RequestContext:
    """The caller's merchant and profile: ``X-Profile-Id``, else the body's ``profile_id``, else the key's."""
    key = state.authenticate(request.headers.get("api-key"))
    merchant = state.merchants[key.merchant_id]
    header_profile = request.headers.get("X-Profile-Id")
    if header_profile:
        profile = merchant.profiles.get(header_profile.strip())
        if profile is None:
            raise errors.unauthorized()  # ApiKeyAuth rejects a profile the merchant does not own
    elif isinstance(body_profile_id, str):
        profile = merchant.profiles.get(body_profile_id)
        if profile is None:
            raise errors.profile_not_found(body_profile_id)
    else:
        profile = merchant.profiles[key.profile_id]
    return RequestContext(merchant, profile, base_url(state))


def base_url(state: SimulatorState) -> str:
    return state.public_url or request.host_url.rstrip("/")


def query() -> dict[str, str]:
    return {key: request.args[key] for key in request.args}


def query_flag(name: str) -> bool:
    raw = request.args.get(name)
    if raw is None:
        return False
    if raw not in ("true", "false"):
        raise errors.json_deserialize(f"provided value is not a boolean for `{name}`")
    return raw == "true"


def respond(payload: Any, status: int = 200) -> Response:
    # Our own dumps keeps the router's key order (Flask's provider would sort keys).
    return Response(json.dumps(payload), status=status, mimetype="application/json")


def error_response(error: errors.ApiError) -> Response:
    return respond(error.body(), error.status)
