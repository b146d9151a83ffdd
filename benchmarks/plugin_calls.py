"""Benchmark 1: what the bridge adds to a plugin call, against the floor of calling Hyperswitch directly.

    python -m benchmarks.plugin_calls [--database sqlite|postgresql|both] [--quick] [--profile]

- **purchasePayment**: a signed ``POST /plugin/v1/purchasePayment`` as the Java plugin sends it (signature
  check, tenant lookup, the transaction row, the off-session ``POST /payments`` with the account's mandate,
  the final status), against ``POST /payments`` sent straight to the Hyperswitch simulator with the very
  payload the bridge sent (read back from its audit trail; only the ids differ per call).
- **getPaymentInfo** of a settled payment (the bridge answers from its database) and of a PENDING one (the
  bridge re-reads the payment with ``force_sync`` first), against ``GET /payments/{id}`` (with the same
  ``force_sync``).

Each pair runs in the same stack, one after the other, through the same closed-loop driver at the same
concurrency; the figures are p50/p99 latency, calls per second, their ratio and the milliseconds added.
Accounts, cards and mandates are set up beforehand through Kill Bill (its addPaymentMethod call reaches
the bridge), many of them, so no call waits on another account's row. The simulator's webhooks are off:
they are benchmark 2's subject and would load the same two cores in the middle of this one's timings.

``--profile`` also runs the same calls through the bridge's Flask app in this process under pyinstrument
and writes the profiles to benchmarks/results/profiles/.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil
import requests
from sqlalchemy import create_engine, select

from benchmarks import report
from benchmarks.load import Call, closed_loop
from benchmarks.report import Summary
from benchmarks.stacks import (
    DATABASES,
    Bench,
    DatabaseWork,
    Payor,
    add_payors,
    bench_stack,
    database,
    in_process,
    profiled,
    resident_memory,
)
from bridge.db.audit import HyperswitchCall
from bridge.payments import ids
from bridge.plugin_api import signature
from tests.stack import Sidecar, eventually

CONCURRENCY = 8
PROFILED_CALLS = 200
AMOUNT = Decimal("12.34")
CURRENCY = "USD"


@dataclass(frozen=True)
class Sizes:
    accounts: int  # accounts whose purchases succeed
    pending_accounts: int  # accounts whose purchases stay PENDING (processing at the connector)
    purchases: int  # timed calls, each side
    payment_infos: int  # timed calls, each side and case
    warmup: int  # untimed calls before each timed run


# Full: a few thousand calls per side keep p99 meaningful (it is the 20th–30th slowest call) and the whole
# module near two minutes per database here; quick: enough to see that everything works.
FULL = Sizes(accounts=200, pending_accounts=50, purchases=2000, payment_infos=2000, warmup=40)
QUICK = Sizes(accounts=12, pending_accounts=6, purchases=60, payment_infos=60, warmup=8)


# -- the plugin contract, as the Java plugin sends it --------------------------------------------------------
def context(tenant_id: str, account_id: str) -> dict[str, Any]:
    """Kill Bill's CallContext as the forwarding plugin serialises it."""
    return {"tenantId": tenant_id, "accountId": account_id, "userName": "admin", "callOrigin": "EXTERNAL",
            "userType": "ADMIN", "reasonCode": None, "comments": None,
            "createdDate": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")}


def purchase_body(tenant_id: str, payor: Payor) -> dict[str, Any]:
    """purchasePayment of a new Kill Bill payment (fresh payment and transaction ids)."""
    return {"kbAccountId": payor.account_id, "kbPaymentId": str(uuid.uuid4()), "kbTransactionId": str(uuid.uuid4()),
            "kbPaymentMethodId": payor.kb_payment_method_id, "amount": str(AMOUNT), "currency": CURRENCY,
            "properties": [], "context": context(tenant_id, payor.account_id)}


def payment_info_body(tenant_id: str, account_id: str, kb_payment_id: str) -> dict[str, Any]:
    return {"kbAccountId": account_id, "kbPaymentId": kb_payment_id, "properties": [],
            "context": context(tenant_id, account_id)}


def call_plugin(http: requests.Session, sidecar: Sidecar, operation: str, body: dict[str, Any]) -> requests.Response:
    """A signed ``POST /plugin/v1/<operation>`` (X-Bridge-Signature over the raw body)."""
    raw = json.dumps(body, separators=(",", ":")).encode()
    return http.post(f"{sidecar.url}/plugin/v1/{operation}", data=raw, timeout=30,
                     headers={"Content-Type": "application/json",
                              signature.HEADER: signature.sign(raw, sidecar.plugin_secret)})


@dataclass(frozen=True)
class Purchase:
    """A purchase the bridge made: the Kill Bill payment and the Hyperswitch payment behind it."""

    account_id: str
    kb_payment_id: str
    hs_payment_id: str


def purchase(http: requests.Session, bench: Bench, payor: Payor, expected: str = "PROCESSED") -> Purchase | None:
    """One purchasePayment; the purchase when the bridge answered ``expected``."""
    body = purchase_body(bench.biller.tenant_id, payor)
    response = call_plugin(http, bench.sidecar, "purchasePayment", body)
    if response.status_code != 200 or response.json().get("status") != expected:
        return None
    return Purchase(payor.account_id, body["kbPaymentId"], response.json()["firstPaymentReferenceId"])


# -- Hyperswitch, directly: the floor -------------------------------------------------------------------------
def hyperswitch_headers(bench: Bench) -> dict[str, str]:
    """What the bridge's Hyperswitch client sends with every call (hyperswitch_client._requestor)."""
    return {"api-key": bench.biller.hs_api_key, "X-Profile-Id": bench.biller.profile_id,
            "Accept": "application/json", "Content-Type": "application/json",
            "User-Agent": "killbill-hyperswitch-bridge/hyperswitch-client"}


def sent_payload(bench: Bench, hs_payment_id: str) -> dict[str, Any]:
    """The body of the bridge's ``POST /payments`` for ``hs_payment_id``, from its audit trail (written by a
    background thread: waited for). Nothing in a mandate payment is redacted there, so it is what was sent."""
    engine = create_engine(bench.sidecar.database_url)
    try:
        def find() -> dict[str, Any] | None:
            with engine.connect() as conn:
                bodies = conn.scalars(select(HyperswitchCall.request_body).where(
                    HyperswitchCall.method == "POST", HyperswitchCall.path == "/payments"))
                return next((body for body in bodies if body and body.get("payment_id") == hs_payment_id), None)
        return eventually(find, f"the audit record of POST /payments {hs_payment_id}", timeout=30, interval=0.1)
    finally:
        engine.dispose()


def payload_for(template: dict[str, Any], tenant_id: str, payor: Payor) -> dict[str, Any]:
    """``template`` (a body the bridge sent) for another purchase of ``payor``: new Kill Bill ids, so a new
    Hyperswitch payment id, and this payor's customer and mandate."""
    kb_payment_id, kb_transaction_id = str(uuid.uuid4()), str(uuid.uuid4())
    body = copy.deepcopy(template)
    body.update(payment_id=ids.payment_id(kb_transaction_id), customer_id=payor.customer_id,
                merchant_order_reference_id=kb_payment_id)
    body["recurring_details"] = {**template["recurring_details"], "data": payor.mandate_id}
    body["metadata"] = {**template.get("metadata", {}), "kb_tenant_id": tenant_id, "kb_account_id": payor.account_id,
                        "kb_payment_id": kb_payment_id, "kb_transaction_id": kb_transaction_id}
    return body


# -- measuring ------------------------------------------------------------------------------------------------
def web_cpu_seconds(sidecar: Sidecar) -> float:
    """CPU time (user + system) used so far by the web processes: gunicorn's master and its workers."""
    master = psutil.Process(sidecar.services["web"].pid)
    return sum(sum(process.cpu_times()[:2]) for process in (master, *master.children()))


def timed_with_cpu(sidecar: Sidecar, call: Call, *, calls: int, concurrency: int, warmup: int) -> tuple[Summary, float]:
    """``closed_loop`` and the web processes' CPU milliseconds per call (warm-up calls included in both
    counts): unlike latency, barely moved by whatever else the machine runs at the same time."""
    before = web_cpu_seconds(sidecar)
    summary = closed_loop(call, calls=calls, concurrency=concurrency, warmup=warmup)
    return summary, (web_cpu_seconds(sidecar) - before) * 1000 / (calls + warmup)


def overhead(bridge: Summary, floor: Summary, cpu_ms: float) -> dict[str, Any]:
    """The bridge against its floor: both summaries, the latency ratios and the milliseconds it adds, and the
    CPU time the bridge's web processes spent per call."""
    def ratio(a: float, b: float) -> float | None:
        return round(a / b, 2) if b else None

    return {"bridge": {**bridge.as_dict(), "web_cpu_ms_per_call": round(cpu_ms, 2)}, "floor": floor.as_dict(),
            "ratio_p50": ratio(bridge.p50_ms, floor.p50_ms), "ratio_p99": ratio(bridge.p99_ms, floor.p99_ms),
            "added_p50_ms": round(bridge.p50_ms - floor.p50_ms, 2),
            "added_p99_ms": round(bridge.p99_ms - floor.p99_ms, 2),
            "throughput_ratio": ratio(bridge.per_second, floor.per_second)}


def _cycle(items: Sequence[Any]) -> Callable[[int], Any]:
    return lambda number: items[number % len(items)]


def measure_purchases(bench: Bench, payors: Sequence[Payor], *, calls: int, concurrency: int = CONCURRENCY,
                      warmup: int = 0) -> tuple[dict[str, Any], list[Purchase]]:
    """purchasePayment through the bridge against ``POST /payments`` straight to Hyperswitch; also returns
    the purchases the bridge made (settled payments, for getPaymentInfo)."""
    payor_of = _cycle(payors)
    with requests.Session() as http:
        first = purchase(http, bench, payor_of(0))
    assert first is not None, "the bridge could not make a purchase"
    template = sent_payload(bench, first.hs_payment_id)
    tenant_id, url, headers = bench.biller.tenant_id, bench.hyperswitch.url + "/payments", hyperswitch_headers(bench)

    def direct(http: requests.Session, number: int) -> bool:
        response = http.post(url, data=json.dumps(payload_for(template, tenant_id, payor_of(number)),
                                                  separators=(",", ":")), headers=headers, timeout=30)
        return response.status_code == 200 and response.json().get("status") == "succeeded"

    made: list[Purchase] = [first]

    def through_bridge(http: requests.Session, number: int) -> bool:
        done = purchase(http, bench, payor_of(number))
        if done is not None:
            made.append(done)  # list.append is atomic: the driver's threads share the list
        return done is not None

    floor = closed_loop(direct, calls=calls, concurrency=concurrency, warmup=warmup)
    bridge, cpu_ms = timed_with_cpu(bench.sidecar, through_bridge, calls=calls, concurrency=concurrency, warmup=warmup)
    return overhead(bridge, floor, cpu_ms), made


def measure_payment_info(bench: Bench, purchases: Sequence[Purchase], *, expected: str, force_sync: bool,
                         calls: int, concurrency: int = CONCURRENCY, warmup: int = 0) -> dict[str, Any]:
    """getPaymentInfo through the bridge (each answer one transaction, ``expected``) against
    ``GET /payments/{id}`` straight to Hyperswitch."""
    purchase_of = _cycle(purchases)
    tenant_id, headers = bench.biller.tenant_id, hyperswitch_headers(bench)
    del headers["Content-Type"]  # the client sends none on a GET without a body
    query = {"force_sync": "true" if force_sync else "false"}
    hs_status = "succeeded" if expected == "PROCESSED" else "processing"

    def direct(http: requests.Session, number: int) -> bool:
        response = http.get(f"{bench.hyperswitch.url}/payments/{purchase_of(number).hs_payment_id}", params=query,
                            headers=headers, timeout=30)
        return response.status_code == 200 and response.json().get("status") == hs_status

    def through_bridge(http: requests.Session, number: int) -> bool:
        chosen = purchase_of(number)
        response = call_plugin(http, bench.sidecar, "getPaymentInfo",
                               payment_info_body(tenant_id, chosen.account_id, chosen.kb_payment_id))
        return response.status_code == 200 and [t["status"] for t in response.json()] == [expected]

    floor = closed_loop(direct, calls=calls, concurrency=concurrency, warmup=warmup)
    bridge, cpu_ms = timed_with_cpu(bench.sidecar, through_bridge, calls=calls, concurrency=concurrency, warmup=warmup)
    return overhead(bridge, floor, cpu_ms)


def pending_purchases(bench: Bench, payors: Sequence[Payor]) -> list[Purchase]:
    """One purchase per payor whose mandate answers ``processing``: each stays PENDING."""
    with requests.Session() as http:
        made = [purchase(http, bench, payor, expected="PENDING") for payor in payors]
    assert all(made), "a purchase on a processing mandate did not end PENDING"
    return [p for p in made if p is not None]


def measure(bench: Bench, sizes: Sizes, *, concurrency: int = CONCURRENCY) -> dict[str, Any]:
    """Every figure of this benchmark on a running stack (set-up included, untimed)."""
    began = time.monotonic()
    payors = add_payors(bench, sizes.accounts)
    pending = pending_purchases(bench, add_payors(bench, sizes.pending_accounts, behaviour="processing"))
    setup_s = time.monotonic() - began
    purchases, settled = measure_purchases(bench, payors, calls=sizes.purchases, concurrency=concurrency,
                                           warmup=sizes.warmup)
    settled_info = measure_payment_info(bench, settled, expected="PROCESSED", force_sync=False,
                                        calls=sizes.payment_infos, concurrency=concurrency, warmup=sizes.warmup)
    pending_info = measure_payment_info(bench, pending, expected="PENDING", force_sync=True,
                                        calls=sizes.payment_infos, concurrency=concurrency, warmup=sizes.warmup)
    return {"concurrency": concurrency, "accounts": sizes.accounts + sizes.pending_accounts,
            "setup_s": round(setup_s, 1), "purchasePayment": purchases, "getPaymentInfo_settled": settled_info,
            "getPaymentInfo_pending": pending_info, "memory": resident_memory(bench.sidecar)}


# Webhooks off (see the module's docstring); the pace toward Hyperswitch raised above what two cores can
# reach, so the figures are the bridge's own work, not the deployment's 50/s default pacing.
BILLER_SETTINGS = {"email": {"sender": "billing@acme.example", "brand_name": "Acme"},
                   "pacing": {"requests_per_second": 10_000, "burst": 10_000}}


def run(kind: str, sizes: Sizes, *, profile_dir: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bridge-bench-plugin-") as temp, ExitStack() as stack:
        url = stack.enter_context(database(kind, Path(temp)))
        bench = stack.enter_context(bench_stack(url, web_workers=2, job_workers=1, work_dir=Path(temp),
                                                biller_settings=BILLER_SETTINGS))
        bench.hyperswitch.control("POST", "/webhooks/config", json={"enabled": False})
        figures = measure(bench, sizes)
        if profile_dir is not None:
            figures["profiles"] = profile(bench, profile_dir / kind, calls=PROFILED_CALLS)
        return figures


# -- profiling ------------------------------------------------------------------------------------------------
def profile(bench: Bench, out_dir: Path, *, calls: int) -> dict[str, Any]:
    """The bridge's Flask app built in this process from the sidecar's settings, driven through its test client
    with the same calls, one at a time, under pyinstrument: where a call's time goes inside the bridge (the
    WSGI server aside). Logs go, as JSON at INFO, to a file. Writes one text and one HTML profile per call."""
    from bridge.app import create_app

    with in_process(bench, "profiled-app.log") as settings:
        app = create_app(settings)
        return _profile_calls(bench, app, app.test_client(), out_dir, calls)


def _profile_calls(bench: Bench, app: Any, client: Any, out_dir: Path, calls: int) -> dict[str, Any]:
    tenant_id = bench.biller.tenant_id
    payors = add_payors(bench, 10)
    pending = pending_purchases(bench, add_payors(bench, 10, behaviour="processing"))

    def post(operation: str, body: dict[str, Any]) -> Any:
        raw = json.dumps(body, separators=(",", ":")).encode()
        response = client.post(f"/plugin/v1/{operation}", data=raw, headers={
            "Content-Type": "application/json", signature.HEADER: signature.sign(raw, bench.sidecar.plugin_secret)})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json

    settled: list[Purchase] = []

    def buy(number: int) -> None:
        body = purchase_body(tenant_id, payors[number % len(payors)])
        answer = post("purchasePayment", body)
        settled.append(Purchase(body["kbAccountId"], body["kbPaymentId"], answer["firstPaymentReferenceId"]))

    def info(purchases: Sequence[Purchase]) -> Callable[[int], None]:
        def one(number: int) -> None:
            chosen = purchases[number % len(purchases)]
            post("getPaymentInfo", payment_info_body(tenant_id, chosen.account_id, chosen.kb_payment_id))
        return one

    written: dict[str, Any] = {}
    for name, step in (("purchasePayment", buy), ("getPaymentInfo_settled", lambda n: info(settled)(n)),
                       ("getPaymentInfo_pending", info(pending))):
        for number in range(5):  # warm: connections, caches, first imports
            step(number)
        # Unprofiled, one call at a time: the call's time, and the CPU this process (the bridge alone: the
        # peers run elsewhere) spent on it, which other load on the machine barely changes.
        began, cpu_began = time.perf_counter(), time.process_time()
        with DatabaseWork() as work:
            for number in range(calls):
                step(number)
            app.extensions["bridge"].audit.flush()  # its background writes belong to these calls
        per_call_ms = (time.perf_counter() - began) / calls * 1000
        cpu_ms = (time.process_time() - cpu_began) / calls * 1000
        with profiled(out_dir / name) as text:
            for number in range(calls):
                step(number)
        database_work = work.per_call(calls)
        written[name] = {"sequential_ms_per_call": round(per_call_ms, 2), "cpu_ms_per_call": round(cpu_ms, 2),
                         "database_per_call": database_work, "profile": str(text.relative_to(report.ROOT))}
        print(f"{name}: in-process, one at a time: {per_call_ms:.2f} ms per call, {cpu_ms:.2f} ms CPU, "
              f"database work per call {database_work}; profile of {calls} calls → "
              f"{text.relative_to(report.ROOT)}", flush=True)
    return written


# -- output ---------------------------------------------------------------------------------------------------
CASES = (("purchasePayment", "purchasePayment"), ("getPaymentInfo_settled", "getPaymentInfo (settled)"),
         ("getPaymentInfo_pending", "getPaymentInfo (pending, force_sync)"))


def rows(figures: dict[str, Any]) -> Iterator[list[Any]]:
    for kind, by_case in figures.items():
        for key, label in CASES:
            case = by_case[key]
            for side in ("floor", "bridge"):
                s = case[side]
                extra = ([case["ratio_p50"], case["added_p50_ms"], case["added_p99_ms"], case["throughput_ratio"],
                          s["web_cpu_ms_per_call"]] if side == "bridge" else ["", "", "", "", ""])
                yield [kind, label, side, s["calls"], s["errors"], s["p50_ms"], s["p99_ms"], s["per_second"], *extra]


HEADERS = ("database", "call", "path", "calls", "errors", "p50 ms", "p99 ms", "calls/s", "p50 ×", "+p50 ms",
           "+p99 ms", "throughput ×", "CPU ms/call")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.plugin_calls", description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=(*DATABASES, "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="small sizes: check that everything runs")
    parser.add_argument("--profile", action="store_true",
                        help="also profile the calls in-process (pyinstrument) into benchmarks/results/profiles/")
    parser.add_argument("--calls", type=int, default=None, help="timed calls per side and case (default: by size)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    if args.calls:
        sizes = replace(sizes, purchases=args.calls, payment_infos=args.calls)
    kinds = DATABASES if args.database == "both" else (args.database,)
    profile_dir = report.RESULTS / "profiles" if args.profile else None
    figures = {kind: run(kind, sizes, profile_dir=profile_dir) for kind in kinds}
    print(report.table(list(rows(figures)), HEADERS))
    report.write("plugin_calls", {"quick": args.quick, "sizes": sizes.__dict__, **figures})
    failed = sum(case[side]["errors"] for by_case in figures.values() for key, _ in CASES
                 for case in [by_case[key]] for side in ("floor", "bridge"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
