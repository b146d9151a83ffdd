"""Kill Bill calling a payment plugin, as the Java forwarding plugin relays it: a signed
``POST <sidecar>/plugin/v1/<operation>`` with the Java parameters as JSON (DESIGN.md "The plugin contract").

Every call is logged for tests. Transport failures are sorted the way the forwarding plugin reports
them: refused connection → CANCELED (the sidecar never saw it), dropped connection → UNDEFINED, no
answer within Kill Bill's plugin timeout → Kill Bill's own PAYMENT_PLUGIN_TIMEOUT.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import requests
from urllib3.exceptions import NewConnectionError

from bridge.plugin_api.signature import HEADER, sign
from bridge.simulators.killbill.clock import SimClock
from bridge.simulators.killbill.model import PluginEndpoint
from bridge.simulators.killbill.wire import dumps, format_instant, loads

OK = "ok"
PLUGIN_ERROR = "plugin_error"  # the plugin threw PaymentPluginApiException
TIMEOUT = "timeout"  # Kill Bill's plugin timeout fired
UNREACHABLE = "unreachable"  # the request certainly never reached the sidecar
UNDEFINED = "undefined"  # sent, but the answer was lost


@dataclass(frozen=True)
class PluginOutcome:
    kind: str
    value: Any = None
    error_type: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class CallContext:
    """Kill Bill's CallContext as the plugin receives it; ``tenant_only`` for TenantContext methods."""

    tenant_id: UUID
    account_id: UUID | None
    user_name: str
    call_origin: str
    user_type: str
    reason_code: str | None
    comments: str | None
    created_date: datetime

    def to_json(self, tenant_only: bool = False) -> dict[str, Any]:
        if tenant_only:
            return {"tenantId": str(self.tenant_id), "accountId": self.account_id and str(self.account_id)}
        return {"tenantId": str(self.tenant_id), "accountId": self.account_id and str(self.account_id),
                "userName": self.user_name, "callOrigin": self.call_origin, "userType": self.user_type,
                "reasonCode": self.reason_code, "comments": self.comments,
                "createdDate": format_instant(self.created_date)}


def plugin_json(value: Any) -> Any:
    """Parameters as the forwarding plugin writes them: amounts as decimal strings, ids as strings."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, dict):
        return {k: plugin_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plugin_json(v) for v in value]
    return value


class PluginGateway:
    def __init__(self, clock: SimClock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: list[dict[str, Any]] = []

    def call(self, endpoint: PluginEndpoint, plugin_name: str, operation: str, params: dict[str, Any],
             timeout: float) -> PluginOutcome:
        body = dumps(plugin_json(params)).encode("utf-8")
        url = endpoint.url.rstrip("/") + f"/plugin/v1/{operation}"
        started, began = self._clock.now(), time.monotonic()
        outcome, status, raw = self._post(url, body, endpoint.secret, endpoint.timeout or timeout)
        self._log(plugin_name, operation, url, params, outcome, status, raw, started, time.monotonic() - began)
        return outcome

    def calls(self, operation: str | None = None, tenant_id: UUID | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [c for c in self._calls
                    if (operation is None or c["operation"] == operation)
                    and (tenant_id is None or c["request"].get("context", {}).get("tenantId") == str(tenant_id))]

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def _post(self, url: str, body: bytes, secret: str, timeout: float) -> tuple[PluginOutcome, int | None, str]:
        headers = {"Content-Type": "application/json", HEADER: sign(body, secret)}
        try:
            response = requests.post(url, data=body, headers=headers, timeout=(min(5.0, timeout), timeout),
                                     allow_redirects=False)
        except requests.RequestException as exc:
            return _transport_outcome(exc), None, f"{type(exc).__name__}: {exc}"
        return _response_outcome(response), response.status_code, response.text

    def _log(self, plugin_name: str, operation: str, url: str, params: dict[str, Any], outcome: PluginOutcome,
             status: int | None, raw: str, started: datetime, seconds: float) -> None:
        entry = {"operation": operation, "pluginName": plugin_name, "url": url,
                 "request": json.loads(dumps(plugin_json(params))), "httpStatus": status,
                 "outcome": outcome.kind, "response": outcome.value if outcome.kind == OK else raw[:2000],
                 "errorType": outcome.error_type, "errorMessage": outcome.error_message,
                 "startedAt": format_instant(started), "durationMs": round(seconds * 1000)}
        with self._lock:
            self._calls.append(entry)


def _transport_outcome(exc: requests.RequestException) -> PluginOutcome:
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return PluginOutcome(TIMEOUT, error_message=message)
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(exc, requests.exceptions.ConnectTimeout) or isinstance(reason, NewConnectionError):
        return PluginOutcome(UNREACHABLE, error_message=message)
    return PluginOutcome(UNDEFINED, error_message=message)


def _response_outcome(response: requests.Response) -> PluginOutcome:
    try:
        value = loads(response.content) if response.content else None
    except ValueError:
        value = None
        if response.ok:
            return PluginOutcome(PLUGIN_ERROR, error_type="InvalidResponse",
                                 error_message="unreadable plugin response")
    if response.ok:
        return PluginOutcome(OK, value=value)
    error = value if isinstance(value, dict) else {}
    return PluginOutcome(PLUGIN_ERROR, error_type=str(error.get("errorType") or f"HTTP {response.status_code}"),
                         error_message=str(error.get("errorMessage") or response.text[:500]))
