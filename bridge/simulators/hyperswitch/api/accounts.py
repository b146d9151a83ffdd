"""Routes: business profiles and disputes (read side), plus the router's health check."""

from __future__ import annotations

from flask import Blueprint, Response

from .. import disputes, profiles, schema
from ..state import SimulatorState
from .common import context, json_body, query, respond


def blueprint(state: SimulatorState) -> Blueprint:
    bp = Blueprint("hs_accounts", __name__)

    @bp.get("/health")
    def health() -> Response:
        return Response("health is good", mimetype="text/plain")

    @bp.get("/account/<merchant_id>/business_profile/<profile_id>")
    def retrieve_profile(merchant_id: str, profile_id: str) -> Response:
        ctx = context(state)
        with state.lock:
            return respond(profiles.retrieve(ctx, merchant_id, profile_id))

    @bp.post("/account/<merchant_id>/business_profile/<profile_id>")
    def update_profile(merchant_id: str, profile_id: str) -> Response:
        body = json_body(schema.PROFILE_UPDATE_FIELDS)
        ctx = context(state)
        with state.lock:
            return respond(profiles.update(ctx, merchant_id, profile_id, body))

    @bp.get("/disputes/list")
    def list_disputes() -> Response:
        ctx = context(state)
        with state.lock:
            return respond(disputes.list_disputes(state, ctx, query()))

    @bp.get("/disputes/<dispute_id>")
    def retrieve_dispute(dispute_id: str) -> Response:
        ctx = context(state)
        with state.lock:
            return respond(disputes.retrieve(state, ctx, dispute_id))

    return bp
