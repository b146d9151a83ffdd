"""The Flask app of the Kill Bill simulator, and ``serve`` behind ``bridge simulate killbill``."""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.serving import make_server

from bridge.simulators.killbill.api import (
    account_tags,
    accounts,
    auth,
    control,
    invoice_payments,
    invoices,
    payment_methods,
    payment_transactions,
    payments,
    tenants,
)
from bridge.simulators.killbill.state import KillBillState, SimConfig
from bridge.simulators.server import stop_on_signals

log = logging.getLogger(__name__)

BLUEPRINTS = (tenants.bp, accounts.bp, account_tags.bp, payment_methods.bp, invoices.bp, invoice_payments.bp,
              payments.bp, payment_transactions.bp, control.bp)


def create_app(state: KillBillState | None = None) -> Flask:
    """A simulated Kill Bill 0.24 (``/1.0/kb/...``) plus its ``/__sim`` controls."""
    app = Flask(__name__, static_folder=None)
    sim = state or KillBillState()
    app.config["KILLBILL_STATE"] = sim
    auth.install(app)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    if sim.config.janitor_timer:
        sim.start_janitor_timer()
    return app


def serve(host: str = "127.0.0.1", port: int = 8080, state: KillBillState | None = None) -> None:
    """Run until interrupted (blocking). Basic auth admin/password; create a tenant to begin.

    Without a given state the janitor also runs on its timer, with Kill Bill's own schedules.
    """
    stop_on_signals()
    sim = state or KillBillState(SimConfig(janitor_timer=True))
    server = make_server(host, port, create_app(sim), threaded=True)
    # Printed, not logged: the command line configures no logging, and with --port 0 this is the only way to
    # learn the port.
    print(f"Kill Bill simulator listening on http://{host}:{server.server_port} (basic auth admin/password)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        sim.close()
