"""The stack a benchmark measures: both simulators, the bridge (gunicorn + job workers) and one biller mapped
between them, on SQLite (a file) or PostgreSQL (a fresh database on the benchmark server: its own cluster on
port 15434 with PostgreSQL's default durability, unlike the test server)."""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Engine, event

from benchmarks.report import ROOT
from bridge.logs import configure_logging
from bridge.payment_methods.sources import PROP_MANDATE
from bridge.payments import ids
from bridge.settings import Settings, load_settings
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


# -- the bridge's own code in the benchmark's process, for profiles -------------------------------------------
@contextmanager
def in_process(bench: Bench, log_name: str) -> Iterator[Settings]:
    """The sidecar's settings, for building its app or its worker in this process (a profile then sees the
    bridge's code, not a process boundary): its environment while the block runs, and its logs, JSON at INFO as
    in production, to ``log_name`` in the work directory."""
    saved = dict(os.environ)
    os.environ.update({k: v for k, v in bench.sidecar.env.items() if k.startswith("BRIDGE_")})
    try:
        with (bench.work_dir / log_name).open("a") as log_file:
            settings = load_settings()
            configure_logging(settings.log_level, settings.log_format, stream=log_file)
            try:
                yield settings
            finally:
                logging.getLogger().handlers.clear()
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def profiled(stem: Path) -> Iterator[Path]:
    """pyinstrument over the block, its profile written to ``stem``.txt (returned) and ``stem``.html."""
    from pyinstrument import Profiler

    stem.parent.mkdir(parents=True, exist_ok=True)
    text = stem.with_suffix(".txt")
    profiler = Profiler(interval=0.0005)
    profiler.start()
    try:
        yield text
    finally:
        profiler.stop()
        text.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
        stem.with_suffix(".html").write_text(profiler.output_html())


class DatabaseWork:
    """What every engine of this process sends the database while it is open: transactions begun and
    statements by their first word (SQLite's ``BEGIN IMMEDIATE`` is one). A count, unlike a timing, is the
    same however busy the machine is."""

    def __init__(self) -> None:
        self.transactions = 0
        self.statements: Counter[str] = Counter()

    def _begun(self, _conn: Any) -> None:
        self.transactions += 1

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements[statement.lstrip().split(None, 1)[0].upper()] += 1

    def __enter__(self) -> DatabaseWork:
        event.listen(Engine, "begin", self._begun)
        event.listen(Engine, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(Engine, "begin", self._begun)
        event.remove(Engine, "before_cursor_execute", self._statement)

    def per_call(self, calls: int) -> dict[str, float]:
        counts = {"transactions": self.transactions, **dict(sorted(self.statements.items()))}
        return {key: round(value / calls, 2) for key, value in counts.items()}



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
