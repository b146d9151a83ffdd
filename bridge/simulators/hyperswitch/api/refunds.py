"""Routes: /refunds (create, retrieve, update, list)."""

from __future__ import annotations

from flask import Blueprint, Response

from .. import refunds, schema
from ..state import SimulatorState
from .common import context, json_body, respond


def blueprint(state: SimulatorState) -> Blueprint:
    bp = Blueprint("hs_refunds", __name__)

    @bp.post("/refunds")
    def create() -> Response:
        body = json_body(schema.REFUND_CREATE_FIELDS)
        ctx = context(state)
        with state.lock:
            return respond(refunds.create(state, ctx, body))

    @bp.post("/refunds/list")
    def list_refunds() -> Response:
        body = json_body(schema.REFUND_LIST_FIELDS)
        ctx = context(state)
        with state.lock:
            return respond(refunds.list_refunds(state, ctx, body))

    @bp.get("/refunds/<refund_id>")
    def retrieve(refund_id: str) -> Response:
        ctx = context(state)
        with state.lock:
            return respond(refunds.retrieve(state, ctx, refund_id))

    @bp.post("/refunds/<refund_id>")
    def update(refund_id: str) -> Response:
        body = json_body(schema.REFUND_UPDATE_FIELDS)
        ctx = context(state)
        with state.lock:
            return respond(refunds.update(state, ctx, refund_id, body))

    return bp
