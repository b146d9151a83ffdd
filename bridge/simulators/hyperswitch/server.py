"""``serve``: run the simulator in the foreground (``bridge simulate hyperswitch --port N``)."""

from __future__ import annotations

import threading

from ..server import BackgroundServer, stop_on_signals
from .app import create_app
from .demo import DEMO_MERCHANT, demo_state
from .state import SimulatorState


def serve(host: str = "127.0.0.1", port: int = 8080, state: SimulatorState | None = None) -> None:
    """Serve until interrupted; with no state, seed ``DEMO_MERCHANT`` and print its keys."""
    stop_on_signals()
    if state is None:
        state = demo_state()
        _print_demo_keys()
    with BackgroundServer(create_app(state), host=host, port=port) as server:
        print(f"Hyperswitch simulator listening on {server.url} (control API: {server.url}/__sim)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
        finally:
            state.shutdown()


def _print_demo_keys() -> None:
    print("Demo merchant:", flush=True)
    for name, value in DEMO_MERCHANT.items():
        print(f"  {name}: {value}", flush=True)
    print("  webhook URL: none (set it with POST /account/<merchant_id>/business_profile/<profile_id>)",
          flush=True)
