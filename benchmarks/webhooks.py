"""Benchmark 2: webhook ingestion on the request path, and reconciliation with one and with two job workers.

    python -m benchmarks.webhooks [--database sqlite|postgresql|both] [--quick] [--events N]

Every event is about a real payment: purchases made through Kill Bill (the Kill Bill simulator calls the bridge's
plugin contract, the bridge creates the payment in the Hyperswitch simulator), left PENDING by a mandate whose
charges stay ``processing``. Then, for one worker and again (on a new batch) for two:

1. the job workers are stopped; the payments succeed in Hyperswitch (its control API, without its own webhooks);
2. ingestion: the ``payment_succeeded`` webhooks, built and signed as the router builds them, are POSTed at a fixed
   concurrency: verified and stored events per second, and the request path's latency;
3. reconciliation: the workers start; the time from their start until every event is processed (Hyperswitch
   re-read, the transaction moved on) and every notifyStateChanged told Kill Bill; then Kill Bill is checked to
   show every purchase SUCCESS.

Last, with the workers stopped again, Kill Bill push notifications (PAYMENT_SUCCESS of those payments, in the
simulator's own shape) are POSTed to the tenant's callback URL: the same ingestion figures for them.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import psutil
import requests
from sqlalchemy import Engine, create_engine, text

from benchmarks import report
from benchmarks.load import closed_loop
from benchmarks.stacks import (
    DATABASES,
    Bench,
    Payor,
    add_payors,
    bench_stack,
    database,
    resident_memory,
)
from bridge.payments import ids
from bridge.simulators.hyperswitch import webhooks as hs_webhooks
from bridge.simulators.killbill.push import HEADERS as KB_PUSH_HEADERS
from bridge.simulators.killbill.push import notification_body
from bridge.simulators.killbill.wire import dumps
from killbill_client import KillBillClient
from killbill_client.models import TransactionStatus, TransactionType
from tests.stack import (
    KB_ADMIN,
    KB_PASSWORD,
    Service,
    SimulatedBiller,
    eventually,
)

NAME = "webhooks"
AMOUNT = Decimal("19.90")
JOB_KINDS = ("inbound_event.process", "killbill.sync_transaction")


@dataclass(frozen=True)
class Sizes:
    """``events`` per round (one round per worker count), POSTed by ``concurrency`` callers."""

    events: int
    concurrency: int
    warmup: int
    payors: int
    setup_concurrency: int


# 1,500 events a round: the reconciliation with one worker lasts long enough (tens of seconds) that the
# worker's first, slower jobs weigh little; two rounds of purchases, settling and reconciliation stay within
# about six minutes per database on 2 cores. Concurrency 8: the bridge's 2 web workers × 4 threads.
FULL = Sizes(events=1500, concurrency=8, warmup=50, payors=16, setup_concurrency=6)
QUICK = Sizes(events=60, concurrency=4, warmup=10, payors=4, setup_concurrency=4)


@dataclass(frozen=True)
class Purchase:
    """A purchase Kill Bill made through the bridge, PENDING on both sides until Hyperswitch settles it."""

    kb_account_id: str
    kb_payment_id: str
    kb_transaction_id: str

    @property
    def hs_payment_id(self) -> str:
        return ids.payment_id(self.kb_transaction_id)


# -- the payments the events are about ------------------------------------------------------------------------
def pending_purchases(bench: Bench, payors: Sequence[Payor], count: int, concurrency: int) -> list[Purchase]:
    """``count`` purchases through Kill Bill's API, each PENDING (the plugin contract, then Hyperswitch)."""
    made: list[Purchase] = []
    lock = threading.Lock()
    clients: dict[int, KillBillClient] = {}

    def purchase(session: requests.Session, number: int) -> bool:
        kb = clients.get(id(session)) or clients.setdefault(id(session), _killbill(bench.biller, session))
        payor = payors[number % len(payors)]
        payment = kb.payments.create(UUID(payor.account_id), TransactionType.PURCHASE, AMOUNT, currency="USD",
                                     payment_method_id=UUID(payor.kb_payment_method_id))
        [txn] = payment.transactions or []
        if txn.status != TransactionStatus.PENDING:
            return False
        with lock:
            made.append(Purchase(payor.account_id, str(payment.payment_id), str(txn.transaction_id)))
        return True

    summary = closed_loop(purchase, calls=count, concurrency=concurrency)
    assert summary.errors == 0 and len(made) == count, f"{summary.errors} purchases were not PENDING"
    return made


def _killbill(biller: SimulatedBiller, session: requests.Session) -> KillBillClient:
    """The biller's Kill Bill client on one caller's own HTTP session (a session is not shared by threads)."""
    transport = biller.kb._transport  # the same tenant credentials, on another session
    return KillBillClient(transport.base_url, username=KB_ADMIN, password=KB_PASSWORD, api_key=transport.api_key,
                          api_secret=transport.api_secret, created_by="benchmark", session=session)


def succeed_in_hyperswitch(bench: Bench, purchases: Sequence[Purchase]) -> list[bytes]:
    """Settle every payment as succeeded; returns the webhooks the router sends for them: the envelope around
    the payment as its GET returns it, serialized once. (The simulator's own delivery is off: see
    :func:`measure`; it still records the event as sent, so the bridge's sync does not make it send another.)"""
    bodies = []
    now = datetime.now(UTC)
    for purchase in purchases:
        payment = bench.hyperswitch.control("POST", f"/payments/{purchase.hs_payment_id}/settle",
                                            json={"status": "succeeded"})
        _, body = hs_webhooks.envelope(bench.biller.merchant_id, "payment_succeeded", "payment_details", payment,
                                       now)
        bodies.append(body)
    return bodies


def killbill_notifications(purchases: Sequence[Purchase]) -> list[bytes]:
    """PAYMENT_SUCCESS push notifications of these purchases, as the Kill Bill simulator sends them."""
    return [notification_body({
        "eventType": "PAYMENT_SUCCESS", "accountId": p.kb_account_id, "objectType": "PAYMENT",
        "objectId": p.kb_payment_id,
        "metaData": dumps({"paymentTransactionId": p.kb_transaction_id, "amount": AMOUNT, "currency": "USD",
                           "status": "SUCCESS", "transactionType": "PURCHASE",
                           "effectiveDate": datetime.now(UTC).isoformat(timespec="milliseconds")})}).encode()
            for p in purchases]


# -- ingestion ------------------------------------------------------------------------------------------------
def ingest_hyperswitch(bench: Bench, bodies: Sequence[bytes], *, concurrency: int) -> report.Summary:
    """POST signed webhooks to /webhooks/hyperswitch; a call is right when the bridge stored a new event."""
    url, key = f"{bench.sidecar.url}/webhooks/hyperswitch", bench.biller.hs_hash_key

    def deliver(session: requests.Session, number: int) -> bool:
        body = bodies[number]
        headers = {**hs_webhooks.HEADERS, "X-Webhook-Signature-512": hs_webhooks.sign(body, key)}
        response = session.post(url, data=body, headers=headers, timeout=30)
        return response.status_code == 200 and response.json()["status"] == "accepted"

    return closed_loop(deliver, calls=len(bodies), concurrency=concurrency)


def ingest_killbill(bench: Bench, bodies: Sequence[bytes], *, concurrency: int) -> report.Summary:
    """POST push notifications to the tenant's callback URL, as Kill Bill's PushNotificationListener does."""
    url = bench.biller.kb.tenants.get_push_callback()
    assert url and url.startswith(bench.sidecar.url), url

    def deliver(session: requests.Session, number: int) -> bool:
        response = session.post(url, data=bodies[number], headers=KB_PUSH_HEADERS, timeout=30)
        return response.status_code == 200 and response.json()["status"] == "accepted"

    return closed_loop(deliver, calls=len(bodies), concurrency=concurrency)


# -- processor time: steadier than wall-clock time on a machine that does other things -----------------------------
def cpu_seconds(processes: Sequence[psutil.Process]) -> float:
    """User + system processor time the processes have used so far."""
    return sum(sum(p.cpu_times()[:2]) for p in processes)


def web_processes(bench: Bench) -> list[psutil.Process]:
    """gunicorn's workers (its master only watches them)."""
    return psutil.Process(bench.sidecar.services["web"].pid).children()


def with_cpu(figures: dict[str, Any], processes: Sequence[psutil.Process], before: float, count: int) -> dict[str, Any]:
    """``figures`` and the processor milliseconds the processes spent per event since ``before``."""
    spent = cpu_seconds(processes) - before
    return {**figures, "cpu_ms_per_event": round(spent * 1000 / count, 2) if count else 0.0}


# -- the queue, read from the bridge's database ----------------------------------------------------------------
class Queue:
    """Counts in the bridge's jobs and inbound_events tables: read-only, never a write lock."""

    def __init__(self, database_url: str) -> None:
        self.engine: Engine = create_engine(database_url)

    def close(self) -> None:
        self.engine.dispose()

    def _scalar(self, sql: str, **params: Any) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text(sql), params).scalar_one())

    def last_event_id(self) -> int:
        return self._scalar("SELECT COALESCE(MAX(id), 0) FROM inbound_events")

    def waiting_events(self, after_id: int) -> int:
        """Events after ``after_id`` not processed yet (received, or failed and waiting for a retry)."""
        return self._scalar("SELECT COUNT(*) FROM inbound_events WHERE id > :after AND state NOT IN "
                            "('processed', 'skipped')", after=after_id)

    def events(self, after_id: int, state: str) -> int:
        return self._scalar("SELECT COUNT(*) FROM inbound_events WHERE id > :after AND state = :state",
                            after=after_id, state=state)

    def unfinished(self, kinds: Sequence[str] = JOB_KINDS) -> int:
        """Jobs of ``kinds`` still to run (pending, retrying or running)."""
        names = ", ".join(f"'{kind}'" for kind in kinds)
        return self._scalar(f"SELECT COUNT(*) FROM jobs WHERE kind IN ({names}) AND state IN ('pending', 'running')")

    def done(self) -> int:
        return self._scalar("SELECT COUNT(*) FROM jobs WHERE state = 'done'")

    def dead(self) -> int:
        return self._scalar("SELECT COUNT(*) FROM jobs WHERE state = 'dead'")


def settle_down(bench: Bench, queue: Queue, timeout: float = 300.0) -> None:
    """Wait until Kill Bill has delivered its push notifications and the bridge's workers ran what they caused."""
    def quiet() -> bool:
        pushes = bench.killbill.control("GET", "/push-deliveries")
        return all(p["delivered"] or p["dropped"] for p in pushes) and queue.unfinished() == 0

    eventually(quiet, "Kill Bill's pushes and the bridge's jobs to finish", timeout=timeout, interval=0.5)


# -- reconciliation -------------------------------------------------------------------------------------------
def start_workers(workers: Sequence[Service]) -> None:
    """Start the job workers; returns once each has logged that it runs (its imports are not the measure)."""
    seen = {w.name: _starts(w) for w in workers}
    for worker in workers:
        worker.start()
    for worker in workers:
        eventually(lambda w=worker: _started(w, seen[w.name]), f"{worker.name} to start", timeout=300, interval=0.02)


_STARTED = re.compile(r"worker .+ started")


def _started(worker: Service, starts_before: int) -> bool:
    worker.check_alive()  # one that exited fails here, with its log
    return _starts(worker) > starts_before


def _starts(service: Service) -> int:
    """How many times the worker logged that it started."""
    path = service.log_dir / f"{service.name}.log"
    return len(_STARTED.findall(path.read_text(errors="replace"))) if path.exists() else 0


def stop_workers(workers: Sequence[Service]) -> None:
    for worker in workers:
        worker.stop()


def reconcile(bench: Bench, queue: Queue, purchases: Sequence[Purchase], after_event_id: int,
              workers: Sequence[Service]) -> dict[str, Any]:
    """Start ``workers`` on the stored events (ids above ``after_event_id``); time until every event is processed
    and every notifyStateChanged is done; then check Kill Bill (not timed)."""
    events = queue.waiting_events(after_event_id)
    done_before = queue.done()
    start_workers(workers)
    began = time.perf_counter()
    processes = [psutil.Process(w.pid) for w in workers]
    cpu_before = cpu_seconds(processes)
    while queue.waiting_events(after_event_id) or queue.unfinished(("killbill.sync_transaction",)):
        time.sleep(0.05)
    elapsed = time.perf_counter() - began
    cpu = cpu_seconds(processes) - cpu_before
    jobs = queue.done() - done_before
    settle_down(bench, queue)
    succeeded = _succeeded_in_killbill(bench, purchases)
    return {"workers": len(workers), "events": events, "elapsed_s": round(elapsed, 3),
            "events_per_second": round(events / elapsed, 1), "jobs_run": jobs,
            "worker_cpu_ms_per_event": round(cpu * 1000 / events, 2),
            "failed_events": queue.events(after_event_id, "failed"),
            "killbill_success": succeeded, "errors": len(purchases) - succeeded}


def _succeeded_in_killbill(bench: Bench, purchases: Sequence[Purchase]) -> int:
    """How many of these purchases Kill Bill shows SUCCESS (one listing per account)."""
    wanted = {p.kb_transaction_id for p in purchases}
    succeeded = 0
    for account_id in {p.kb_account_id for p in purchases}:
        for payment in bench.biller.kb.payments.list_for_account(UUID(account_id)):
            succeeded += sum(1 for t in payment.transactions or []
                             if str(t.transaction_id) in wanted and t.status == TransactionStatus.SUCCESS)
    return succeeded


# -- one database ---------------------------------------------------------------------------------------------
def round_figures(bench: Bench, queue: Queue, payors: Sequence[Payor], sizes: Sizes,
                  workers: Sequence[Service]) -> tuple[list[Purchase], dict[str, Any], dict[str, Any]]:
    """One round: new PENDING purchases, webhooks stored with the workers stopped, then reconciled by
    ``workers``; returns the purchases, the ingestion figures and the reconciliation figures."""
    purchases = pending_purchases(bench, payors, sizes.events + sizes.warmup, sizes.setup_concurrency)
    settle_down(bench, queue)
    stop_workers(bench.sidecar.workers)
    bodies = succeed_in_hyperswitch(bench, purchases)
    after = queue.last_event_id()
    web = web_processes(bench)
    ingest_hyperswitch(bench, bodies[:sizes.warmup], concurrency=sizes.concurrency)  # warm-up, not counted
    before = cpu_seconds(web)
    ingestion = ingest_hyperswitch(bench, bodies[sizes.warmup:], concurrency=sizes.concurrency).as_dict()
    ingestion = with_cpu(ingestion, web, before, ingestion["calls"])
    ingestion["stored"] = queue.events(after, "received")
    return purchases, ingestion, reconcile(bench, queue, purchases, after, workers)


def measure(bench: Bench, sizes: Sizes, *, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every figure of this benchmark on one running stack (with at least two job workers)."""
    workers = bench.sidecar.workers
    assert len(workers) >= 2, "the reconciliation compares one and two job workers"
    queue = Queue(bench.sidecar.database_url)
    # The benchmark sends the Hyperswitch webhooks itself, when it chooses: the simulator sends none.
    bench.hyperswitch.control("POST", "/webhooks/config", json={"enabled": False})
    try:
        log(f"  {sizes.payors} payors")
        # Charges on their mandates stay ``processing``: each purchase is PENDING until Hyperswitch settles it.
        payors = add_payors(bench, sizes.payors, behaviour="processing")
        log(f"  round 1: {sizes.events + sizes.warmup} PENDING purchases, their webhooks, one worker")
        purchases, ingestion, one = round_figures(bench, queue, payors, sizes, workers[:1])
        start_workers(workers[1:2])
        log(f"  round 2: {sizes.events + sizes.warmup} PENDING purchases, their webhooks, two workers")
        _, ingestion_again, two = round_figures(bench, queue, payors, sizes, workers[:2])
        memory = resident_memory(bench.sidecar)
        stop_workers(workers)
        log(f"  Kill Bill push notifications: {len(purchases)}")
        bodies = killbill_notifications(purchases)
        web = web_processes(bench)
        ingest_killbill(bench, bodies[:sizes.warmup], concurrency=sizes.concurrency)  # warm-up, not counted
        before = cpu_seconds(web)
        pushes = ingest_killbill(bench, bodies[sizes.warmup:], concurrency=sizes.concurrency).as_dict()
        pushes = with_cpu(pushes, web, before, pushes["calls"])
        return {"sizes": sizes.__dict__, "hyperswitch_ingestion": ingestion,
                "hyperswitch_ingestion_round_2": ingestion_again, "killbill_ingestion": pushes,
                "reconciliation_1_worker": one, "reconciliation_2_workers": two,
                "speed_up": round(two["events_per_second"] / one["events_per_second"], 2),
                "dead_jobs": queue.dead(), "resident_memory_mib": memory}
    finally:
        queue.close()


def run(kind: str, sizes: Sizes) -> dict[str, Any]:
    """Start a stack on a new ``kind`` database and measure it."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{NAME}-") as temp, database(kind, Path(temp)) as url, \
            bench_stack(url, web_workers=2, job_workers=2, work_dir=Path(temp)) as bench:
        return measure(bench, sizes)


def print_table(results: dict[str, dict[str, Any]]) -> None:
    rows = []
    for kind, figures in results.items():
        for label, key in (("Hyperswitch webhooks", "hyperswitch_ingestion"),
                           ("  (round 2)", "hyperswitch_ingestion_round_2"),
                           ("Kill Bill pushes", "killbill_ingestion")):
            f = figures[key]
            rows.append([kind, label, f["calls"], f["errors"], f["per_second"], f["p50_ms"], f["p99_ms"],
                         f["cpu_ms_per_event"]])
    print(report.table(rows, ["database", "ingestion", "events", "errors", "stored/s", "p50 ms", "p99 ms",
                              "web CPU ms/event"]))
    print()
    rows = []
    for kind, figures in results.items():
        for key in ("reconciliation_1_worker", "reconciliation_2_workers"):
            f = figures[key]
            rows.append([kind, f["workers"], f["events"], f["elapsed_s"], f["events_per_second"], f["jobs_run"],
                         f["worker_cpu_ms_per_event"], f["killbill_success"], f["errors"]])
        rows.append([kind, "speed-up", "", "", f"× {figures['speed_up']}", "", "", "", ""])
    print(report.table(rows, ["database", "workers", "events", "seconds", "events/s", "jobs", "CPU ms/event",
                              "KB SUCCESS", "errors"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.webhooks", description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=(*DATABASES, "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="small sizes: check that it runs")
    parser.add_argument("--events", type=int, help=f"events per round (default {FULL.events}, quick {QUICK.events})")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.events:
        sizes = replace(sizes, events=args.events)
    kinds = DATABASES if args.database == "both" else (args.database,)
    results = {}
    for kind in kinds:
        print(f"{NAME} on {kind}: {sizes}", flush=True)
        results[kind] = run(kind, sizes)
    print_table(results)
    report.write(NAME, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
