"""Benchmark 3's data: a PostgreSQL database already holding what a busy bridge stores in up to a year.

``generate`` fills a migrated database with N Kill Bill transactions and N inbound webhook events
(1,000,000 of each for the benchmark), written the way the bridge itself writes them, then VACUUM ANALYZEs
it and takes a checkpoint, so what is measured next starts from a settled database:

- the tenants are created through the bridge's own code (``create_tenant``): their secrets are Fernet tokens
  under the master key the benchmark's bridge runs with; nothing secret is ever written in plain text;
- the volume tables are COPYed through psycopg, one connection per table, their indexes and constraints
  dropped during the load and rebuilt afterwards from their own definitions: payments, their transactions
  and the history row the bridge appends at every status change, the Hyperswitch audit row of every call
  made for them, customers, payment methods, payments linked by pay-by-link, Hyperswitch webhooks and
  Kill Bill push notifications already processed, the jobs that processed them, the Kill Bill syncs and the
  sweeper's periodic runs;
- every payload is one the bridge stored in a run of ``bridge demo`` (the simulators' real answers, redacted
  by the real client), with the row's own ids, amounts and times put in;
- the mix: tenants of Zipf-like sizes, about ten payments per account over the span (a year at 1,000,000),
  mostly final (paid, declined then retried, declined three times, refunded, paid by link, settled later by
  a webhook, refused before sending), a few PENDING and UNDEFINED ones in the last days. Those are younger
  than their tenants' sweeper age (``stale_after_minutes`` = 7 days), so the benchmark's sweeper reads them
  but calls no Hyperswitch for tenants the simulator does not serve.

Left out: authorize/capture/void, credits, disputes, and the invoice flow's own tables (pay links, messages,
lump sums; benchmark 4 measures that flow).

    python -m benchmarks.bulk [--rows N] [--quick] [--keep]

makes a database on the benchmark PostgreSQL server, fills it, prints the rows per second and its size,
and drops it (``--keep`` keeps it, with the tenants' secrets under ``BRIDGE_MASTER_KEYS``, which must be set).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import random
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import psycopg
from psycopg.copy import QueuedLibpqWriter

import bridge.db.models  # noqa: F401  (every table in Base.metadata)
from benchmarks.report import table
from bridge.db import migrate
from bridge.db.base import Base
from bridge.db.engine import make_engine, make_session_factory, session_scope
from bridge.edges.urls import UrlPolicy
from bridge.payments import ids
from bridge.tenancy.crypto import Keyring, generate_key
from bridge.tenancy.schemas import TenantCreate
from bridge.tenancy.service import create_tenant
from hyperswitch_client import currency_exponent

FULL = 1_000_000
QUICK = 20_000
TRANSACTIONS_PER_TENANT = 5_000  # 200 tenants at 1,000,000
MAX_TENANTS = 200
PAYMENTS_PER_ACCOUNT = 10  # a monthly plan, most of a year
OPEN_WINDOW_DAYS = 6  # PENDING/UNDEFINED rows are younger than this...
SWEEPER_AGE_MINUTES = 7 * 24 * 60  # ...and the generated tenants' sweeper re-reads them only after 7 days
SWEEP_EVERY_SECONDS = 300  # bridge.payments.sweeper.SWEEP_EVERY_SECONDS: one periodic job per slot
UNREACHABLE = "http://127.0.0.1:9"  # the generated tenants' peers: the discard port, refused at once

# The tables COPY fills, in the order their rows are written.
VOLUME_TABLES = ("hs_customers", "payment_methods", "payments", "payment_transactions",
                 "payment_transaction_history", "linked_payments", "hyperswitch_calls", "inbound_events", "jobs")

N = "\\N"  # NULL in COPY's text format


# -- sizes ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Volume:
    transactions: int
    events: int

    @property
    def tenants(self) -> int:
        return min(MAX_TENANTS, max(4, self.transactions // TRANSACTIONS_PER_TENANT))

    @property
    def accounts(self) -> int:
        return max(self.tenants * 10, self.transactions // PAYMENTS_PER_ACCOUNT)

    @property
    def span_days(self) -> float:
        """A year at 1,000,000 transactions, proportionally less below (never under a week)."""
        return min(365.0, max(7.0, 365.0 * self.transactions / FULL))


# -- payloads from a run of `bridge demo` ---------------------------------------------------------------------
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z")
HS_EVENT_ID = re.compile(r"\bevt_[A-Za-z0-9]{20}\b")
SIGN_UP_PAYMENT = re.compile(r"\bpay_[A-Za-z0-9]{20}\b")  # the card's sign-up payment, not made for Kill Bill
MARK = "\x00"


def copy_text(value: str) -> str:
    """A text value in COPY's text format (JSON bodies hold backslashes)."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class Template:
    """A payload the demo stored, with the demo's own values marked; ``render`` puts a row's values in."""

    def __init__(self, text: str, names: Mapping[str, str], *, minor: int | None = None,
                 major: str | None = None, currency: str | None = None) -> None:
        marked = text
        for value, name in sorted(names.items(), key=lambda item: -len(item[0])):
            marked = marked.replace(value, f"{MARK}{name}{MARK}")
        marked = ISO_TIME.sub(f"{MARK}iso_time{MARK}", marked)
        marked = HS_EVENT_ID.sub(f"{MARK}event_id{MARK}", marked)
        marked = SIGN_UP_PAYMENT.sub(f"{MARK}sign_up_payment{MARK}", marked)
        if minor is not None:  # Hyperswitch: minor units under any *amount* key
            marked = re.sub(rf'("[a-z_]*amount[a-z_]*": ?-?){minor}(?=[,}}])', rf"\g<1>{MARK}minor{MARK}", marked)
        if major is not None:  # Kill Bill: major units in metaData, itself a JSON string
            marked = re.sub(rf'(\\"amount\\":-?){re.escape(major)}(?=[,}}])', rf"\g<1>{MARK}major{MARK}", marked)
        if currency is not None:  # "currency", "processedCurrency", in JSON or in Kill Bill's metaData string
            marked = re.sub(rf'(urrency\\?": ?\\?"){currency}(?=\\?")', rf"\g<1>{MARK}currency{MARK}", marked)
        self.parts = marked.split(MARK)
        # The same, ready for COPY's text format: the values put in never need escaping (ids, times, amounts).
        self.copy_parts = [part if index % 2 else copy_text(part) for index, part in enumerate(self.parts)]

    def render(self, values: Mapping[str, str]) -> str:
        return self._fill(self.parts, values)

    def render_copy(self, values: Mapping[str, str]) -> str:
        return self._fill(self.copy_parts, values)

    @staticmethod
    def _fill(template: list[str], values: Mapping[str, str]) -> str:
        parts = template.copy()
        for index in range(1, len(parts), 2):
            parts[index] = values[parts[index]]
        return "".join(parts)


@dataclass(frozen=True)
class EventSample:
    source: str
    event_type: str
    object_type: str | None
    object_name: str  # the value naming its object: hs_payment, hs_refund, payment, invoice, account, ...
    body: Template
    state: str
    outcome: Template


@dataclass(frozen=True)
class CallSample:
    method: str
    path: Template
    status: int | None
    error_kind: str | None
    error_code: str | None
    request: Template | None
    response: Template | None


@dataclass(frozen=True)
class Samples:
    events: dict[str, EventSample]
    calls: dict[str, CallSample]
    decline_code: str
    decline_message: str


def demo_samples(work_dir: Path) -> Samples:
    """Run ``bridge demo`` into ``work_dir`` and take its stored rows as the payloads' templates."""
    data_dir = Path(tempfile.mkdtemp(prefix="demo-", dir=work_dir))
    environment = {name: value for name, value in os.environ.items() if not name.startswith("BRIDGE_")}
    done = subprocess.run([str(Path(sys.executable).with_name("bridge")), "demo", "--non-interactive",
                           "--data-dir", str(data_dir)], env=environment, capture_output=True, text=True,
                          timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bridge demo failed, so there are no sample payloads:\n{done.stdout[-3000:]}"
                           f"{done.stderr[-3000:]}")
    database = sqlite3.connect(data_dir / "bridge.db")
    database.row_factory = sqlite3.Row
    try:
        return _Demo(database).samples()
    finally:
        database.close()


class _Demo:
    """The demo's story (bridge/demo/scenario.py) as rows: one transaction of each kind, its events, its calls."""

    def __init__(self, database: sqlite3.Connection) -> None:
        self.db = database
        tenant = self._one("SELECT * FROM tenants")
        self.tenant_names = {tenant["kb_tenant_id"]: "tenant", tenant["hs_merchant_id"]: "merchant",
                             tenant["hs_profile_id"]: "profile"}
        transactions = self.db.execute("SELECT * FROM payment_transactions ORDER BY id").fetchall()
        pended = {row["transaction_id"] for row in self.db.execute(
            "SELECT transaction_id FROM payment_transaction_history WHERE to_status = 'PENDING'")}

        def pick(what: str, test: Any) -> sqlite3.Row:
            found = [row for row in transactions if test(row)]
            if not found:
                raise RuntimeError(f"the demo made no {what} transaction: bridge/demo/scenario.py changed")
            return found[0]

        self.paid = pick("paid", lambda r: r["transaction_type"] == "PURCHASE" and r["status"] == "PROCESSED"
                         and not r["linked"] and r["id"] not in pended)
        self.declined = pick("declined", lambda r: r["transaction_type"] == "PURCHASE" and r["status"] == "ERROR")
        self.settled = pick("settled later", lambda r: r["id"] in pended and r["status"] == "PROCESSED")
        self.refund = pick("refund", lambda r: r["transaction_type"] == "REFUND" and r["status"] == "PROCESSED")
        self.linked = pick("linked", lambda r: r["linked"] and r["status"] == "PROCESSED")

    def _one(self, query: str, *args: Any) -> sqlite3.Row:
        row = self.db.execute(query, args).fetchone()
        if row is None:
            raise RuntimeError(f"the demo stored nothing for {query} {args}: bridge/demo/scenario.py changed")
        return row

    def names(self, txn: sqlite3.Row) -> dict[str, str]:
        """The demo's values a payload about ``txn`` may hold, and the name each stands for."""
        method = self._one("SELECT * FROM payment_methods WHERE kb_tenant_id = ? AND kb_account_id = ?",
                           txn["kb_tenant_id"], txn["kb_account_id"])
        values = {txn["kb_account_id"]: "account", txn["kb_payment_id"]: "payment",
                  txn["kb_transaction_id"]: "transaction", txn["kb_invoice_id"]: "invoice",
                  txn["hs_payment_id"]: "hs_payment", txn["hs_refund_id"]: "hs_refund",
                  txn["second_reference_id"]: "connector_reference", method["hs_customer_id"]: "customer",
                  method["hs_payment_method_id"]: "hs_payment_method", method["hs_mandate_id"]: "mandate",
                  **self.tenant_names}
        return {value: name for value, name in values.items() if value}

    def amounts(self, txn: sqlite3.Row) -> dict[str, Any]:
        amount = Decimal(str(txn["amount"]))
        exponent = currency_exponent(txn["currency"])
        return {"minor": int(amount.scaleb(exponent)), "major": f"{amount:.{exponent}f}", "currency": txn["currency"]}

    def event(self, key_txn: sqlite3.Row, event_type: str, object_id: str, contains: str = "") -> EventSample:
        row = self._one("SELECT * FROM inbound_events WHERE event_type = ? AND object_id = ? AND body LIKE ? "
                        "ORDER BY id", event_type, object_id, f"%{contains}%")
        names = self.names(key_txn)
        object_name = names.get(row["object_id"]) or ("sign_up_payment" if SIGN_UP_PAYMENT.fullmatch(
            row["object_id"]) else None)
        if object_name is None:
            raise RuntimeError(f"the demo's {event_type} event names {row['object_id']}, none of the transaction's ids")
        return EventSample(row["source"], row["event_type"], row["object_type"], object_name,
                           Template(row["body"], names, **self.amounts(key_txn)), row["state"],
                           Template(row["outcome"] or "", names))

    def call(self, txn: sqlite3.Row, method: str, path: str, contains: str = "") -> CallSample:
        row = self._one("SELECT * FROM hyperswitch_calls WHERE method = ? AND path = ? "
                        "AND COALESCE(request_body, '') LIKE ? ORDER BY id", method, path, f"%{contains}%")
        names, amounts = self.names(txn), self.amounts(txn)
        body = {name: Template(row[name], names, **amounts) if row[name] and row[name] != "null" else None
                for name in ("request_body", "response_body")}
        return CallSample(row["method"], Template(row["path"], names), row["status"], row["error_kind"],
                          row["error_code"], body["request_body"], body["response_body"])

    def samples(self) -> Samples:
        paid, declined, settled, refund, linked = self.paid, self.declined, self.settled, self.refund, self.linked
        customer = self._one("SELECT hs_customer_id FROM hs_customers WHERE kb_account_id = ?", paid["kb_account_id"])
        sign_up = self._one("SELECT object_id FROM inbound_events WHERE object_id LIKE 'pay\\_%' ESCAPE '\\' "
                            "AND body LIKE ? ORDER BY id", f"%{customer[0]}%")  # the card saved for that account
        events = {
            "hs:paid": self.event(paid, "payment_succeeded", paid["hs_payment_id"]),
            "hs:declined": self.event(declined, "payment_failed", declined["hs_payment_id"]),
            "hs:processing": self.event(settled, "payment_processing", settled["hs_payment_id"]),
            "hs:settled": self.event(settled, "payment_succeeded", settled["hs_payment_id"]),
            "hs:refunded": self.event(refund, "refund_succeeded", refund["hs_refund_id"]),
            "hs:linked": self.event(linked, "payment_succeeded", linked["hs_payment_id"]),
            "hs:sign_up": self.event(paid, "payment_succeeded", sign_up["object_id"]),
            "kb:account_creation": self.event(paid, "ACCOUNT_CREATION", paid["kb_account_id"]),
            "kb:account_change": self.event(paid, "ACCOUNT_CHANGE", paid["kb_account_id"]),
            "kb:invoice_creation": self.event(declined, "INVOICE_CREATION", declined["kb_invoice_id"]),
            "kb:invoice_creation_by_link": self.event(linked, "INVOICE_CREATION", linked["kb_invoice_id"]),
            "kb:payment_success": self.event(paid, "PAYMENT_SUCCESS", paid["kb_payment_id"],
                                             paid["kb_transaction_id"]),
            "kb:invoice_payment_success": self.event(paid, "INVOICE_PAYMENT_SUCCESS", paid["kb_invoice_id"],
                                                     '"invoicePaymentType\\":\\"ATTEMPT'),
            "kb:payment_failed": self.event(declined, "PAYMENT_FAILED", declined["kb_payment_id"]),
            "kb:invoice_payment_failed": self.event(declined, "INVOICE_PAYMENT_FAILED", declined["kb_invoice_id"]),
            "kb:payment_pending": self.event(settled, "PAYMENT_SUCCESS", settled["kb_payment_id"],
                                             '"status\\":\\"PENDING'),
            "kb:refund_success": self.event(refund, "PAYMENT_SUCCESS", refund["kb_payment_id"],
                                            refund["kb_transaction_id"]),
            "kb:invoice_refund_success": self.event(refund, "INVOICE_PAYMENT_SUCCESS", refund["kb_invoice_id"],
                                                    '"invoicePaymentType\\":\\"REFUND'),
        }
        calls = {
            "purchase:paid": self.call(paid, "POST", "/payments", paid["hs_payment_id"]),
            "purchase:declined": self.call(declined, "POST", "/payments", declined["hs_payment_id"]),
            "purchase:processing": self.call(settled, "POST", "/payments", settled["hs_payment_id"]),
            "refresh:settled": self.call(settled, "GET", f"/payments/{settled['hs_payment_id']}"),
            "refund": self.call(refund, "POST", "/refunds", refund["hs_refund_id"]),
            "link:check": self.call(linked, "GET", f"/payments/{linked['hs_payment_id']}"),
        }
        return Samples(events, calls, declined["gateway_error_code"], declined["gateway_error"])


# -- COPY ----------------------------------------------------------------------------------------------------
class CopyStream:
    """``COPY <table> FROM STDIN`` fed rows of ready COPY text fields, on ``connections`` connections taking
    batches in turn (PostgreSQL parses and compresses large JSON bodies in one process per connection). Each
    connection sends from a thread of its own, so generating rows never waits on the server."""

    FLUSH_ROWS = 2_000

    def __init__(self, url: str, name: str, columns: Sequence[str], stack: ExitStack, connections: int = 1) -> None:
        expected = {column.name for column in Base.metadata.tables[name].columns}
        if set(columns) != expected:  # a new column must be generated too, or the rows stop looking real
            raise RuntimeError(f"{name}: generated {sorted(columns)}, the table has {sorted(expected)}")
        self.name, self.rows, self._buffer, self._turn = name, 0, [], 0
        self._copies = []
        for _ in range(connections):
            connection = stack.enter_context(psycopg.connect(url))
            cursor = stack.enter_context(connection.cursor())
            self._copies.append(stack.enter_context(cursor.copy(
                f"COPY {name} ({', '.join(columns)}) FROM STDIN", writer=QueuedLibpqWriter(cursor))))

    def row(self, *fields: str) -> None:
        self._buffer.append("\t".join(fields))
        if len(self._buffer) >= self.FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            self.rows += len(self._buffer)
            self._copies[self._turn].write("\n".join(self._buffer) + "\n")
            self._turn = (self._turn + 1) % len(self._copies)
            self._buffer = []


# The tables with large JSON bodies (several KiB each) get two server processes.
COPY_CONNECTIONS = {"hyperswitch_calls": 2, "inbound_events": 2}

COLUMNS: dict[str, tuple[str, ...]] = {
    "hs_customers": ("kb_tenant_id", "kb_account_id", "hs_customer_id", "created_at"),
    "payment_methods": ("kb_tenant_id", "kb_payment_method_id", "kb_account_id", "hs_customer_id",
                        "hs_payment_method_id", "hs_mandate_id", "is_default", "state", "payment_method",
                        "card_network", "card_last4", "card_exp_month", "card_exp_year", "mandate_status",
                        "created_at", "updated_at"),
    "payments": ("kb_tenant_id", "kb_payment_id", "kb_account_id", "kb_payment_method_id", "currency",
                 "created_at"),
    "payment_transactions": ("id", "kb_tenant_id", "kb_account_id", "kb_payment_id", "kb_transaction_id",
                             "transaction_type", "amount", "processed_amount", "currency", "status",
                             "hs_payment_id", "hs_refund_id", "hs_status", "hs_expected_received",
                             "gateway_error_code", "gateway_error", "second_reference_id", "redirect_url",
                             "linked", "kb_invoice_id", "kb_reported_status", "in_flight_until", "attempted_at",
                             "created_at", "updated_at"),
    "payment_transaction_history": ("id", "transaction_id", "from_status", "to_status", "hs_status", "source",
                                    "detail", "created_at"),
    "linked_payments": ("kb_tenant_id", "hs_payment_id", "kb_transaction_id", "linked_minor", "details",
                        "created_at"),
    "hyperswitch_calls": ("id", "kb_tenant_id", "method", "path", "status", "latency_ms", "attempt",
                          "error_kind", "error_code", "request_body", "response_body", "started_at"),
    "inbound_events": ("id", "source", "kb_tenant_id", "event_key", "event_type", "object_type", "object_id",
                       "body", "state", "attempts", "outcome", "job_id", "received_at", "processed_at"),
    "jobs": ("id", "kind", "kb_tenant_id", "payload", "dedupe_key", "state", "attempts", "max_attempts",
             "run_at", "lease_token", "locked_by", "locked_until", "last_error", "last_traceback",
             "finished_at", "created_at", "updated_at"),
}


# Millions of timestamps, a dozen or so per second of the story: each second is formatted once.
_SECONDS: dict[int, str] = {}
_ISO_SECONDS: dict[int, str] = {}


def _formatted(cache: dict[int, str], seconds: int, pattern: str) -> str:
    text = cache.get(seconds)
    if text is None:
        if len(cache) > 50_000:
            cache.clear()
        text = cache[seconds] = time.strftime(pattern, time.gmtime(seconds))
    return text


def timestamp(micros: int) -> str:
    """A UTC instant (microseconds since the epoch) as COPY text for timestamptz."""
    seconds, fraction = divmod(micros, SECOND)
    return f"{_formatted(_SECONDS, seconds, '%Y-%m-%d %H:%M:%S')}.{fraction:06d}+00"


def iso_time(micros: int) -> str:
    """The same instant as Hyperswitch and Kill Bill write it in payloads."""
    seconds, fraction = divmod(micros, SECOND)
    return f"{_formatted(_ISO_SECONDS, seconds, '%Y-%m-%dT%H:%M:%S')}.{fraction // 1000:03d}Z"


BASE32 = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648's alphabet, lower case (bridge.payments.ids)


class RandomIds:
    """Ids of the peers' shapes from one seeded generator: ``uuid.UUID`` and ``base64`` are too slow for
    millions. Hyperswitch ids derived from Kill Bill ids are those of :mod:`bridge.payments.ids`."""

    PAIRS: ClassVar[list[str]] = [a + b for a in BASE32 for b in BASE32]  # 10 bits → two base32 characters

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def uuid(self) -> tuple[int, str]:
        """A version-4 UUID: its integer and its canonical text."""
        value = self.rng.getrandbits(128) & ~(0xF000 << 64) & ~(0xC000 << 48) | (0x4000 << 64) | (0x8000 << 48)
        text = f"{value:032x}"
        return value, f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    def kb_id(self) -> str:
        return self.uuid()[1]

    def token(self, prefix: str, length: int) -> str:
        """A random id such as Hyperswitch's ``pm_…`` or a connector's ``pi_…``."""
        return prefix + self.rng.randbytes((length + 1) // 2).hex()[:length]

    @classmethod
    def derive(cls, kind: ids.IdKind, value: int) -> str:
        """``bridge.payments.ids.derive`` of the UUID ``value``: the base32 of its 16 bytes, unpadded."""
        bits, pairs = value << 2, cls.PAIRS
        return f"{kind.value}_" + "".join(pairs[(bits >> shift) & 1023] for shift in range(120, -1, -10))


# -- the world: tenants and their accounts --------------------------------------------------------------------
@dataclass
class GeneratedTenant:
    kb_tenant_id: str
    merchant_id: str
    profile_id: str
    currency: str


@dataclass
class Account:
    tenant: GeneratedTenant
    kb_account_id: str
    hs_customer_id: str
    kb_payment_method_id: str
    hs_payment_method_id: str
    hs_mandate_id: str
    price: Decimal  # the plan: what each invoice asks
    seen: bool = False


# Plans in each currency's own units; the tenants' currencies in turn.
PRICES = {"USD": ("9.99", "19.00", "29.00", "49.90", "99.00", "249.00"),
          "EUR": ("9.00", "19.90", "39.00", "79.00", "149.00"),
          "GBP": ("8.00", "15.00", "45.00", "120.00"),
          "JPY": ("980", "1500", "4900", "12000")}
CURRENCIES = ("USD", "EUR", "USD", "GBP", "USD", "EUR", "JPY")
CARD_NETWORKS = ("Visa", "Visa", "Visa", "Mastercard", "Mastercard", "AmericanExpress")


def create_tenants(database_url: str, count: int, keyring: Keyring, rng: random.Random) -> list[GeneratedTenant]:
    """The generated tenants, mapped by the bridge's own code, their secrets random and encrypted."""
    engine = make_engine(database_url)
    tenants = []
    try:
        with session_scope(make_session_factory(engine)) as session:
            for number in range(count):
                tenant_id = RandomIds(rng).kb_id()
                merchant, profile = f"merchant_bulk_{number:03d}", f"pro_bulk_{number:03d}"
                create_tenant(session, TenantCreate(
                    kb_tenant_id=tenant_id, name=f"Bulk biller {number:03d}", killbill_url=UNREACHABLE,
                    kb_api_key=f"bulk-{number:03d}-{tenant_id[:8]}", kb_api_secret=secrets.token_urlsafe(24),
                    kb_username="admin", kb_password=secrets.token_urlsafe(16), hs_base_url=UNREACHABLE,
                    hs_merchant_id=merchant, hs_profile_id=profile, hs_api_key=f"snd_{secrets.token_hex(16)}",
                    hs_webhook_secret=secrets.token_urlsafe(48),
                    settings={"email": {"sender": f"billing@biller-{number:03d}.example"},
                              "reconciliation": {"stale_after_minutes": SWEEPER_AGE_MINUTES}}),
                    keyring, urls=UrlPolicy(allow_http_loopback=True))
                tenants.append(GeneratedTenant(tenant_id, merchant, profile, CURRENCIES[number % len(CURRENCIES)]))
    finally:
        engine.dispose()
    return tenants


def make_accounts(tenants: Sequence[GeneratedTenant], count: int, random_ids: RandomIds) -> list[Account]:
    """Accounts spread over the tenants by a Zipf-like law: a few large billers, many small ones."""
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(tenants))]
    total = sum(weights)
    accounts = []
    for tenant, weight in zip(tenants, weights, strict=True):
        prices = PRICES[tenant.currency]
        for _ in range(max(5, round(count * weight / total))):
            value, account_id = random_ids.uuid()
            accounts.append(Account(tenant, account_id, random_ids.derive(ids.IdKind.CUSTOMER, value),
                                    random_ids.kb_id(), random_ids.token("pm_", 20), random_ids.token("man_", 20),
                                    Decimal(random_ids.rng.choice(prices))))
    return accounts


# -- stories: one Kill Bill payment each, with everything the bridge stored for it ----------------------------
# (story, share of payments). Each is a payment's transactions with their outcomes; see Generator._story.
STORIES = (("paid", 0.80), ("retried", 0.04), ("declined", 0.03), ("refunded", 0.05), ("by_link", 0.04),
           ("settled_later", 0.035), ("refused", 0.005))
# Not final yet: shares of all payments, all placed in the last OPEN_WINDOW_DAYS (younger than the sweeper age).
OPEN_STORIES = (("pending", 0.003), ("unknown", 0.0005))
STORY_TRANSACTIONS = {"retried": 2, "declined": 3, "refunded": 2}  # the others have one
FAILED_EVENT_SHARE = 0.0005  # processing failed until its job died (replayable)
RETRIED_EVENT_SHARE = 0.02  # processed at the second attempt (e.g. the plugin's answer was still on its way)
SECOND = 1_000_000  # microseconds
UNUSABLE_CODE = "PAYMENT_METHOD_UNUSABLE"
UNUSABLE_MESSAGE = "the payment method can no longer be charged (its mandate was revoked)"
SENT = "request sent to Hyperswitch"  # the first history row's detail (bridge.payments.service.insert_transaction)


@dataclass(frozen=True)
class Outcome:
    """What a purchase or refund ended as, and what the bridge stored on the way."""

    status: str
    hs_status: str | None
    calls: tuple[str, ...]  # samples of the Hyperswitch calls made (the last ones later, by reconciliation)
    history: tuple[tuple[str | None, str, str | None, str], ...]  # from, to, hs_status, source
    events: tuple[str, ...]  # samples of the events it causes
    error: tuple[str, str] | None = None  # gateway code and message of a refusal before sending


_FIRST = (None, "UNDEFINED", None, "plugin")
OUTCOMES = {
    "paid": Outcome("PROCESSED", "succeeded", ("purchase:paid",),
                    (_FIRST, ("UNDEFINED", "PROCESSED", "succeeded", "plugin")),
                    ("hs:paid", "kb:payment_success", "kb:invoice_payment_success")),
    "declined": Outcome("ERROR", "failed", ("purchase:declined",),
                        (_FIRST, ("UNDEFINED", "ERROR", "failed", "plugin")),
                        ("hs:declined", "kb:payment_failed", "kb:invoice_payment_failed")),
    "settled_later": Outcome("PROCESSED", "succeeded", ("purchase:processing", "refresh:settled"),
                             (_FIRST, ("UNDEFINED", "PENDING", "processing", "plugin"),
                              ("PENDING", "PROCESSED", "succeeded", "webhook")),
                             ("hs:processing", "kb:payment_pending", "hs:settled", "kb:payment_success",
                              "kb:invoice_payment_success")),
    "pending": Outcome("PENDING", "processing", ("purchase:processing",),
                       (_FIRST, ("UNDEFINED", "PENDING", "processing", "plugin")),
                       ("hs:processing", "kb:payment_pending")),
    # The timeout leaves it UNDEFINED, no change of status: nothing but the audit row records the failure.
    "unknown": Outcome("UNDEFINED", None, ("purchase:timeout",), (_FIRST,), ()),
    "refused": Outcome("ERROR", None, (), ((None, "ERROR", None, "plugin"),),
                       ("kb:payment_failed", "kb:invoice_payment_failed"), (UNUSABLE_CODE, UNUSABLE_MESSAGE)),
    "by_link": Outcome("PROCESSED", None, ("link:check",), ((None, "PROCESSED", None, "plugin"),),
                       ("hs:linked", "kb:payment_success", "kb:invoice_payment_success")),
    "refunded": Outcome("PROCESSED", "succeeded", ("refund",),
                        (_FIRST, ("UNDEFINED", "PROCESSED", "succeeded", "plugin")),
                        ("hs:refunded", "kb:refund_success", "kb:invoice_refund_success")),
}


@dataclass
class Clock:
    """Where a story is in time, in microseconds; every step moves it on a little."""

    now: int
    rng: random.Random

    def after(self, low_ms: float, high_ms: float) -> int:
        self.now += int(self.rng.uniform(low_ms, high_ms) * 1000)
        return self.now


@dataclass
class Generated:
    rows: dict[str, int] = field(default_factory=dict)
    tenants: int = 0
    accounts: int = 0
    span_days: float = 0.0
    samples_seconds: float = 0.0
    copy_seconds: float = 0.0
    index_seconds: float = 0.0
    vacuum_analyze_seconds: float = 0.0
    total_seconds: float = 0.0
    database_bytes: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "total_rows": self.total_rows, "tenants": self.tenants,
                "accounts": self.accounts, "span_days": round(self.span_days, 1),
                "samples_s": round(self.samples_seconds, 1), "copy_s": round(self.copy_seconds, 1),
                "copy_rows_per_second": round(self.total_rows / self.copy_seconds) if self.copy_seconds else 0,
                "indexes_s": round(self.index_seconds, 1),
                "vacuum_analyze_s": round(self.vacuum_analyze_seconds, 1),
                "total_s": round(self.total_seconds, 1),
                "rows_per_second": round(self.total_rows / self.total_seconds) if self.total_seconds else 0,
                "database_mib": round(self.database_bytes / 1024 / 1024, 1)}


class Generator:
    """Writes the stories, oldest first, into one COPY stream per table; ids are assigned here, in order."""

    def __init__(self, volume: Volume, samples: Samples, accounts: Sequence[Account],
                 streams: Mapping[str, CopyStream], rng: random.Random, start: int, end: int,
                 first_ids: Mapping[str, int]) -> None:
        self.volume, self.samples, self.accounts, self.rng = volume, samples, accounts, rng
        self.ids = RandomIds(rng)
        self.decline = (copy_text(samples.decline_code), copy_text(samples.decline_message))
        self.sent = copy_text(SENT)
        self.out = streams
        self.start, self.end = start, end
        self.next_id = dict(first_ids)
        self.transactions = self.events = 0
        self.killbill_keys: set[bytes] = set()  # Kill Bill pushes' keys so far (a prefix of each digest)
        self.next_sweep = (start // SECOND // SWEEP_EVERY_SECONDS + 1) * SWEEP_EVERY_SECONDS
        self.open_from = end - int(min(OPEN_WINDOW_DAYS, volume.span_days) * 86_400 * SECOND)
        span_share = (end - self.open_from) / (end - start)
        self.open_stories = tuple((name, share / span_share) for name, share in OPEN_STORIES)
        self.workers = [f"bridge-worker-{n}:{rng.randrange(100, 99_999)}:{rng.getrandbits(47)}" for n in range(4)]

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value


    def run(self) -> None:
        total = self.volume.transactions
        while self.transactions < total:
            now = self.start + (self.end - self.start) * self.transactions // total
            self._sweeps_until(now)
            self._story(self._pick_story(now), self.rng.choice(self.accounts), now)
        while self.events < self.volume.events:  # more events asked than the stories had: account changes
            account = self.rng.choice(self.accounts)
            self._events([(self.end - SECOND, "kb:account_change", self._base_values(account, "", ""))],
                         self.volume.events - self.events)
        self._sweeps_until(self.end)
        for stream in self.out.values():
            stream.flush()

    def _pick_story(self, now: int) -> str:
        """A story at random; near the end only one that fits in the transactions left, so the count is exact."""
        story = self._any_story(now)
        left = self.volume.transactions - self.transactions
        return story if STORY_TRANSACTIONS.get(story, 1) <= left else "paid"

    def _any_story(self, now: int) -> str:
        roll = self.rng.random()
        if now >= self.open_from:
            for name, share in self.open_stories:
                if roll < share:
                    return name
                roll -= share
            roll = self.rng.random()
        for name, share in STORIES:
            if roll < share:
                return name
            roll -= share
        return STORIES[0][0]

    # -- one story ------------------------------------------------------------------------------------------
    def _story(self, story: str, account: Account, now: int) -> None:
        clock = Clock(now, self.rng)
        natural: list[tuple[int, str, dict[str, str]]] = []  # the events it causes: time, sample, values
        if not account.seen:
            self._account(account, now, natural)
        payment_id, invoice_id = self.ids.kb_id(), self.ids.kb_id()
        tenant = account.tenant
        self.out["payments"].row(tenant.kb_tenant_id, payment_id, account.kb_account_id, account.kb_payment_method_id,
                                 tenant.currency, timestamp(now))
        base = self._base_values(account, payment_id, invoice_id)
        natural.append((clock.now - 2 * SECOND, "kb:invoice_creation_by_link" if story == "by_link"
                        else "kb:invoice_creation", base))
        if story == "retried":
            self._purchase(base, clock, "declined", natural)
            self._purchase(base, clock, "paid", natural)
        elif story == "declined":
            for _ in range(3):  # Kill Bill's three retries, all declined
                self._purchase(base, clock, "declined", natural)
        elif story == "refunded":
            charged = self._purchase(base, clock, "paid", natural)
            self._refund(charged, clock, natural)
        else:
            self._purchase(base, clock, story, natural)
        wanted = self.volume.events * self.transactions // self.volume.transactions - self.events
        self._events(natural, wanted)

    def _base_values(self, account: Account, payment_id: str, invoice_id: str) -> dict[str, str]:
        tenant = account.tenant
        amount = account.price
        exponent = currency_exponent(tenant.currency)
        return {"tenant": tenant.kb_tenant_id, "merchant": tenant.merchant_id, "profile": tenant.profile_id,
                "account": account.kb_account_id, "customer": account.hs_customer_id,
                "hs_payment_method": account.hs_payment_method_id, "mandate": account.hs_mandate_id,
                "payment": payment_id, "invoice": invoice_id, "minor": str(int(amount.scaleb(exponent))),
                "major": f"{amount:.{exponent}f}", "currency": tenant.currency}

    def _account(self, account: Account, now: int, natural: list[tuple[int, str, dict[str, str]]]) -> None:
        """The account's customer and payment method, added just before its first payment."""
        account.seen = True
        tenant, rng = account.tenant, self.rng
        added = timestamp(now - 60 * SECOND)
        self.out["hs_customers"].row(tenant.kb_tenant_id, account.kb_account_id, account.hs_customer_id, added)
        card = (rng.choice(CARD_NETWORKS), f"{rng.randrange(10_000):04d}", f"{rng.randrange(1, 13):02d}",
                str(rng.randrange(2027, 2033)))
        self.out["payment_methods"].row(
            tenant.kb_tenant_id, account.kb_payment_method_id, account.kb_account_id, account.hs_customer_id,
            account.hs_payment_method_id, account.hs_mandate_id, "t", "active", "card", *card, "active", added, added)
        if rng.random() < 0.1:  # an older card, replaced
            old = timestamp(now - 40 * 86_400 * SECOND)
            self.out["payment_methods"].row(
                tenant.kb_tenant_id, self.ids.kb_id(), account.kb_account_id, account.hs_customer_id,
                self.ids.token("pm_", 20), self.ids.token("man_", 20),
                "f", "deleted", "card", rng.choice(CARD_NETWORKS), f"{rng.randrange(10_000):04d}", "12", "2025",
                "revoked", old, added)
        values = {**self._base_values(account, "", ""), "sign_up_payment": self.ids.token("pay_", 20)}
        created = now - 90 * SECOND
        natural.extend(((created, "kb:account_creation", values), (created + SECOND, "hs:sign_up", values),
                        (created + 2 * SECOND, "kb:account_change", values)))

    # -- transactions ----------------------------------------------------------------------------------------
    def _purchase(self, base: dict[str, str], clock: Clock, outcome_name: str,
                  natural: list[tuple[int, str, dict[str, str]]]) -> dict[str, str]:
        value, kb_transaction_id = self.ids.uuid()
        # A pay-by-link payment's id comes from a fresh UUID per link (bridge.invoices), a charge's from the
        # transaction.
        kind = ids.IdKind.LINK if outcome_name == "by_link" else ids.IdKind.PAYMENT
        sent = outcome_name != "refused"
        values = {**base, "transaction": kb_transaction_id, "hs_refund": "",
                  "hs_payment": self.ids.derive(kind, value if kind is ids.IdKind.PAYMENT else self.ids.uuid()[0]),
                  "connector_reference": self.ids.token("pi_", 24)}
        self._transaction("PURCHASE", values, clock, OUTCOMES[outcome_name], natural,
                          hs_payment_id=values["hs_payment"] if sent else N,
                          second_reference=values["connector_reference"] if sent and kind is ids.IdKind.PAYMENT
                          and outcome_name != "unknown" else N,
                          linked=kind is ids.IdKind.LINK)
        if kind is ids.IdKind.LINK:
            self.out["linked_payments"].row(base["tenant"], values["hs_payment"], kb_transaction_id, base["minor"],
                                            "{}", timestamp(clock.now))
        return values

    def _refund(self, charged: dict[str, str], clock: Clock, natural: list[tuple[int, str, dict[str, str]]]) -> None:
        clock.after(60_000, 3_600_000)  # the biller refunds within the hour
        value, kb_transaction_id = self.ids.uuid()
        values = {**charged, "transaction": kb_transaction_id, "hs_refund": self.ids.derive(ids.IdKind.REFUND, value)}
        self._transaction("REFUND", values, clock, OUTCOMES["refunded"], natural, hs_payment_id=charged["hs_payment"],
                          second_reference=N, linked=False)

    def _transaction(self, transaction_type: str, values: dict[str, str], clock: Clock, outcome: Outcome,
                     natural: list[tuple[int, str, dict[str, str]]], *, hs_payment_id: str, second_reference: str,
                     linked: bool) -> None:
        """The transaction row, its history and calls as the plugin call and later reconciliation wrote them."""
        created = clock.after(5, 40)
        txn_id = self._id("payment_transactions")
        self.transactions += 1
        history = [(created, *outcome.history[0])]
        calls = list(outcome.calls)
        if calls:
            self._call(calls.pop(0), values, clock)
        for step in outcome.history[1:]:
            if step[3] == "webhook":  # settled hours later; reconciliation re-read the payment first
                clock.after(3_600_000, 36_000_000)
                self._call(calls.pop(0), values, clock)
                self._job("killbill.sync_transaction", values["tenant"], f'{{"transaction_id": {txn_id}}}',
                          f"kb-sync:{txn_id}:{step[1]}", 20, clock.after(2, 10), clock.after(50, 200))
            history.append((clock.after(1, 5), *step))
        error_code, error_message = (copy_text(text) for text in outcome.error) if outcome.error else (N, N)
        if outcome.status == "ERROR" and outcome.hs_status == "failed":
            error_code, error_message = self.decline
        created_text, updated_text = timestamp(created), timestamp(clock.now)
        self.out["payment_transactions"].row(
            str(txn_id), values["tenant"], values["account"], values["payment"], values["transaction"],
            transaction_type, values["major"], N, values["currency"], outcome.status, hs_payment_id,
            values["hs_refund"] or N, outcome.hs_status or N, N, error_code, error_message, second_reference, N,
            "t" if linked else "f", values["invoice"], outcome.status, N, created_text, created_text, updated_text)
        for moment, from_status, to_status, hs_status, source in history:
            # The first row says the request was sent, or why it was not (insert_transaction).
            detail = (error_message if outcome.error else self.sent) if from_status is None else N
            self.out["payment_transaction_history"].row(
                str(self._id("payment_transaction_history")), str(txn_id), from_status or N, to_status,
                hs_status or N, source, detail, timestamp(moment))
        natural.extend((clock.now + self.rng.randrange(SECOND, 4 * SECOND), name, values) for name in outcome.events)

    def _call(self, sample_name: str, values: dict[str, str], clock: Clock) -> None:
        """One audit row of ``hyperswitch_calls`` (a purchase that timed out: the paid one's request, no answer)."""
        timed_out = sample_name == "purchase:timeout"
        sample = self.samples.calls["purchase:paid" if timed_out else sample_name]
        started = clock.after(1, 5)
        latency = 30_000.0 if timed_out else round(self.rng.lognormvariate(math.log(180), 0.5), 3)
        values["iso_time"] = iso_time(started)
        self.out["hyperswitch_calls"].row(
            str(self._id("hyperswitch_calls")), values["tenant"], sample.method, sample.path.render(values),
            N if timed_out or sample.status is None else str(sample.status), str(latency), "1",
            "unknown_outcome" if timed_out else sample.error_kind or N, sample.error_code or N,
            sample.request.render_copy(values) if sample.request else N,
            sample.response.render_copy(values) if sample.response and not timed_out else N,
            timestamp(started))
        clock.now += int(latency * 1000)

    # -- the inbox and the queue -------------------------------------------------------------------------------
    def _events(self, natural: list[tuple[int, str, dict[str, str]]], wanted: int) -> None:
        """``wanted`` of the story's events, chosen at random, stored and processed in their order."""
        if wanted <= 0 or not natural:
            return
        chosen = sorted(self.rng.sample(range(len(natural)), min(wanted, len(natural))))
        for index in chosen:
            received, name, values = natural[index]
            self._event(self.samples.events[name], received, values)

    def _event(self, sample: EventSample, received: int, values: dict[str, str]) -> None:
        rng = self.rng
        values = {**values, "event_id": self.ids.token("evt_", 20), "iso_time": iso_time(received)}
        if sample.source == "hyperswitch":
            key, body = values["event_id"], sample.body.render_copy(values)
        else:  # Kill Bill's event key is the digest of the body as received (bridge.webhooks.killbill)
            raw = sample.body.render(values)
            digest = hashlib.sha256(raw.encode())
            if digest.digest()[:16] in self.killbill_keys:
                return  # the same push again (an account changed twice): the bridge stores it once
            self.killbill_keys.add(digest.digest()[:16])
            key, body = digest.hexdigest(), copy_text(raw)
        event_id, job_id = self._id("inbound_events"), self._id("jobs")
        self.events += 1
        roll = rng.random()
        attempts, state, outcome = 1, sample.state, sample.outcome.render_copy(values)
        job_state, last_error = "done", N
        if roll < FAILED_EVENT_SHARE:
            attempts, state, job_state = 15, "failed", "dead"
            outcome = last_error = f"KillBillUnavailable: Kill Bill answered 503 for {values['payment'] or values['account']}"
        elif roll < FAILED_EVENT_SHARE + RETRIED_EVENT_SHARE:
            attempts = 2
        finished = received + rng.randrange(40_000, 400_000) + (attempts - 1) * 5 * SECOND
        self.out["inbound_events"].row(
            str(event_id), sample.source, values["tenant"], key, sample.event_type, sample.object_type or N,
            values[sample.object_name] or N, body, state, str(attempts), outcome, str(job_id),
            timestamp(received), timestamp(finished))
        self._job_row(job_id, "inbound_event.process", values["tenant"], f'{{"event_id": {event_id}}}',
                      f"inbound:{event_id}:first", 15, received, finished, attempts, job_state, last_error)

    def _job(self, kind: str, tenant: str, payload: str, dedupe_key: str, max_attempts: int, run_at: int,
             finished: int) -> None:
        self._job_row(self._id("jobs"), kind, tenant, payload, dedupe_key, max_attempts, run_at, finished, 1,
                      "done", N)

    def _job_row(self, job_id: int, kind: str, tenant: str, payload: str, dedupe_key: str, max_attempts: int,
                 run_at: int, finished: int, attempts: int, state: str, last_error: str) -> None:
        finished_text = timestamp(finished)
        self.out["jobs"].row(str(job_id), kind, tenant, payload, dedupe_key, state, str(attempts), str(max_attempts),
                             timestamp(run_at), N, self.rng.choice(self.workers), N, last_error, N, finished_text,
                             timestamp(run_at), finished_text)

    def _sweeps_until(self, moment: int) -> None:
        """The sweeper's periodic job, one per slot (bridge.jobs.worker.Worker.schedule_periodic)."""
        while self.next_sweep * SECOND < moment:
            slot = self.next_sweep // SWEEP_EVERY_SECONDS
            began = self.next_sweep * SECOND + self.rng.randrange(0, 900_000)
            self._job("reconcile.sweep", N, f'{{"slot": {slot}}}', f"periodic:reconcile.sweep:{slot}", 1, began,
                      began + self.rng.randrange(20_000, 300_000))
            self.next_sweep += SWEEP_EVERY_SECONDS


# -- the database ----------------------------------------------------------------------------------------------
def _psycopg_url(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


@contextmanager
def indexes_detached(url: str) -> Iterator[None]:
    """The volume tables without their indexes and constraints while COPY fills them, rebuilt afterwards from
    their own definitions (and checked to be the same), as a bulk load is done."""
    with psycopg.connect(url, autocommit=True) as conn:
        before = _index_definitions(conn)
        constraints = conn.execute(
            "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype IN ('p', 'u', 'f') AND (conrelid = ANY(%(t)s::regclass[]) "
            "OR confrelid = ANY(%(t)s::regclass[]))", {"t": list(VOLUME_TABLES)}).fetchall()
        owned = {name for _table, name, _kind, _definition in constraints}
        plain = [(name, definition) for name, definition in before.items() if name not in owned]
        ordered = sorted(constraints, key=lambda c: "fpu".index(c[2]))  # foreign keys go first, come back last
        for table_name, name, _kind, _definition in ordered:
            conn.execute(f'ALTER TABLE {table_name} DROP CONSTRAINT "{name}"')
        for name, _definition in plain:
            conn.execute(f'DROP INDEX "{name}"')
    yield
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        for table_name, name, _kind, definition in reversed(ordered):
            conn.execute(f'ALTER TABLE {table_name} ADD CONSTRAINT "{name}" {definition}')
        for _name, definition in plain:
            conn.execute(definition)
        after = _index_definitions(conn)
    if after != before:
        raise RuntimeError(f"the indexes rebuilt differ from the schema's: {set(before.items()) ^ set(after.items())}")


def _index_definitions(conn: psycopg.Connection[Any]) -> dict[str, str]:
    rows = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                        "AND tablename = ANY(%s)", [list(VOLUME_TABLES)]).fetchall()
    return dict(rows)


def _first_ids(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {name: conn.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {name}").fetchone()[0]
                for name in ("payment_transactions", "payment_transaction_history", "hyperswitch_calls",
                             "inbound_events", "jobs")}


def _settle(url: str) -> None:
    """Sequences past the ids written, then what autovacuum would have done by now, then a checkpoint, so the
    benchmark that follows pays for neither."""
    with psycopg.connect(url, autocommit=True) as conn:
        for name in ("payment_transactions", "payment_transaction_history", "hyperswitch_calls", "inbound_events",
                     "jobs"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                         f"(SELECT COALESCE(MAX(id), 1) FROM {name}))")
        for name in VOLUME_TABLES:
            conn.execute(f"VACUUM (ANALYZE) {name}")
        conn.execute("CHECKPOINT")


def database_size(database_url: str) -> int:
    with psycopg.connect(_psycopg_url(database_url)) as conn:
        return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])


def generate(database_url: str, volume: Volume, master_key: str, *, seed: int = 8,
             work_dir: Path | None = None) -> Generated:
    """Migrate ``database_url`` (PostgreSQL) and fill it with ``volume``; returns the counts and timings."""
    began = time.monotonic()
    rng = random.Random(seed)
    engine = make_engine(database_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    with tempfile.TemporaryDirectory(prefix="bridge-bulk-") as temp:
        samples = demo_samples(work_dir or Path(temp))
    result = Generated(samples_seconds=time.monotonic() - began, span_days=volume.span_days)
    tenants = create_tenants(database_url, volume.tenants, Keyring([master_key]), rng)
    accounts = make_accounts(tenants, volume.accounts, RandomIds(rng))
    url = _psycopg_url(database_url)
    first_ids = _first_ids(url)
    end = (int(time.time()) - 600) * SECOND
    start = end - int(volume.span_days * 86_400 * SECOND)
    copy_began = time.monotonic()
    with indexes_detached(url):
        with ExitStack() as stack:
            streams = {name: CopyStream(url, name, COLUMNS[name], stack, COPY_CONNECTIONS.get(name, 1))
                       for name in VOLUME_TABLES}
            Generator(volume, samples, accounts, streams, rng, start, end, first_ids).run()
        result.copy_seconds = time.monotonic() - copy_began  # the connections committed on leaving the stack
        index_began = time.monotonic()
    result.index_seconds = time.monotonic() - index_began
    vacuum_began = time.monotonic()
    _settle(url)
    result.vacuum_analyze_seconds = time.monotonic() - vacuum_began
    result.rows = {name: stream.rows for name, stream in streams.items()}
    result.tenants, result.accounts = len(tenants), sum(account.seen for account in accounts)
    result.total_seconds = time.monotonic() - began
    result.database_bytes = database_size(database_url)
    return result


def describe(generated: Generated) -> str:
    figures = generated.as_dict()
    rows = [(name, f"{count:,}") for name, count in generated.rows.items()]
    rows.append(("all tables", f"{generated.total_rows:,}"))
    summary = (f"{figures['tenants']} tenants, {figures['accounts']:,} accounts over {figures['span_days']} days; "
               f"COPY {figures['copy_s']} s ({figures['copy_rows_per_second']:,} rows/s), indexes "
               f"{figures['indexes_s']} s, VACUUM ANALYZE {figures['vacuum_analyze_s']} s, samples (bridge demo) "
               f"{figures['samples_s']} s; in all {figures['total_s']} s ({figures['rows_per_second']:,} rows/s); "
               f"database {figures['database_mib']:,} MiB")
    return table(rows, ("table", "rows")) + "\n" + summary


def main(argv: list[str] | None = None) -> int:
    from benchmarks.stacks import postgres_server

    parser = argparse.ArgumentParser(prog="python -m benchmarks.bulk", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=FULL, help="transactions, and as many webhook events")
    parser.add_argument("--quick", action="store_true", help=f"--rows {QUICK:,}")
    parser.add_argument("--keep", action="store_true",
                        help="keep the database (its tenants' secrets under BRIDGE_MASTER_KEYS, which must be set)")
    args = parser.parse_args(argv)
    rows = QUICK if args.quick else args.rows
    master_key = os.environ.get("BRIDGE_MASTER_KEYS", "").split(",")[0]
    if args.keep and not master_key:
        parser.error("--keep needs BRIDGE_MASTER_KEYS: the kept tenants' secrets are encrypted under it")
    server = postgres_server()
    url = server.create_database("bridge_bulk")
    try:
        generated = generate(url, Volume(rows, rows), master_key or generate_key())
        print(describe(generated))
        if args.keep:
            print(f"kept: {url}")
    finally:
        if not args.keep:
            server.drop_database(url)
        server.admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
