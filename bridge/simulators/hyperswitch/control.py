"""The control API under ``/__sim`` (outside the spec): JSON in, JSON out, no authentication.

Each endpoint calls the ``SimulatorState`` method of the same meaning, so tests can use either.

- ``GET /__sim/merchants``; ``POST /__sim/merchants`` {merchant_id, api_key, profile_id, publishable_key,
  payment_response_hash_key, webhook_url?}
- ``GET /__sim/payments?merchant_id=``: every payment_id that reached POST /payments, with create_calls,
  status, amount, amount_received and metadata
- ``GET /__sim/refunds?merchant_id=``: every refund, with its payment_id, status, amount and metadata
- ``POST /__sim/payments/{payment_id}/settle`` {status: succeeded|failed, merchant_id?, error_code?,
  error_message?, notify?}
- ``POST /__sim/refunds/{refund_id}/settle`` {status: succeeded|failed, merchant_id?, notify?}
- ``POST /__sim/refund_behaviour`` {outcome: succeeded|pending|failed, merchant_id, payment_id?}
- ``GET /__sim/payouts?merchant_id=``: every payout_id that reached POST /payouts/create, with create_calls
- ``POST /__sim/payouts/{payout_id}/settle`` {status: success|failed|expired|reversed, merchant_id?,
  error_code?, error_message?, notify?}
- ``POST /__sim/payout_behaviour`` {outcome: one of ``payouts.OUTCOMES``, merchant_id, payment_method_id?}
- ``POST /__sim/payment_methods/{pm_id}/behaviour``, ``POST /__sim/mandates/{mandate_id}/behaviour``
  {outcome: one of ``cards.OUTCOMES``}: the outcome of later merchant-initiated charges
- ``POST /__sim/mandates/{mandate_id}/revoke``: revoked at the connector, sends mandate_revoked
- ``POST /__sim/payments/{payment_id}/disputes`` {merchant_id?, amount?, reason?, reason_code?}
- ``POST /__sim/disputes/{dispute_id}/win`` / ``/lose`` / ``/status`` {status: any DisputeStatus}
- ``GET|POST|DELETE /__sim/faults`` {method, path, kind, times?, probability?, seed?, latency_ms?, status?,
  retry_after?, hold_ms?} (DELETE also switches the rate limit off)
- ``GET|POST|DELETE /__sim/rate_limit`` {requests_per_second, burst?}: 429 with Retry-After above it, per API
  key; GET says how many calls it admitted and refused
- ``GET|POST /__sim/webhooks/config`` {retry_schedule, timeout, delay, duplicates, reorder_window, enabled}
- ``GET /__sim/webhooks/deliveries?merchant_id=&event_type=``; ``POST /__sim/webhooks/wait`` {timeout?}
- ``POST /__sim/reset`` {merchants?: also forget the merchants}
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

from .api.common import respond
from .state import SimulatorState

PREFIX = "/__sim"


def blueprint(state: SimulatorState) -> Blueprint:
    bp = Blueprint("hs_control", __name__, url_prefix=PREFIX)

    @bp.errorhandler(LookupError)
    def not_found(exc: LookupError) -> Response:
        return respond({"error": str(exc).strip("'\"")}, 404)

    @bp.errorhandler(ValueError)
    @bp.errorhandler(TypeError)
    def bad_request(exc: Exception) -> Response:
        return respond({"error": str(exc)}, 400)

    _merchant_routes(bp, state)
    _outcome_routes(bp, state)
    _dispute_routes(bp, state)
    _infrastructure_routes(bp, state)
    return bp


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if body is None and request.get_data():
        raise ValueError("the body must be a JSON object")
    if body is not None and not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return body or {}


def _take(body: dict[str, Any], key: str) -> Any:
    if key not in body:
        raise ValueError(f"missing field {key!r}")
    return body.pop(key)


def _merchant_routes(bp: Blueprint, state: SimulatorState) -> None:
    @bp.get("/merchants")
    def merchants() -> Response:
        with state.lock:
            return respond([{"merchant_id": m.merchant_id, "publishable_key": m.publishable_key,
                             "profiles": sorted(m.profiles),
                             "api_keys": sorted(k.key for k in state.api_keys.values()
                                                if k.merchant_id == m.merchant_id)}
                            for m in state.merchants.values()])

    @bp.post("/merchants")
    def add_merchant() -> Response:
        body = _body()
        state.add_merchant(_take(body, "merchant_id"), _take(body, "api_key"), _take(body, "profile_id"), **body)
        return respond({"added": True}, 201)

    @bp.get("/payments")
    def payments_overview() -> Response:
        return respond(state.payments_overview(merchant_id=request.args.get("merchant_id")))

    @bp.get("/refunds")
    def refunds_overview() -> Response:
        return respond(state.refunds_overview(merchant_id=request.args.get("merchant_id")))

    @bp.get("/payouts")
    def payouts_overview() -> Response:
        return respond(state.payouts_overview(merchant_id=request.args.get("merchant_id")))


def _outcome_routes(bp: Blueprint, state: SimulatorState) -> None:
    @bp.post("/payments/<payment_id>/settle")
    def settle_payment(payment_id: str) -> Response:
        body = _body()
        return respond(state.settle_payment(payment_id, _take(body, "status"), **body))

    @bp.post("/refunds/<refund_id>/settle")
    def settle_refund(refund_id: str) -> Response:
        body = _body()
        return respond(state.settle_refund(refund_id, _take(body, "status"), **body))

    @bp.post("/refund_behaviour")
    def refund_behaviour() -> Response:
        body = _body()
        outcome = _take(body, "outcome")
        state.set_refund_behaviour(outcome, **body)
        return respond({"outcome": outcome})

    @bp.post("/payouts/<payout_id>/settle")
    def settle_payout(payout_id: str) -> Response:
        body = _body()
        return respond(state.settle_payout(payout_id, _take(body, "status"), **body))

    @bp.post("/payout_behaviour")
    def payout_behaviour() -> Response:
        body = _body()
        outcome = _take(body, "outcome")
        state.set_payout_behaviour(outcome, **body)
        return respond({"outcome": outcome})

    @bp.post("/payment_methods/<payment_method_id>/behaviour")
    def payment_method_behaviour(payment_method_id: str) -> Response:
        outcome = _take(_body(), "outcome")
        state.set_payment_method_behaviour(payment_method_id, outcome)
        return respond({"payment_method_id": payment_method_id, "outcome": outcome})

    @bp.post("/mandates/<mandate_id>/behaviour")
    def mandate_behaviour(mandate_id: str) -> Response:
        outcome = _take(_body(), "outcome")
        state.set_mandate_behaviour(mandate_id, outcome)
        return respond({"mandate_id": mandate_id, "outcome": outcome})

    @bp.post("/mandates/<mandate_id>/revoke")
    def revoke_mandate(mandate_id: str) -> Response:
        return respond(state.revoke_mandate(mandate_id))


def _dispute_routes(bp: Blueprint, state: SimulatorState) -> None:
    @bp.post("/payments/<payment_id>/disputes")
    def open_dispute(payment_id: str) -> Response:
        return respond(state.open_dispute(payment_id, **_body()), 201)

    @bp.post("/disputes/<dispute_id>/win")
    def win(dispute_id: str) -> Response:
        return respond(state.win_dispute(dispute_id))

    @bp.post("/disputes/<dispute_id>/lose")
    def lose(dispute_id: str) -> Response:
        return respond(state.lose_dispute(dispute_id))

    @bp.post("/disputes/<dispute_id>/status")
    def dispute_status(dispute_id: str) -> Response:
        return respond(state.set_dispute_status(dispute_id, _take(_body(), "status")))


def _infrastructure_routes(bp: Blueprint, state: SimulatorState) -> None:
    @bp.get("/faults")
    def faults() -> Response:
        return respond(state.faults.rules())

    @bp.post("/faults")
    def add_fault() -> Response:
        body = _body()
        return respond(state.add_fault(_take(body, "method"), _take(body, "path"), _take(body, "kind"), **body), 201)

    @bp.delete("/faults")
    def clear_faults() -> Response:
        state.clear_faults()
        return respond({"cleared": True})

    @bp.get("/rate_limit")
    def rate_limit() -> Response:
        return respond(state.rate_limit())

    @bp.post("/rate_limit")
    def set_rate_limit() -> Response:
        body = _body()
        return respond(state.set_rate_limit(_take(body, "requests_per_second"), body.pop("burst", None)))

    @bp.delete("/rate_limit")
    def clear_rate_limit() -> Response:
        return respond(state.set_rate_limit(None))

    @bp.get("/webhooks/config")
    def webhook_config() -> Response:
        return respond(state.configure_webhooks())

    @bp.post("/webhooks/config")
    def configure_webhooks() -> Response:
        return respond(state.configure_webhooks(**_body()))

    @bp.get("/webhooks/deliveries")
    def deliveries() -> Response:
        return respond(state.deliveries(merchant_id=request.args.get("merchant_id"),
                                        event_type=request.args.get("event_type")))

    @bp.post("/webhooks/wait")
    def wait() -> Response:
        idle = state.wait_for_deliveries(float(_body().get("timeout", 10.0)))
        return respond({"idle": idle})

    @bp.post("/reset")
    def reset() -> Response:
        state.reset(merchants=bool(_body().get("merchants", False)))
        return respond({"reset": True})
