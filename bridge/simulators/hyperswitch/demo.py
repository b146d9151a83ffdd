"""The demo merchant seeded when no state is given, so ``bridge simulate hyperswitch`` works with no setup."""

from __future__ import annotations

from .state import SimulatorState

DEMO_MERCHANT = {
    "merchant_id": "merchant_sim_demo",
    "api_key": "snd_sim_demo_api_key",
    "profile_id": "pro_sim_demo",
    "publishable_key": "pk_snd_sim_demo",
    "payment_response_hash_key": "sim_demo_payment_response_hash_key_change_me_0123456789abcdef",
}


def demo_state() -> SimulatorState:
    """A new state holding only ``DEMO_MERCHANT`` (no webhook URL: set it through the profile API)."""
    state = SimulatorState()
    state.seed_merchant(DEMO_MERCHANT)
    return state
