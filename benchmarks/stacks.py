"""The stack a benchmark measures: both simulators, the bridge (gunicorn + job workers) and one biller mapped
between them, on SQLite (a file) or PostgreSQL (a fresh database on the benchmark server: its own cluster on
port 15434 with PostgreSQL's default durability, unlike the test server)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from benchmarks.report import ROOT
from bridge.payment_methods.sources import PROP_MANDATE
from bridge.payments import ids
from bridge.simulators.payors import save_card
from bridge.simulators.smtp import SmtpSink
from killbill_client.models import Account
from tests.stack import (
    PLUGIN_NAME,
    PostgresServer,
    Sidecar,
    SimulatedBiller,
    Simulator,
    map_biller,
)

DATABASES = ("sqlite", "postgresql")
BENCH_PG = {"BRIDGE_PG_DIR": "/tmp/bridge-bench-pg", "BRIDGE_PG_PORT": "15434", "BRIDGE_PG_DURABLE": "true"}


def postgres_server() -> PostgresServer:
    """The benchmark PostgreSQL server, started unless it runs (``scripts/test-postgres`` with BENCH_PG)."""
    url = subprocess.run([str(ROOT / "scripts" / "test-postgres"), "start"], env={**os.environ, **BENCH_PG},
                         capture_output=True, text=True, check=True).stdout.strip()
    return PostgresServer(url)


def stop_postgres() -> None:
    subprocess.run([str(ROOT / "scripts" / "test-postgres"), "stop"], env={**os.environ, **BENCH_PG}, check=False)


@contextmanager
def database(kind: str, work_dir: Path) -> Iterator[str]:
    """A new, empty database of ``kind`` ("sqlite" or "postgresql"), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{work_dir / 'bridge.db'}"
        return
    server = postgres_server()
    url = server.create_database("bridge_bench")
    try:
        yield url
    finally:
        server.drop_database(url)
        server.admin.dispose()


@dataclass
class Bench:
    work_dir: Path
    hyperswitch: Simulator
    killbill: Simulator
    sidecar: Sidecar
    biller: SimulatedBiller
    smtp: SmtpSink | None


def resident_memory(sidecar: Sidecar) -> dict[str, float]:
    """Resident memory (MiB) of each web worker (gunicorn's children, not its master) and job worker."""
    figures: dict[str, float] = {}
    web = psutil.Process(sidecar.services["web"].pid)
    for number, child in enumerate(sorted(web.children(), key=lambda p: p.pid), start=1):
        figures[f"web_worker_{number}_mib"] = _mib(child)
    for service in sidecar.workers:
        if service.alive():
            figures[f"{service.name.replace('-', '_')}_mib"] = _mib(psutil.Process(service.pid))
    return figures


def _mib(process: psutil.Process) -> float:
    return round(process.memory_info().rss / 1024 / 1024, 1)


@contextmanager
def bench_stack(database_url: str, *, web_workers: int = 2, job_workers: int = 1, smtp: bool = False,
                env: Mapping[str, str] | None = None, biller_settings: Mapping[str, Any] | None = None,
                work_dir: Path | None = None) -> Iterator[Bench]:
    """Start everything on ``database_url`` (from :func:`database`, or one a benchmark filled itself)."""
    with tempfile.TemporaryDirectory(prefix="bridge-bench-") as temp:
        work = work_dir or Path(temp)
        sink = SmtpSink() if smtp else None
        started: list[Any] = []
        try:
            if sink:
                sink.start()
                started.append(sink)
            hyperswitch = Simulator.start("hyperswitch", work)
            started.append(hyperswitch)
            killbill = Simulator.start("killbill", work)
            started.append(killbill)
            sidecar = Sidecar.start(work, database_url=database_url, smtp_port=sink.port if sink else None,
                                    web_workers=web_workers, job_workers=job_workers,
                                    # Production's logging: JSON lines at INFO.
                                    env={"BRIDGE_LOG_FORMAT": "json", **(env or {})})
            started.append(sidecar)
            biller = map_biller(sidecar, hyperswitch, killbill, settings=biller_settings)
            started.append(biller)
            yield Bench(work, hyperswitch, killbill, sidecar, biller, sink)
        finally:
            for thing in reversed(started):
                thing.close() if isinstance(thing, SimulatedBiller) else thing.stop()


# -- payors: accounts paying with the plugin, set up outside any timed part ----------------------------------
SETUP_THREADS = 4


@dataclass(frozen=True)
class Payor:
    """A Kill Bill account whose default payment method holds a Hyperswitch mandate."""

    account_id: str
    customer_id: str
    kb_payment_method_id: str
    mandate_id: str


def add_payors(bench: Bench, count: int, *, behaviour: str | None = None) -> list[Payor]:
    """``count`` accounts with a card saved in Hyperswitch and its mandate added as their default payment
    method through Kill Bill (which calls the bridge's addPaymentMethod), a few at a time. ``behaviour`` is
    how the simulated processor answers charges on the mandate (e.g. ``processing``: they stay PENDING)."""
    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        return list(pool.map(lambda number: add_payor(bench, number, behaviour), range(count)))


def add_payor(bench: Bench, number: int, behaviour: str | None = None) -> Payor:
    account = bench.biller.kb.accounts.create(Account(
        name=f"Payor {number}", email=f"payor-{uuid.uuid4().hex[:10]}@example.test", currency="USD",
        external_key=f"bench-{uuid.uuid4().hex[:12]}"))
    assert account.account_id is not None
    customer_id = ids.customer_id(account.account_id)
    _, mandate_id = save_card(bench.biller.hs, customer_id, currency="USD", holder=f"Payor {number}")
    assert mandate_id is not None
    method = bench.biller.kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True,
                                                 plugin_info_properties={PROP_MANDATE: mandate_id})
    assert method.payment_method_id is not None
    if behaviour:
        bench.hyperswitch.control("POST", f"/mandates/{mandate_id}/behaviour", json={"outcome": behaviour})
    return Payor(str(account.account_id), customer_id, str(method.payment_method_id), mandate_id)
