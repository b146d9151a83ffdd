"""Routes: /payouts (create, retrieve, confirm, fulfill, cancel, list).

Cancel and fulfill take the payout from the path (routes/payouts.rs builds ``PayoutActionRequest`` from it);
a body, which the spec declares as ``{payout_id}``, is read only to refuse one that is not JSON.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from .. import payouts, schema
from ..state import SimulatorState
from .common import context, json_body, query, query_flag, respond


def blueprint(state: SimulatorState) -> Blueprint:
    bp = Blueprint("hs_payouts", __name__)

    @bp.post("/payouts/create")
    def create() -> Response:
        body = json_body(schema.PAYOUT_CREATE_FIELDS)
        ctx = context(state, body.get("profile_id"))
        with state.lock:
            return respond(payouts.create(state, ctx, body))

    @bp.get("/payouts/list")
    def list_payouts() -> Response:
        ctx = context(state)
        with state.lock:
            return respond(payouts.list_payouts(state, ctx, query()))

    @bp.get("/payouts/<payout_id>")
    def retrieve(payout_id: str) -> Response:
        ctx = context(state)
        force_sync = query_flag("force_sync")
        with state.lock:
            return respond(payouts.retrieve(state, ctx, payout_id, force_sync=force_sync))

    @bp.post("/payouts/<payout_id>/confirm")
    def confirm(payout_id: str) -> Response:
        body = json_body(schema.PAYOUT_CREATE_FIELDS)
        ctx = context(state)
        with state.lock:
            return respond(payouts.confirm(state, ctx, payout_id, body))

    @bp.post("/payouts/<payout_id>/fulfill")
    def fulfill(payout_id: str) -> Response:
        _action_body()
        ctx = context(state)
        with state.lock:
            return respond(payouts.fulfill(state, ctx, payout_id))

    @bp.post("/payouts/<payout_id>/cancel")
    def cancel(payout_id: str) -> Response:
        _action_body()
        ctx = context(state)
        with state.lock:
            return respond(payouts.cancel(state, ctx, payout_id))

    return bp


def _action_body() -> None:
    if request.get_data():
        json_body(None)
