"""A billing run's burst: thousands of purchasePayment calls at once against a Hyperswitch that enforces the
hosted rate limit (80/s, 429 with Retry-After). Pacing keeps them below it, the 429s met anyway are waited
out, and every call ends PROCESSED with exactly one Hyperswitch payment: no 429 surfaces as a failure.
About 30 s (the pace is the point), hence ``slow``."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from bridge.payments import ids
from tests.plugin.conftest import *  # noqa: F401,F403
from tests.plugin.conftest import PluginClient, payment_call

CALLS = 1500
CALLERS = 16  # Kill Bill's plugin calls in flight at once
HOSTED_LIMIT = {"requests_per_second": 80.0, "burst": 10}  # reference §9; the burst is the simulator's guess


@pytest.mark.slow
def test_a_burst_of_thousands_of_payments_flows_through_a_rate_limited_hyperswitch(
        app, runtime, tenant_id, payor, hs_state) -> None:  # type: ignore[no-untyped-def]
    hs_state.set_rate_limit(**HOSTED_LIMIT)
    # The run starts as another client of the merchant has used the budget up: its first calls meet 429s.
    early = hs_state.add_fault("POST", "/payments", "rate_limit", times=3, retry_after=1)
    bodies = [payment_call(payor.account_id, "3.00", kbPaymentMethodId=payor.kb_payment_method_id)
              for _ in range(CALLS)]
    local = threading.local()

    def purchase(body: dict) -> str:  # type: ignore[type-arg]
        if not hasattr(local, "plugin"):
            local.plugin = PluginClient(app.test_client(), tenant_id)
        response = local.plugin.call("purchasePayment", **body)
        assert response.status_code == 200, response.get_data(as_text=True)
        return str(response.json["status"])

    with ThreadPoolExecutor(CALLERS) as callers:
        statuses = Counter(callers.map(purchase, bodies))

    assert statuses == {"PROCESSED": CALLS}  # at the deployment's default pace (50/s, below the 80/s limit)
    fired = next(rule["fired"] for rule in hs_state.faults.rules() if rule["rule_id"] == early["rule_id"])
    assert fired == 3  # Hyperswitch did answer 429: waited out, not reported
    created = {row["payment_id"]: row["create_calls"] for row in hs_state.payments_overview()}
    assert all(created[ids.payment_id(body["kbTransactionId"])] == 1 for body in bodies)  # each exactly once
    assert runtime.settings.hyperswitch_requests_per_second < HOSTED_LIMIT["requests_per_second"]

