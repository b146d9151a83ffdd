"""Webhook tests reuse the plugin harness: simulators, the mapped tenant and the signing plugin client."""

from tests.plugin.conftest import *  # noqa: F401,F403
