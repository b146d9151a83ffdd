"""Request helpers shared by the resource blueprints (the pieces of Kill Bill's JaxRsResourceBase)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from flask import Response, current_app, g, request

from bridge.simulators.killbill import errors
from bridge.simulators.killbill.model import (
    Account,
    Payment,
    Tenant,
    Transaction,
    TxnStatus,
)
from bridge.simulators.killbill.payments import TxnResult
from bridge.simulators.killbill.plugin import CallContext
from bridge.simulators.killbill.state import KillBillState
from bridge.simulators.killbill.wire import json_response, loads

PAGINATION = "X-Killbill-Pagination-"


def state() -> KillBillState:
    return current_app.config["KILLBILL_STATE"]


def tenant() -> Tenant:
    return g.tenant


def body(what: str, *, required: bool = True) -> Any:
    """The JSON body (amounts as Decimal); Kill Bill's ``verifyNonNullOrEmpty(json, "... should be specified")``."""
    raw = request.get_data()
    if not raw.strip():
        if required:
            raise errors.bad_request(f"{what} body should be specified")
        return None
    try:
        return loads(raw)
    except ValueError as exc:
        raise errors.json_error(f"Unable to parse {what}: {exc}") from exc


def body_object(what: str, *, required: bool = True) -> dict[str, Any]:
    data = body(what, required=required)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise errors.json_error(f"{what} must be a JSON object")
    return data


def require(value: Any, message: str) -> Any:
    if value is None or value == "":
        raise errors.bad_request(message)
    return value


def flag(name: str, default: bool = False) -> bool:
    value = request.args.get(name)
    return default if value is None else value.lower() == "true"


def uuid_arg(name: str) -> UUID | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return UUID(value)
    except ValueError as exc:
        raise errors.bad_request(f"Invalid UUID string: {value}") from exc


def plugin_properties() -> list[dict[str, Any]]:
    """``pluginProperty=key=value`` (everything after the first ``=``); entries without a value are skipped."""
    result = []
    for raw in request.args.getlist("pluginProperty"):
        key, sep, value = raw.partition("=")
        if sep and value:
            result.append({"key": key, "value": value, "isUpdatable": False})
    return result


def body_properties(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": p.get("key"), "value": p.get("value"), "isUpdatable": bool(p.get("isUpdatable"))}
            for p in data.get("properties") or [] if isinstance(p, dict)]


def control_plugins() -> list[str]:
    return request.args.getlist("controlPluginName")


def call_context(account_id: UUID | None = None) -> CallContext:
    """Context#createCallContext: X-Killbill-CreatedBy is mandatory on writes."""
    created_by = request.headers.get("X-Killbill-CreatedBy")
    if created_by is None:
        raise errors.missing_created_by()
    return CallContext(tenant().id, account_id, created_by, "EXTERNAL", "CUSTOMER",
                       request.headers.get("X-Killbill-Reason"), request.headers.get("X-Killbill-Comment"),
                       state().clock.now())


def location(path: str) -> str:
    return request.host_url.rstrip("/") + path if state().config.location_full_url else path


def created(path: str) -> Response:
    """JaxrsUriBuilder#buildResponse: 201, a Location, no body."""
    return Response(status=201, headers={"Location": location(path)})


def no_content() -> Response:
    return Response(status=204)


def payment_path(payment: Payment) -> str:
    return f"/1.0/kb/payments/{payment.id}"


def payment_response(result: TxnResult, path: str | None = None) -> Response:
    """JaxRsResourceBase#createPaymentResponse: 201 for SUCCESS/PENDING, else 402/502/503 with the Location."""
    if result.error is not None:
        raise result.error
    return transaction_response(result.payment, result.transaction, path)


def transaction_response(payment: Payment, txn: Transaction, path: str | None = None) -> Response:
    target = path or payment_path(payment)
    status = txn.status
    if status in (TxnStatus.SUCCESS, TxnStatus.PENDING):
        return created(target)
    if status == TxnStatus.PAYMENT_FAILURE:
        raise errors.payment_outcome(402, f"Payment decline by gateway. Error message: {txn.gateway_error_msg}",
                                     location(target))
    if status == TxnStatus.PLUGIN_FAILURE:
        raise errors.payment_outcome(502, "Failed to submit payment transaction", location(target))
    if status == TxnStatus.PAYMENT_SYSTEM_OFF:
        raise errors.payment_outcome(503, "Payment system is off.", location(target))
    raise errors.payment_outcome(503, "Payment in unknown status, failed to receive gateway response.",
                                 location(target))


def account_of(payment: Payment) -> Account:
    return state().account(tenant().id, payment.account_id)


def paged(items: list[Any], path: str, render: Callable[[Any], Any]) -> Response:
    """One page of ``items`` (rendered after slicing), with Kill Bill's X-Killbill-Pagination-* headers."""
    offset = int(request.args.get("offset", 0))
    limit = int(request.args.get("limit", 100))
    page = [render(item) for item in items[offset:offset + limit]]
    headers = {PAGINATION + "CurrentOffset": str(offset), PAGINATION + "TotalNbRecords": str(len(items)),
               PAGINATION + "MaxNbRecords": str(len(items))}
    if offset + limit < len(items):
        headers[PAGINATION + "NextOffset"] = str(offset + limit)
        headers[PAGINATION + "NextPageUri"] = f"{path}?offset={offset + limit}&limit={limit}"
    return json_response(page, headers=headers)
