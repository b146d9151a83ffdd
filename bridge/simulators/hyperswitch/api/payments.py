"""Routes: /payments (create, confirm, retrieve, capture, cancel, list)."""

from __future__ import annotations

from flask import Blueprint, Response

from .. import payments, schema
from ..state import SimulatorState
from .common import context, json_body, query, query_flag, respond


def blueprint(state: SimulatorState) -> Blueprint:
    bp = Blueprint("hs_payments", __name__)

    @bp.post("/payments")
    def create() -> Response:
        body = json_body(schema.PAYMENTS_CREATE_FIELDS)
        ctx = context(state, body.get("profile_id"))
        with state.lock:
            return respond(payments.create(state, ctx, body))

    @bp.get("/payments/list")
    def list_payments() -> Response:
        ctx = context(state)
        with state.lock:
            return respond(payments.list_payments(state, ctx, query()))

    @bp.get("/payments/<payment_id>")
    def retrieve(payment_id: str) -> Response:
        ctx = context(state)
        force_sync, expand_attempts = query_flag("force_sync"), query_flag("expand_attempts")
        with state.lock:
            return respond(payments.retrieve(state, ctx, payment_id, force_sync=force_sync,
                                             expand_attempts=expand_attempts))

    @bp.post("/payments/<payment_id>/confirm")
    def confirm(payment_id: str) -> Response:
        body = json_body(schema.PAYMENTS_CONFIRM_FIELDS)
        ctx = context(state)
        with state.lock:
            return respond(payments.confirm(state, ctx, payment_id, body))

    @bp.post("/payments/<payment_id>/capture")
    def capture(payment_id: str) -> Response:
        body = json_body(schema.PAYMENTS_CAPTURE_FIELDS)
        ctx = context(state)
        with state.lock:
            return respond(payments.capture(state, ctx, payment_id, body))

    @bp.post("/payments/<payment_id>/cancel")
    def cancel(payment_id: str) -> Response:
        body = json_body(schema.PAYMENTS_CANCEL_FIELDS)
        ctx = context(state)
        with state.lock:
            return respond(payments.cancel(state, ctx, payment_id, body))

    return bp
