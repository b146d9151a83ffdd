"""``create_app``: the simulated Hyperswitch router as a Flask app, behind the fault-injection middleware."""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from . import control, errors
from .api import accounts, customers, pages, payments, payouts, refunds
from .api.common import error_response
from .demo import demo_state
from .faults import FaultMiddleware
from .state import SimulatorState


def create_app(state: SimulatorState | None = None) -> Flask:
    """A new app over ``state``; without one, a state seeded with ``DEMO_MERCHANT``."""
    state = state if state is not None else demo_state()
    app = Flask(__name__)
    app.extensions["hyperswitch_simulator"] = state
    for module in (payments, refunds, payouts, customers, accounts, pages, control):
        app.register_blueprint(module.blueprint(state))
    _register_error_handlers(app)
    app.wsgi_app = FaultMiddleware(app.wsgi_app, state.faults, exempt_prefix=control.PREFIX)  # type: ignore[method-assign]
    return app


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(errors.ApiError)
    def api_error(exc: errors.ApiError) -> Response:
        return error_response(exc)

    @app.errorhandler(NotFound)
    def unknown_url(_: NotFound) -> Response:
        return error_response(errors.unrecognized_url())

    @app.errorhandler(MethodNotAllowed)
    def wrong_method(_: MethodNotAllowed) -> Response:
        return error_response(errors.method_not_allowed())

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return exc  # type: ignore[return-value]
        app.logger.exception("simulator error")
        return error_response(errors.internal_error())
