"""After the chaos: let everything settle, then read what each side holds.

Settling is what would happen anyway, only sooner: the processor settles what is still open, Hyperswitch and Kill
Bill finish delivering, Kill Bill's janitor asks about every PENDING/UNKNOWN transaction, the bridge's sweeper
re-reads its stale transactions and its workers drain their jobs. It repeats until the audit finds nothing, or
until nothing has changed for a while (a real disagreement does not go away by waiting), or the time is up.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bridge.db.engine import make_engine
from bridge.db.jobs import Job, JobState
from bridge.db.webhooks import InboundEvent
from bridge.jobs import enqueue
from bridge.payments.service import IN_FLIGHT_LEASE
from bridge.payments.sweeper import SWEEP_JOB
from tests.soak.audit import KbTransaction, Verdict, check_inbox, check_transactions
from tests.soak.peers import Peers
from tests.soak.world import World

PAUSE_SECONDS = 2.0
EVIDENCE = "soak-evidence.json"  # in the work directory, when the audit found problems
SWEEP_EVERY_SECONDS = 20.0
# Unchanged this long, a disagreement is the answer: longer than a killed request's in-flight lease.
STABLE_SECONDS = IN_FLIGHT_LEASE.total_seconds() + 15


@dataclass
class Snapshot:
    """What each side holds, read in an order that stays true while Kill Bill keeps working (its retries of
    failed automatic payments): Hyperswitch's objects, the deliveries, the bridge's inbox, Kill Bill's
    transactions, Hyperswitch's objects again."""

    hs_before: tuple[list[dict[str, Any]], list[dict[str, Any]]]
    hs_deliveries: list[dict[str, Any]]
    kb_deliveries: list[dict[str, Any]]
    events: list[dict[str, Any]]
    jobs: dict[str, int]
    transactions: list[KbTransaction]
    hs_payments: list[dict[str, Any]]
    hs_refunds: list[dict[str, Any]]

    def audit(self, merchants: dict[str, str]) -> Verdict:
        verdict = check_transactions(self.transactions, merchants, self.hs_payments, self.hs_refunds,
                                     earlier=self.hs_before)
        return verdict.merge(check_inbox(self.hs_deliveries, self.kb_deliveries, self.events, self.jobs))

    def save(self, path: Path, problems: list[str]) -> None:
        """The evidence of a failed run, for a post-mortem next to the processes' logs."""
        path.write_text(json.dumps({"problems": problems, **asdict(self)}, default=str, indent=1))


@contextmanager
def bridge_database(world: World) -> Iterator[Engine]:
    engine = make_engine(world.sidecar.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def settle(world: World, peers: Peers, counts: Counter[str], *, timeout: float) -> Verdict:
    """Settle, then audit; returns the last verdict."""
    began = time.monotonic()
    peers.stop()
    with bridge_database(world) as engine:
        last_sweep, last_change, previous = 0.0, began, None
        while True:
            # Also what Kill Bill's bus charged after the load (its auto-pay backlog) and left processing.
            counts["async.settled_at_the_end"] += peers.settle_everything()
            _deliveries_done(world)
            world.killbill.control("POST", "/janitor/run", json={})
            if time.monotonic() - last_sweep > SWEEP_EVERY_SECONDS:
                _sweep(engine)
                counts["settle.sweeps"] += 1
                last_sweep = time.monotonic()
            _drained(engine, timeout=30)
            snapshot = read(world, engine)
            verdict = snapshot.audit(world.merchants)
            counts["settle.passes"] += 1
            now = time.monotonic()
            if verdict.problems != previous:
                previous, last_change = verdict.problems, now
            if not verdict.problems or now - last_change > STABLE_SECONDS or now - began > timeout:
                counts["settle.seconds"] = round(now - began)
                if verdict.problems:
                    snapshot.save(world.work_dir / EVIDENCE, verdict.problems)
                return verdict
            time.sleep(PAUSE_SECONDS)


def read(world: World, engine: Engine) -> Snapshot:
    hyperswitch, killbill = world.hyperswitch, world.killbill
    hs_before = (hyperswitch.control("GET", "/payments"), hyperswitch.control("GET", "/refunds"))
    hs_deliveries = hyperswitch.control("GET", "/webhooks/deliveries")
    kb_deliveries = killbill.control("GET", "/push-deliveries")
    with Session(engine) as session:
        events = [{**row._mapping, "source": str(row.source), "state": str(row.state)} for row in session.execute(
            select(InboundEvent.source, InboundEvent.kb_tenant_id, InboundEvent.event_key, InboundEvent.body,
                   InboundEvent.state))]
        jobs = {str(state): count for state, count in session.execute(
            select(Job.state, func.count()).group_by(Job.state))}
    transactions = [
        KbTransaction(tenant.tenant_id, str(payment.payment_id), str(txn.transaction_id), str(txn.transaction_type),
                      str(txn.status), txn.amount, txn.currency or "")  # type: ignore[arg-type]
        for tenant in world.tenants for payment in tenant.biller.kb.payments.iterate(page_size=200)
        for txn in payment.transactions or []]
    return Snapshot(hs_before, hs_deliveries, kb_deliveries, events, jobs, transactions,
                    hyperswitch.control("GET", "/payments"), hyperswitch.control("GET", "/refunds"))


def _deliveries_done(world: World, wait: float = 10.0) -> None:
    """Give both simulators' deliveries (and their retries) a bounded while to finish; the loop comes back."""
    world.hyperswitch.control("POST", "/webhooks/wait", json={"timeout": wait})
    # Kill Bill's wait covers its bus, then its pushes, then its bus again: up to three waits.
    world.killbill.http.post(f"{world.killbill.url}/__sim/wait-idle", json={"timeout": wait}, timeout=4 * wait)


def _sweep(engine: Engine) -> None:
    """The periodic sweep, now rather than at its next five-minute slot."""
    with Session(engine) as session, session.begin():
        enqueue(session, SWEEP_JOB, {"soak": True}, dedupe_key=f"soak-sweep:{time.time_ns()}")


def _drained(engine: Engine, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with Session(engine) as session:
            waiting = session.scalar(select(func.count()).select_from(Job).where(
                Job.state.in_((JobState.PENDING, JobState.RUNNING))))
        if not waiting:
            return
        time.sleep(0.5)
