"""Routes: /customers, their payment methods and mandates, /payment_methods, /mandates.

Set-default is served where the router serves it, ``/customers/{customer_id}/payment_methods/{id}/default``
(the spec's path lacks the ``/customers`` prefix; reference §4).
"""

from __future__ import annotations

from flask import Blueprint, Response

from .. import customers, schema
from ..state import SimulatorState
from .common import context, json_body, query, respond


def blueprint(state: SimulatorState) -> Blueprint:
    bp = Blueprint("hs_customers", __name__)
    _customer_routes(bp, state)
    _payment_method_routes(bp, state)
    _mandate_routes(bp, state)
    return bp


def _customer_routes(bp: Blueprint, state: SimulatorState) -> None:
    @bp.post("/customers")
    def create() -> Response:
        body = json_body(schema.CUSTOMER_CREATE_FIELDS)
        ctx = context(state)
        with state.lock:
            return respond(customers.create(state, ctx, body))

    @bp.get("/customers/list")
    def list_customers() -> Response:
        ctx = context(state)
        with state.lock:
            return respond(customers.list_customers(state, ctx, query()))

    @bp.get("/customers/<customer_id>")
    def retrieve(customer_id: str) -> Response:
        ctx = context(state)
        with state.lock:
            return respond(customers.retrieve(state, ctx, customer_id))

    @bp.post("/customers/<customer_id>")
    def update(customer_id: str) -> Response:
        body = json_body(schema.CUSTOMER_UPDATE_FIELDS)
        ctx = context(state)
        with state.lock:
            return respond(customers.update(state, ctx, customer_id, body))

    @bp.delete("/customers/<customer_id>")
    def delete(customer_id: str) -> Response:
        ctx = context(state)
        with state.lock:
            return respond(customers.delete(state, ctx, customer_id))


def _payment_method_routes(bp: Blueprint, state: SimulatorState) -> None:
    @bp.get("/customers/<customer_id>/payment_methods")
    def list_methods(customer_id: str) -> Response:
        ctx = context(state)
        with state.lock:
            return respond(customers.list_payment_methods(state, ctx, customer_id))

    @bp.post("/customers/<customer_id>/payment_methods/<payment_method_id>/default")
    def set_default(customer_id: str, payment_method_id: str) -> Response:
        ctx = context(state)
        with state.lock:
            return respond(customers.set_default(state, ctx, customer_id, payment_method_id))

    @bp.get("/payment_methods/<payment_method_id>")
    def retrieve_method(payment_method_id: str) -> Response:
        ctx = context(state)
        with state.lock:
            return respond(customers.retrieve_payment_method(state, ctx, payment_method_id))

    @bp.delete("/payment_methods/<payment_method_id>")
    def delete_method(payment_method_id: str) -> Response:
        ctx = context(state)
        with state.lock:
            return respond(customers.delete_payment_method(state, ctx, payment_method_id))


def _mandate_routes(bp: Blueprint, state: SimulatorState) -> None:
    @bp.get("/mandates/<mandate_id>")
    def retrieve_mandate(mandate_id: str) -> Response:
        ctx = context(state)
        with state.lock:
            return respond(customers.retrieve_mandate(state, ctx, mandate_id))

    @bp.post("/mandates/revoke/<mandate_id>")
    def revoke_mandate(mandate_id: str) -> Response:
        ctx = context(state)
        with state.lock:
            return respond(customers.revoke_mandate(state, ctx, mandate_id))

    @bp.get("/customers/<customer_id>/mandates")
    def list_mandates(customer_id: str) -> Response:
        ctx = context(state)
        with state.lock:
            return respond(customers.list_mandates(state, ctx, customer_id))
