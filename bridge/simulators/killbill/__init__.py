"""A stateful simulator of Kill Bill 0.24's REST API that drives a sidecar's ``/plugin/v1`` like a payment
plugin; see ``create_app``, ``KillBillState`` and ``serve``."""

from bridge.simulators.killbill.app import create_app, serve
from bridge.simulators.killbill.state import KillBillState, SimConfig

__all__ = ["KillBillState", "SimConfig", "create_app", "serve"]
