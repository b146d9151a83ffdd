"""The soak with faults, on the database backend under test (SQLite, or a fresh database on the PostgreSQL server
of BRIDGE_TEST_DATABASE). ``benchmarks/soak.py`` runs the same with bigger numbers; BRIDGE_TEST_SOAK_SEED picks
another seed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.soak.chaos import FAULTS
from tests.soak.conftest import SUMMARY_PROPERTY
from tests.soak.scenario import SoakPlan, run

pytestmark = pytest.mark.slow

# About three minutes on a busy two-core machine: a thousand purchases and a few hundred refunds, the chaos
# lasting the whole load.
PLAN = SoakPlan(purchases=1000, duration=150, seed=int(os.environ.get("BRIDGE_TEST_SOAK_SEED", "8")))


def test_no_double_charge_and_nothing_lost_under_faults(empty_database_url: str, tmp_path: Path,
                                                        record_property: Callable[[str, Any], None]) -> None:
    report = run(PLAN, empty_database_url, tmp_path)
    record_property(SUMMARY_PROPERTY, report.summary())
    counts = report.counts

    assert report.passed, report.summary()
    # Not vacuous: the load went through, and every kind of trouble really happened.
    assert counts.get("kb.purchase.SUCCESS", 0) > 100 and counts.get("kb.refund.SUCCESS", 0) > 20
    assert sum(value for key, value in counts.items() if key.startswith(("kb.purchase.", "kb.refund."))) >= 1000
    assert sum(counts.get(f"faults.{label}", 0) for label in {fault.label for fault in FAULTS}) >= 50
    assert all(counts.get(f"kills.{name}", 0) >= 1 for name in ("web", "worker-1", "worker-2")), counts
    assert counts.get("notify_failures.fired", 0) >= 1
    assert counts.get("webhooks.duplicate_copies", 0) > 0
    assert counts.get("async.payments_succeeded", 0) > 0 and counts.get("async.refunds_succeeded", 0) > 0
