"""``/__sim``: test and demo controls, outside Kill Bill's API (no authentication; loopback use only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from flask import Blueprint, Response, request

from bridge.simulators.killbill.api.common import state
from bridge.simulators.killbill.wire import (
    format_instant,
    json_response,
    loads,
    parse_instant,
    to_decimal,
)

bp = Blueprint("kb_sim_control", __name__, url_prefix="/__sim")


def _json() -> dict[str, Any]:
    raw = request.get_data()
    data = loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


@bp.errorhandler(ValueError)
def _bad(error: ValueError) -> Response:
    return json_response({"error": str(error)}, status=400)


@bp.put("/tenants/<uuid:tenant_id>/plugins/<path:plugin_name>")
def configure_plugin(tenant_id: UUID, plugin_name: str) -> Response:
    """``{"url": sidecar base URL, "secret": shared secret, "timeout": seconds?}``."""
    data = _json()
    if not data.get("url") or not data.get("secret"):
        raise ValueError("url and secret are required")
    timeout = float(data["timeout"]) if data.get("timeout") is not None else None
    state().configure_plugin(tenant_id, plugin_name, str(data["url"]), str(data["secret"]), timeout)
    return Response(status=204)


@bp.post("/tenants/<uuid:tenant_id>/accounts")
def load_accounts(tenant_id: UUID) -> Response:
    """``{"accounts": [AccountJson, …], "tags": ["AUTO_PAY_OFF", …]?}``: stored at once with their control tags,
    without push notifications (``KillBillState.load_accounts``); 201 with ``[{"accountId", "externalKey"}]``."""
    data = _json()
    accounts = data.get("accounts")
    if not isinstance(accounts, list) or not all(isinstance(a, dict) for a in accounts):
        raise ValueError("accounts must be a list of AccountJson objects")
    loaded = state().load_accounts(tenant_id, accounts, [str(name) for name in data.get("tags") or []])
    return json_response([{"accountId": a.id, "externalKey": a.fields["externalKey"]} for a in loaded], status=201)


@bp.post("/billing-run")
def billing_run() -> Response:
    """``{"tenantId", "amount", "accountIds"?, "description"?}``: one committed invoice per account, all at once,
    then INVOICE_CREATION pushes and auto-pay (``KillBillState.billing_run``). Answers ``{"committedAt",
    "invoices": [{"invoiceId", "accountId", "invoiceNumber", "amount", "currency"}]}``."""
    data = _json()
    amount = to_decimal(data.get("amount"))
    if amount is None or not data.get("tenantId"):
        raise ValueError("tenantId and amount are required")
    names = data.get("accountIds")
    account_ids = None if names is None else [UUID(str(name)) for name in names]
    committed, invoices = state().billing_run(UUID(str(data["tenantId"])), account_ids, amount,
                                              data.get("description"))
    return json_response({"committedAt": format_instant(committed), "invoices": [
        {"invoiceId": i.id, "accountId": i.account_id, "invoiceNumber": i.number, "amount": i.amount,
         "currency": i.currency} for i in invoices]})


@bp.post("/janitor/run")
def run_janitor() -> Response:
    return json_response(state().run_janitor(due_only=bool(_json().get("dueOnly"))))


@bp.get("/plugin-calls")
def plugin_calls() -> Response:
    tenant_id = request.args.get("tenantId")
    return json_response(state().plugin_calls(request.args.get("operation"), UUID(tenant_id) if tenant_id else None))


@bp.delete("/plugin-calls")
def clear_plugin_calls() -> Response:
    state().plugins.clear()
    return Response(status=204)


@bp.get("/push-deliveries")
def push_deliveries() -> Response:
    return json_response(state().push_deliveries())


@bp.get("/events")
def events() -> Response:
    tenant_id = request.args.get("tenantId")
    return json_response(state().event_log(UUID(tenant_id) if tenant_id else None))


@bp.post("/notify-state-changed/fail-next")
def fail_notify() -> Response:
    """``{"count": N, "status": 500}``: the next N notifyStateChanged calls fail without changing anything."""
    data = _json()
    state().fail_next_notify_state_changed(int(data.get("count", 1)), int(data.get("status", 500)))
    return Response(status=204)


@bp.get("/notify-state-changed/fail-next")
def notify_failures() -> Response:
    """``{"remaining": queued failures, "fired": failures answered so far}``."""
    return json_response(state().notify_failures())


@bp.get("/clock")
def get_clock() -> Response:
    return json_response({"currentUtcTime": format_instant(state().clock.now())})


@bp.post("/clock")
def set_clock() -> Response:
    """``{"time": ISO instant}`` or ``{"advanceSeconds": n}``."""
    data = _json()
    if data.get("time"):
        now = state().set_clock(parse_instant(data["time"]))  # type: ignore[arg-type]
    else:
        now = state().advance_clock(timedelta(seconds=float(data.get("advanceSeconds", 0))))
    return json_response({"currentUtcTime": format_instant(now)})


@bp.delete("/clock")
def reset_clock() -> Response:
    return json_response({"currentUtcTime": format_instant(state().clock.reset())})


@bp.post("/wait-idle")
def wait_idle() -> Response:
    done = state().wait_idle(float(_json().get("timeout", 10)))
    return json_response({"idle": done}, status=200 if done else 504)


@bp.put("/config")
def configure() -> Response:
    """``pluginTimeout``, ``pushTimeout`` (seconds) and ``pushRetrySeconds``, ``janitorPendingSeconds``,
    ``janitorUnknownSeconds`` (lists of seconds)."""
    data = _json()
    config = state().config
    spans = {"pushRetrySeconds": "push_retries", "janitorPendingSeconds": "janitor_pending_retries",
             "janitorUnknownSeconds": "janitor_unknown_retries"}
    for name, attribute in spans.items():
        if name in data:
            setattr(config, attribute, tuple(timedelta(seconds=float(s)) for s in data[name]))
    if "pluginTimeout" in data:
        config.plugin_timeout = float(data["pluginTimeout"])
    if "pushTimeout" in data:
        config.push_timeout = float(data["pushTimeout"])
    return Response(status=204)
