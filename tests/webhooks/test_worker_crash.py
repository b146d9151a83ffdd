"""A worker killed (SIGKILL) in the middle of processing a webhook loses nothing: after its lease
expires another worker applies the event, once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from bridge.db.engine import session_scope
from bridge.db.payments import Transaction, TransactionHistory
from bridge.db.webhooks import EventState, InboundEvent
from bridge.payments import ids
from tests.conftest import MASTER_KEY
from tests.plugin.conftest import payment_call
from tests.webhooks.test_hyperswitch_webhooks import envelope, post

BRIDGE = str(Path(sys.executable).with_name("bridge"))


def _worker(database_url: str, tmp_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")}
    env.update(BRIDGE_DATABASE_URL=database_url, BRIDGE_MASTER_KEYS=MASTER_KEY, BRIDGE_JOB_LEASE_SECONDS="5",
               BRIDGE_WORKER_POLL_SECONDS="0.1", BRIDGE_LOG_FORMAT="text", BRIDGE_AUTO_MIGRATE="false")
    return subprocess.Popen([BRIDGE, "worker"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)


def _event(runtime) -> InboundEvent:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return session.scalars(select(InboundEvent)).one()


def test_a_killed_worker_loses_nothing_and_the_event_applies_once(client, plugin, payor, hs_state, runtime,
                                                                  database_url, tmp_path) -> None:
    hs_state.set_mandate_behaviour(payor.mandate_id, "processing")
    body = payment_call(payor.account_id, "6.00", kbPaymentMethodId=payor.kb_payment_method_id)
    assert plugin.ok("purchasePayment", **body)["status"] == "PENDING"
    hs_id = ids.payment_id(body["kbTransactionId"])
    hs_state.settle_payment(hs_id, "succeeded")
    post(client, envelope({"payment_id": hs_id, "status": "succeeded"}))
    # The worker's re-read of the payment hangs long enough to kill it in the middle.
    hs_state.add_fault("GET", f"/payments/{hs_id}", "latency", latency_ms=4000, times=1)

    first = _worker(database_url, tmp_path)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(rule["fired"] for rule in hs_state.faults.rules()):
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert _event(runtime).state is EventState.RECEIVED  # nothing half-applied

    second = _worker(database_url, tmp_path)
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and _event(runtime).state is not EventState.PROCESSED:
            time.sleep(0.2)
    finally:
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=20)
    assert _event(runtime).state is EventState.PROCESSED
    with session_scope(runtime.sessions) as session:
        txn = session.scalars(select(Transaction).where(Transaction.hs_payment_id == hs_id)).one()
        moves = session.scalars(select(TransactionHistory.to_status).where(
            TransactionHistory.transaction_id == txn.id)).all()
    assert txn.status.value == "PROCESSED"
    assert [m.value for m in moves] == ["UNDEFINED", "PENDING", "PROCESSED"]  # applied once
