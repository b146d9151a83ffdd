"""The registry of every job kind the worker runs, gathered from the capabilities that define them."""

from __future__ import annotations

from bridge.jobs.registry import JobRegistry


def build_registry() -> JobRegistry:
    registry = JobRegistry()
    # Each capability adds its handlers here as it is built (webhooks, invoices, sweeper, ...).
    return registry
