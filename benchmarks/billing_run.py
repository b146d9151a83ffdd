"""Benchmark 4: a billing run under the pay-by-link policy, from Kill Bill's commit to the payors' mailboxes.

    python -m benchmarks.billing_run [--database sqlite|postgresql|both] [--quick] [--invoices N] [--workers 1 2]
                                     [--profile]

For each job-worker count (one, then two), on a new stack each time (tests/stack.py: gunicorn, ``bridge worker``
processes, both simulators, a real SMTP server (aiosmtpd) as the mail sink):

1. set-up, not timed: ``invoices`` accounts tagged AUTO_PAY_OFF (Kill Bill will not charge them: the tenant's
   pay-by-link policy sends them a link) are loaded into the Kill Bill simulator in one call, without the push
   notifications of their creation (they would have been processed long before a billing run);
2. timed: the Kill Bill simulator commits one invoice per account at once (``POST /__sim/billing-run``) and
   pushes INVOICE_CREATION for each to the bridge's callback, as Kill Bill does; the bridge stores each push,
   its worker re-reads the invoice, the account and its tags in Kill Bill, opens the invoice's pay link, queues
   the ``pay_link`` email and schedules the reminders, and a send job renders the email and hands it to SMTP;
3. the run ends when every invoice has its email and the bridge has nothing left to do now (no due job, no
   push in flight); then every email is checked: each invoice got exactly one, to its payor, with a ``/pay``
   link (a miss, a duplicate or a link-less email is an error), and a sample of links is followed: the page
   shows the invoice and "Pay" makes a Hyperswitch payment link for its balance.

Figures: end-to-end time (commit → last email received) and invoices per second over it, the time to the
first email, the p50/p99 of the per-invoice delay (commit → its email received), where that delay goes
(Kill Bill's push delivery, the bridge's event job, the wait for a send job, sending), the CPU seconds each
process used, the push and job counts, and the resident memory of the bridge's processes at the end.

``--profile`` also works a billing run's backlog through a job worker built in this process (the stack's own
stopped): once timed, with its CPU and database work per invoice, once under pyinstrument, the profile written
to benchmarks/results/profiles/.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil
import requests
from sqlalchemy import func, select

from benchmarks import report
from benchmarks.stacks import (
    DATABASES,
    Bench,
    DatabaseWork,
    bench_stack,
    database,
    in_process,
    profiled,
    resident_memory,
)
from bridge.db.engine import make_engine, make_session_factory, session_scope
from bridge.db.invoices import Message, MessageStatus, PayLink
from bridge.db.jobs import Job, JobState
from bridge.db.webhooks import EventSource, InboundEvent
from bridge.invoices import notices
from bridge.simulators.smtp import Received
from tests.stack import eventually

NAME = "billing_run"
AMOUNT = Decimal("19.99")
CURRENCY = "USD"
FULL_INVOICES, QUICK_INVOICES = 10_000, 300
PROFILED_INVOICES = 300
WORKER_COUNTS = (1, 2)
# The run has failed when no email arrived for this long while some are still missing.
STALL_SECONDS = 90.0
# After the last expected email: how long to wait for the bridge to go idle (a duplicate would show meanwhile).
SETTLE_SECONDS = 60.0
SAMPLE_LINKS = 10
PAY_PATH = re.compile(r"(/pay/[A-Za-z0-9._-]+)")


# -- set-up ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Payor:
    account_id: str
    email: str


def load_payors(bench: Bench, count: int) -> list[Payor]:
    """``count`` AUTO_PAY_OFF accounts in the biller's Kill Bill tenant, each with its own email address."""
    run = uuid.uuid4().hex[:8]
    accounts = [{"name": f"Payor {n}", "email": f"payor-{run}-{n}@example.com", "currency": CURRENCY,
                 "externalKey": f"payor-{run}-{n}", "locale": "en_US"} for n in range(count)]
    loaded = bench.killbill.control("POST", f"/tenants/{bench.biller.tenant_id}/accounts",
                                    json={"accounts": accounts, "tags": ["AUTO_PAY_OFF"]})
    return [Payor(row["accountId"], data["email"]) for row, data in zip(loaded, accounts, strict=True)]


# -- checking the emails -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Invoice:
    invoice_id: str
    account_id: str
    number: int


@dataclass
class EmailCheck:
    """Every invoice should have exactly one email, to its payor, with a /pay link."""

    invoices: int
    with_one_email: int = 0
    missing: list[str] = field(default_factory=list)  # invoice ids without an email
    duplicated: list[str] = field(default_factory=list)  # invoice ids with more than one
    without_link: list[str] = field(default_factory=list)  # invoice ids whose email had no /pay link
    unexpected: int = 0  # emails to nobody of the run, or about another invoice than the payor's
    # Invoice id → (its email's arrival, the /pay path of its link), for the invoices that got one.
    delivered: dict[str, tuple[datetime, str]] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return len(self.missing) + len(self.duplicated) + len(self.without_link) + self.unexpected

    def as_dict(self) -> dict[str, Any]:
        return {"invoices": self.invoices, "with_exactly_one_email": self.with_one_email,
                "missing": len(self.missing), "duplicated": len(self.duplicated),
                "without_link": len(self.without_link), "unexpected": self.unexpected, "errors": self.errors}


def check_emails(received: Iterable[Received], invoices: Sequence[Invoice], payors: Mapping[str, Payor],
                 base_url: str) -> EmailCheck:
    """Match each email to its invoice by recipient (one invoice per payor) and subject (the invoice number)."""
    by_email = {payors[i.account_id].email: i for i in invoices}
    found: dict[str, list[tuple[datetime, str | None]]] = {i.invoice_id: [] for i in invoices}
    check = EmailCheck(len(invoices))
    link = re.compile(re.escape(base_url.rstrip("/")) + PAY_PATH.pattern)
    for message in received:
        invoice = by_email.get(message.rcpt_tos[0]) if len(message.rcpt_tos) == 1 else None
        email = message.email
        if invoice is None or f"invoice {invoice.number} " not in f"{email['Subject']} ":
            check.unexpected += 1
            continue
        text = email.get_body(("plain",))
        path = link.search(text.get_content() if text is not None else "")
        found[invoice.invoice_id].append((message.received_at, path.group(1) if path else None))
    for invoice_id, emails in found.items():
        if not emails:
            check.missing.append(invoice_id)
        elif len(emails) > 1:
            check.duplicated.append(invoice_id)
        elif emails[0][1] is None:
            check.without_link.append(invoice_id)
        else:
            check.with_one_email += 1
            at, path = emails[0]
            check.delivered[invoice_id] = (at, path)  # type: ignore[assignment]
    return check


def follow_links(bench: Bench, invoices: Sequence[Invoice], check: EmailCheck, sample: int = SAMPLE_LINKS) -> dict[str, int]:
    """Open a sample of the emailed links: the page shows the invoice, and "Pay" (a POST) redirects to a
    Hyperswitch payment link for the invoice's balance, made in the Hyperswitch simulator."""
    delivered = [i for i in invoices if i.invoice_id in check.delivered]
    step = max(1, len(delivered) // sample) if delivered else 1
    chosen = delivered[::step][:sample]
    ok = 0
    with requests.Session() as http:
        for invoice in chosen:
            path = check.delivered[invoice.invoice_id][1]
            page = http.get(bench.sidecar.url + path, timeout=30)
            paid = http.post(bench.sidecar.url + path, timeout=30, allow_redirects=False)
            ok += (page.status_code == 200 and f"{invoice.number}" in page.text and paid.status_code == 303
                   and bool(paid.headers.get("Location")))
    links = {p["metadata"].get("kb_invoice_id"): p for p in bench.hyperswitch.control(
        "GET", "/payments", params={"merchant_id": bench.biller.merchant_id}) if p.get("metadata")}
    minor = int(AMOUNT * 100)
    in_hyperswitch = sum(1 for i in chosen if (links.get(i.invoice_id) or {}).get("amount") == minor)
    return {"followed": len(chosen), "pages_and_redirects_ok": ok, "hyperswitch_links_for_the_balance": in_hyperswitch}


# -- watching the run --------------------------------------------------------------------------------------
class BridgeDatabase:
    """Read-only looks at the bridge's tables while it runs and after."""

    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url)
        self.sessions = make_session_factory(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def busy_jobs(self) -> int:
        """Jobs due now or running (the reminders scheduled for later days do not count)."""
        now = datetime.now(UTC)
        with session_scope(self.sessions) as session:
            return session.scalar(select(func.count()).select_from(Job).where(
                (Job.state == JobState.RUNNING) | ((Job.state == JobState.PENDING) & (Job.run_at <= now)))) or 0

    def job_counts(self) -> dict[str, int]:
        with session_scope(self.sessions) as session:
            rows = session.execute(select(Job.kind, Job.state, func.count(), func.sum(Job.attempts))
                                   .group_by(Job.kind, Job.state)).all()
        counts: Counter[str] = Counter()
        for kind, state, count, attempts in rows:
            counts[f"{kind}:{state.value}"] += count
            if state is JobState.DONE:
                counts["extra_attempts"] += (attempts or 0) - count
        return dict(sorted(counts.items()))

    def stage_times(self, tenant_id: str) -> dict[str, tuple[datetime, datetime | None, datetime | None]]:
        """Invoice id → (push stored, event processed, send job started) for the run's pay_link emails."""
        with session_scope(self.sessions) as session:
            events = {row.object_id: (row.received_at, row.processed_at) for row in session.execute(
                select(InboundEvent.object_id, InboundEvent.received_at, InboundEvent.processed_at).where(
                    InboundEvent.source == EventSource.KILLBILL, InboundEvent.kb_tenant_id == tenant_id,
                    InboundEvent.event_type == "INVOICE_CREATION"))}
            sends = dict(session.execute(select(Message.kb_invoice_id, Message.sent_at).where(
                Message.kb_tenant_id == tenant_id, Message.kind == notices.PAY_LINK,
                Message.status == MessageStatus.SENT)).all())
            links = session.scalar(select(func.count()).select_from(PayLink).where(PayLink.kb_tenant_id == tenant_id))
        times = {invoice: (_utc(stored), _utc(processed), _utc(sends.get(invoice)))
                 for invoice, (stored, processed) in events.items() if invoice is not None}
        self.pay_links = links or 0
        return times  # type: ignore[return-value]


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _push_idle(bench: Bench) -> bool:
    response = bench.killbill.http.post(f"{bench.killbill.url}/__sim/wait-idle", json={"timeout": 0.01}, timeout=30)
    return response.status_code == 200


def wait_for_emails(bench: Bench, db: BridgeDatabase, expected: int) -> bool:
    """Until ``expected`` emails arrived and the bridge is idle; False when the run stalled."""
    assert bench.smtp is not None
    seen, last_progress = 0, time.monotonic()
    while True:
        count = len(bench.smtp.handler.received)
        if count != seen:
            seen, last_progress = count, time.monotonic()
        if count >= expected:
            break
        if time.monotonic() - last_progress > STALL_SECONDS:
            return False
        time.sleep(0.25)
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        if _push_idle(bench) and db.busy_jobs() == 0:
            return True
        time.sleep(0.5)
    return False


# -- CPU of each process -------------------------------------------------------------------------------------
def processes(bench: Bench) -> dict[str, list[psutil.Process]]:
    web = psutil.Process(bench.sidecar.services["web"].pid)
    found = {"bridge_web": [web, *web.children(recursive=True)],
             "killbill_simulator": [psutil.Process(bench.killbill.service.pid)],
             "hyperswitch_simulator": [psutil.Process(bench.hyperswitch.service.pid)],
             "benchmark_and_smtp_sink": [psutil.Process()]}
    for worker in bench.sidecar.workers:
        found[f"bridge_{worker.name.replace('-', '_')}"] = [psutil.Process(worker.pid)]
    return found


def cpu_seconds(groups: Mapping[str, list[psutil.Process]]) -> dict[str, float]:
    return {name: sum(p.cpu_times().user + p.cpu_times().system for p in group) for name, group in groups.items()}


# -- the timed part ------------------------------------------------------------------------------------------
def _seconds(values: Iterable[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"p50_s": 0.0, "p99_s": 0.0}
    return {"p50_s": round(report.percentile(ordered, 0.50), 3), "p99_s": round(report.percentile(ordered, 0.99), 3)}


def measure(bench: Bench, payors: Sequence[Payor]) -> dict[str, Any]:
    """Invoice every payor at once and follow the run to the last email; the figures (see the module)."""
    assert bench.smtp is not None, "the billing run needs the SMTP sink (bench_stack(smtp=True))"
    db = BridgeDatabase(bench.sidecar.database_url)
    try:
        groups = processes(bench)
        cpu_before = cpu_seconds(groups)
        emails_before = len(bench.smtp.handler.received)
        began = time.perf_counter()
        run = bench.killbill.control("POST", "/billing-run", json={
            "tenantId": bench.biller.tenant_id, "amount": str(AMOUNT), "description": "Pro plan, monthly",
            "accountIds": [p.account_id for p in payors]})
        call_seconds = time.perf_counter() - began
        committed = datetime.fromisoformat(run["committedAt"])
        invoices = [Invoice(row["invoiceId"], row["accountId"], row["invoiceNumber"]) for row in run["invoices"]]
        settled = wait_for_emails(bench, db, emails_before + len(invoices))
        cpu_after = cpu_seconds(groups)
        received = bench.smtp.received[emails_before:]
        check = check_emails(received, invoices, {p.account_id: p for p in payors}, bench.sidecar.url)
        stages = db.stage_times(bench.biller.tenant_id)
        figures = _figures(committed, check, stages)
        figures.update(
            settled=settled, billing_run_call_s=round(call_seconds, 3), emails=check.as_dict(),
            pay_links=db.pay_links, jobs=db.job_counts(),
            cpu_s={name: round(cpu_after[name] - cpu_before[name], 1) for name in cpu_after},
            links=follow_links(bench, invoices, check))
        figures["errors"] = check.errors + (0 if settled else 1)
        return figures
    finally:
        db.close()


def _figures(committed: datetime, check: EmailCheck, stages: Mapping[str, tuple[Any, Any, Any]]) -> dict[str, Any]:
    arrivals = {invoice: at for invoice, (at, _path) in check.delivered.items()}
    delays = [(at - committed).total_seconds() for at in arrivals.values()]
    last = max(delays, default=0.0)
    push, event, wait, send = [], [], [], []
    for invoice, (stored, processed, started) in stages.items():
        push.append((stored - committed).total_seconds())
        if processed is not None:
            event.append((processed - stored).total_seconds())
        if processed is not None and started is not None:
            wait.append((started - processed).total_seconds())
        if started is not None and invoice in arrivals:
            send.append((arrivals[invoice] - started).total_seconds())
    return {
        "invoices": check.invoices, "end_to_end_s": round(last, 2),
        "invoices_per_second": round(check.with_one_email / last, 1) if last else 0.0,
        "first_email_s": round(min(delays, default=0.0), 2), "last_email_s": round(last, 2),
        "delay": _seconds(delays),
        "last_push_stored_s": round(max(push, default=0.0), 2),
        # Where an invoice's delay goes: commit → push stored in the bridge → event processed (queue wait
        # included) → its send job started → email received by the SMTP server.
        "stages": {"push_delivery": _seconds(push), "event_job": _seconds(event), "send_job_wait": _seconds(wait),
                   "sending": _seconds(send)},
    }


# -- one configuration on a new stack -------------------------------------------------------------------------
def billing_run(database_url: str, *, invoices: int, job_workers: int) -> dict[str, Any]:
    """A new stack on ``database_url``, ``invoices`` payors loaded, the run measured, memory recorded."""
    with bench_stack(database_url, job_workers=job_workers, smtp=True) as bench:
        began = time.perf_counter()
        payors = load_payors(bench, invoices)
        setup_seconds = time.perf_counter() - began
        figures = {"job_workers": job_workers, "setup_s": round(setup_seconds, 2), **measure(bench, payors)}
        figures["memory_mib"] = resident_memory(bench.sidecar)
        return figures


def profile(bench: Bench, out_dir: Path, *, invoices: int) -> dict[str, Any]:
    """A billing run's backlog (``invoices`` pushes stored, nothing processed) worked through by one job worker
    built in this process from the sidecar's settings, the stack's workers stopped: first timed, with the CPU the
    worker's thread spent and the database work, per invoice; then a second run's under pyinstrument."""
    from bridge.jobs.catalog import build_worker
    from bridge.runtime import Runtime

    assert bench.smtp is not None
    for service in bench.sidecar.workers:
        service.stop()
    written: dict[str, Any] = {}
    with in_process(bench, "profiled-worker.log") as settings:
        worker = build_worker(Runtime.from_settings(settings))
        for profiling in (False, True):
            payors = load_payors(bench, invoices)
            bench.killbill.control("POST", "/billing-run", json={
                "tenantId": bench.biller.tenant_id, "amount": str(AMOUNT), "description": "Pro plan, monthly",
                "accountIds": [p.account_id for p in payors]})
            eventually(lambda: _push_idle(bench), "the billing run's pushes to be stored", timeout=300)
            emails_before = len(bench.smtp.handler.received)
            if profiling:
                with profiled(out_dir / "billing_run_worker") as text:
                    worker.run_until_idle()
                written["profile"] = str(text.relative_to(report.ROOT))
                continue
            began, cpu_began = time.perf_counter(), time.thread_time()  # the worker runs in this thread
            with DatabaseWork() as work:
                jobs = worker.run_until_idle()
            seconds, cpu = time.perf_counter() - began, time.thread_time() - cpu_began
            emails = len(bench.smtp.handler.received) - emails_before
            written.update(invoices=invoices, emails=emails, jobs_per_invoice=round(jobs / invoices, 2),
                           ms_per_invoice=round(seconds / invoices * 1000, 2),
                           cpu_ms_per_invoice=round(cpu / invoices * 1000, 2),
                           database_per_invoice=work.per_call(invoices))
            print(f"one in-process worker: {written['ms_per_invoice']} ms and {written['cpu_ms_per_invoice']} ms "
                  f"CPU per invoice ({jobs} jobs, {emails} emails), database work per invoice "
                  f"{written['database_per_invoice']}", flush=True)
    print(f"profile → {written['profile']}", flush=True)
    return written


def run_database(kind: str, *, invoices: int, worker_counts: Sequence[int]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for workers in worker_counts:
        with tempfile.TemporaryDirectory(prefix="bridge-billing-") as temp, database(kind, Path(temp)) as url:
            results[f"{workers}_worker{'s' if workers > 1 else ''}"] = billing_run(url, invoices=invoices,
                                                                                 job_workers=workers)
    return results


def _rows(figures: Mapping[str, Any]) -> list[list[Any]]:
    rows = []
    for kind, runs in figures.items():
        if kind not in DATABASES:
            continue
        for label, run in runs.items():
            stages = run["stages"]
            rows.append([kind, label, run["invoices"], run["end_to_end_s"], run["invoices_per_second"],
                         run["first_email_s"], run["delay"]["p50_s"], run["delay"]["p99_s"],
                         stages["push_delivery"]["p99_s"], stages["event_job"]["p50_s"],
                         stages["send_job_wait"]["p50_s"], f"{run['emails']['with_exactly_one_email']}/{run['invoices']}",
                         run["errors"]])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.billing_run", description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=(*DATABASES, "both"), default="both")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_INVOICES} invoices instead of {FULL_INVOICES}")
    parser.add_argument("--invoices", type=int, default=None, help="invoices per run (overrides --quick)")
    parser.add_argument("--workers", type=int, nargs="+", default=list(WORKER_COUNTS), help="job-worker counts")
    parser.add_argument("--profile", action="store_true",
                        help=f"only profile the worker on {PROFILED_INVOICES} invoices (benchmarks/results/profiles/)")
    args = parser.parse_args(argv)
    if args.profile:
        return _profile_main(DATABASES if args.database == "both" else (args.database,))
    invoices = args.invoices or (QUICK_INVOICES if args.quick else FULL_INVOICES)
    kinds = DATABASES if args.database == "both" else (args.database,)
    figures: dict[str, Any] = {"quick": args.quick, "amount": str(AMOUNT)}
    for kind in kinds:
        figures[kind] = run_database(kind, invoices=invoices, worker_counts=args.workers)
    print(report.table(_rows(figures), ["database", "workers", "invoices", "end-to-end s", "invoices/s",
                                        "first email s", "delay p50 s", "delay p99 s", "push p99 s",
                                        "event job p50 s", "send wait p50 s", "one email each", "errors"]))
    report.write(NAME, figures)
    errors = sum(run["errors"] for kind in kinds for run in figures[kind].values())
    return 1 if errors else 0


def _profile_main(kinds: Sequence[str]) -> int:
    figures: dict[str, Any] = {}
    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix="bridge-billing-") as temp, database(kind, Path(temp)) as url, \
                bench_stack(url, job_workers=1, smtp=True) as bench:
            figures[kind] = profile(bench, report.RESULTS / "profiles" / kind, invoices=PROFILED_INVOICES)
    report.write(f"{NAME}_profile", figures)
    return 0 if all(f["emails"] == PROFILED_INVOICES for f in figures.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
