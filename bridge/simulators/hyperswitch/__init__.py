"""A stateful, spec-faithful simulator of the Hyperswitch v1 API, for tests, demos and merchants.

``create_app(state)`` builds the Flask app; ``SimulatorState`` holds merchants and objects and offers the
control operations (also served under ``/__sim``); ``serve`` runs it in the foreground. Test cards are in
``cards``, control endpoints in ``control``, fault kinds in ``faults``, webhook behaviour in ``webhooks``.
"""

from .app import create_app
from .demo import DEMO_MERCHANT
from .server import serve
from .state import SimulatorState

__all__ = ["DEMO_MERCHANT", "SimulatorState", "create_app", "serve"]
