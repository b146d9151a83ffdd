"""Authentication as Kill Bill answers it.

Shiro's basic-auth filter: a 401 with ``WWW-Authenticate: BASIC realm="application"`` and no body.
Then ``TenantFilter``: every ``/1.0/kb`` call except tenant creation/lookup (``/1.0/kb/tenants``) needs
``X-Killbill-ApiKey`` and ``X-Killbill-ApiSecret``; a failure is ``sendError(401, message)``, i.e.
the container's HTML error page.
"""

from __future__ import annotations

import hmac
from html import escape

from flask import Flask, Response, g, request

from bridge.simulators.killbill.api.common import state
from bridge.simulators.killbill.errors import KillBillApiError
from bridge.simulators.killbill.wire import json_response

KB_PREFIX = "/1.0/kb"
TENANT_FREE_PATHS = frozenset({"/1.0/kb/tenants"})


def _challenge() -> Response:
    return Response(status=401, headers={"WWW-Authenticate": 'BASIC realm="application"'})


def _error_page(status: int, message: str) -> Response:
    text = escape(message)
    html = (f"<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n"
            f"<title>Error {status} {text}</title>\n</head>\n<body><h2>HTTP ERROR {status} {text}</h2>\n"
            f"<table>\n<tr><th>URI:</th><td>{escape(request.path)}</td></tr>\n"
            f"<tr><th>STATUS:</th><td>{status}</td></tr>\n<tr><th>MESSAGE:</th><td>{text}</td></tr>\n"
            f"</table>\n</body>\n</html>\n")
    return Response(html, status=status, mimetype="text/html")


def _basic_auth_ok() -> bool:
    credentials = request.authorization
    if credentials is None or credentials.type != "basic":
        return False
    expected = state().config.users.get(credentials.username or "")
    return expected is not None and hmac.compare_digest(expected, credentials.password or "")


def _tenant_error() -> str | None:
    api_key = request.headers.get("X-Killbill-ApiKey")
    api_secret = request.headers.get("X-Killbill-ApiSecret")
    if api_key is None or api_secret is None:
        return "Make sure to set the X-Killbill-ApiKey and X-Killbill-ApiSecret headers"
    found = state().tenant_by_api_key(api_key)
    if found is None:
        return (f"Realm [org.killbill.billing.server.security.KillbillJdbcTenantRealm] was unable to find "
                f"account data for the submitted AuthenticationToken [{api_key}].")
    if not hmac.compare_digest(found.api_secret, api_secret):
        return f"Submitted credentials for token [{api_key}] did not match the expected credentials."
    g.tenant = found
    return None


def authenticate() -> Response | None:
    if not request.path.startswith(KB_PREFIX + "/") or request.method == "OPTIONS":
        return None
    if not _basic_auth_ok():
        return _challenge()
    if request.path in TENANT_FREE_PATHS:
        return None
    problem = _tenant_error()
    return _error_page(401, problem) if problem else None


def install(app: Flask) -> None:
    app.before_request(authenticate)

    @app.errorhandler(KillBillApiError)
    def _api_error(error: KillBillApiError) -> Response:
        headers = {"Location": error.location} if error.location else None
        return json_response(error.body(), status=error.status, headers=headers)

    @app.errorhandler(404)
    def _not_found(_: Exception) -> Response:
        # Jersey answers an unmatched path (a malformed UUID included) with an empty 404.
        return Response(status=404)

    @app.errorhandler(405)
    def _not_allowed(_: Exception) -> Response:
        return Response(status=405)
