"""The pieces of the end-to-end harness: the real Kill Bill (scripts/killbill-server), the bridge as the
processes a deployment runs (``bridge serve`` under gunicorn and ``bridge worker``), and the billers and
payors the scenarios create through Kill Bill's own API."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import requests

from bridge.payment_methods.sources import PROP_MANDATE
from bridge.payments import ids
from bridge.simulators.hyperswitch import SimulatorState
from bridge.simulators.payors import save_card
from hyperswitch_client import HyperswitchClient
from killbill_client import KillBillClient
from killbill_client.constants import AUTO_PAY_OFF
from killbill_client.models import (
                                    Account,
                                    ExternalCharge,
                                    InvoicePayment,
                                    PaymentTransaction,
                                    TransactionStatus,
                                    TransactionType,
)

ROOT = Path(__file__).resolve().parents[2]
KILLBILL_SERVER = ROOT / "scripts" / "killbill-server"
PLUGIN_NAME = "hyperswitch-bridge"
PLUGIN_CONFIG_PREFIX = f"org.killbill.billing.plugin.{PLUGIN_NAME}."
KB_ADMIN, KB_PASSWORD = "admin", "password"  # Kill Bill's default shiro.ini user
HTTP_TIMEOUT = 30.0
# Kill Bill works asynchronously (bus, notification queues, push notifications), and so does the bridge's
# worker: every expectation is a bounded wait for a state, never a timing.
SETTLE_SECONDS = 90.0

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], what: str, timeout: float = SETTLE_SECONDS,
               interval: float = 0.5) -> T:
    """Poll ``probe`` until it returns something truthy; fail naming ``what`` and its last answer."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up waiting for {what}; last seen: {last!r}")
        time.sleep(interval)


# -- the real Kill Bill ---------------------------------------------------------------------------------
class KillBillServer:
    """``scripts/killbill-server``: started once per session, stopped afterwards unless it ran before."""

    def __init__(self) -> None:
        self.url = ""
        self._started_here = False

    def start(self) -> str:
        already = subprocess.run([str(KILLBILL_SERVER), "status"], capture_output=True, text=True).returncode == 0
        began = time.monotonic()
        result = subprocess.run([str(KILLBILL_SERVER), "start"], capture_output=True, text=True, timeout=1200)
        if result.returncode != 0:
            raise RuntimeError(f"scripts/killbill-server start failed:\n{result.stderr[-6000:]}")
        self.url = result.stdout.strip().splitlines()[-1]
        self._started_here = not already
        sys.stderr.write(f"\nkillbill_server: {self.url} ready after {time.monotonic() - began:.0f} s "
                         f"({'started' if self._started_here else 'reused'})\n{result.stderr[-400:]}")
        return self.url

    def stop(self) -> None:
        if self._started_here and not os.environ.get("BRIDGE_KB_KEEP"):
            subprocess.run([str(KILLBILL_SERVER), "stop"], capture_output=True, timeout=120)

    def log_tail(self, lines: int = 200) -> str:
        return subprocess.run([str(KILLBILL_SERVER), "logs", str(lines)], capture_output=True, text=True).stdout


# -- the bridge, as separate processes ----------------------------------------------------------------
@dataclass
class Sidecar:
    """``bridge serve`` (gunicorn) and ``bridge worker`` on one SQLite database, as a deployment runs them."""

    url: str
    env: dict[str, str]
    admin_token: str
    plugin_secret: str
    log_dir: Path
    processes: list[subprocess.Popen[bytes]]

    @property
    def database_url(self) -> str:
        return self.env["BRIDGE_DATABASE_URL"]

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, self.url + path, timeout=HTTP_TIMEOUT,
                                    headers={"Authorization": f"Bearer {self.admin_token}"}, **kwargs)
        assert response.status_code < 300, (method, path, response.status_code, response.text[:500])
        return response.json()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(bridge_executable()), *args], env=self.env, capture_output=True, text=True,
                              timeout=120)

    def logs(self) -> str:
        return "\n".join(f"== {path.name}\n{path.read_text(errors='replace')[-8000:]}"
                         for path in sorted(self.log_dir.glob("*.log")))

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def bridge_executable() -> Path:
    return Path(sys.executable).with_name("bridge")


def start_sidecar(work_dir: Path, *, port: int, smtp_port: int, master_key: str) -> Sidecar:
    admin_token, plugin_secret = uuid.uuid4().hex, uuid.uuid4().hex
    url = f"http://127.0.0.1:{port}"
    env = {name: value for name, value in os.environ.items() if not name.startswith("BRIDGE_")}
    env.update({
        "BRIDGE_DATABASE_URL": f"sqlite:///{work_dir / 'bridge.db'}",
        "BRIDGE_MASTER_KEYS": master_key, "BRIDGE_ADMIN_TOKEN": admin_token,
        "BRIDGE_PLUGIN_SHARED_SECRET": plugin_secret,
        "BRIDGE_HOST": "127.0.0.1", "BRIDGE_PORT": str(port), "BRIDGE_WEB_WORKERS": "2",
        # Kill Bill calls back here (push notifications) and payors open links here.
        "BRIDGE_PUBLIC_URL": url,
        # Every peer is on http://127.0.0.1 in this harness.
        "BRIDGE_ALLOW_HTTP_LOOPBACK": "true",
        "BRIDGE_SMTP_HOST": "127.0.0.1", "BRIDGE_SMTP_PORT": str(smtp_port), "BRIDGE_SMTP_SECURITY": "none",
        # Peers answer at once here: poll and retry in fractions of a second, not production's seconds.
        "BRIDGE_WORKER_POLL_SECONDS": "0.2", "BRIDGE_JOB_BACKOFF_BASE_SECONDS": "0.5",
        "BRIDGE_JOB_BACKOFF_MAX_SECONDS": "5",
        "BRIDGE_LOG_FORMAT": "text", "BRIDGE_LOG_LEVEL": "INFO",
    })
    migrate = subprocess.run([str(bridge_executable()), "db", "upgrade"], env=env, capture_output=True, text=True,
                             timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    processes = []
    for name, args in (("serve", ["serve"]), ("worker", ["worker"])):
        log = (work_dir / f"bridge-{name}.log").open("wb")
        processes.append(subprocess.Popen([str(bridge_executable()), *args], env=env, stdout=log,
                                          stderr=subprocess.STDOUT, cwd=work_dir))
    sidecar = Sidecar(url, env, admin_token, plugin_secret, work_dir, processes)
    try:
        eventually(lambda: _ready(url, processes), "the bridge's /readyz", timeout=60)
    except AssertionError:
        sidecar.stop()
        raise AssertionError(f"the bridge did not become ready:\n{sidecar.logs()}") from None
    return sidecar


def _ready(url: str, processes: list[subprocess.Popen[bytes]]) -> bool:
    for process in processes:
        if process.poll() is not None:
            raise AssertionError(f"{process.args} exited with {process.returncode}")
    try:
        return requests.get(url + "/readyz", timeout=5).status_code == 200
    except requests.ConnectionError:
        return False


# -- a biller: a Kill Bill tenant mapped to a Hyperswitch merchant --------------------------------------
@dataclass
class Biller:
    tenant_id: str
    api_key: str
    merchant_id: str
    profile_id: str
    kb: KillBillClient
    hs: HyperswitchClient
    hs_state: SimulatorState
    sidecar: Sidecar

    def payor(self, name: str = "Ada Lovelace", *, auto_pay_off: bool = False, currency: str = "USD") -> Payor:
        """A Kill Bill account whose default payment method is the plugin's, holding a card saved in Hyperswitch
        with a mandate: Kill Bill calls addPaymentMethod, the bridge checks the mandate is the customer's."""
        email = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:6]}@example.com"
        account = self.kb.accounts.create(Account(name=name, email=email, currency=currency,
                                                  external_key=email.split("@")[0]))
        assert account.account_id is not None
        if auto_pay_off:
            self.kb.tags.add_to_account(account.account_id, [AUTO_PAY_OFF])
        payment_method_id, mandate_id = save_card(self.hs, ids.customer_id(account.account_id), currency=currency,
                                                  holder=name)
        assert mandate_id is not None
        method = self.kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True,
                                             plugin_info_properties={PROP_MANDATE: mandate_id})
        assert method.payment_method_id is not None
        return Payor(self, account.account_id, email, payment_method_id, mandate_id, method.payment_method_id)

    def charges_in_hyperswitch(self) -> list[dict[str, Any]]:
        """Every payment the bridge created in Hyperswitch for this merchant (sign-up payments excluded)."""
        return [row for row in self.hs_state.payments_overview(merchant_id=self.merchant_id)
                if ids.parse(row["payment_id"]) is not None]


@dataclass
class Payor:
    biller: Biller
    account_id: UUID
    email: str
    hs_payment_method_id: str
    mandate_id: str
    kb_payment_method_id: UUID

    def processor_answers(self, outcome: str) -> None:
        """How the simulated processor answers the next merchant-initiated charges on this payor's mandate."""
        self.biller.hs_state.set_mandate_behaviour(self.mandate_id, outcome)

    def invoice(self, amount: str, description: str = "Pro plan, monthly") -> UUID:
        """An external charge, invoiced and committed: Kill Bill pays it on its bus unless AUTO_PAY_OFF."""
        [item] = self.biller.kb.invoices.create_external_charges(
            self.account_id, [ExternalCharge(amount=Decimal(amount), description=description, currency="USD")])
        assert item.invoice_id is not None
        return item.invoice_id

    def balance(self, invoice_id: UUID) -> Decimal:
        balance = self.biller.kb.invoices.get(invoice_id).balance
        assert balance is not None
        return balance

    def payments(self, invoice_id: UUID, *, with_plugin_info: bool = False) -> list[InvoicePayment]:
        return self.biller.kb.invoice_payments.list_for_invoice(invoice_id, with_plugin_info=with_plugin_info,
                                                                with_attempts=True)

    def transactions(self, invoice_id: UUID, ttype: TransactionType, *,
                     with_plugin_info: bool = False) -> list[PaymentTransaction]:
        """With ``with_plugin_info`` Kill Bill asks the plugin (getPaymentInfo) and shows its reference ids."""
        return [t for p in self.payments(invoice_id, with_plugin_info=with_plugin_info) for t in p.transactions or []
                if t.transaction_type == ttype]

    def last_transaction(self, invoice_id: UUID, ttype: TransactionType,
                         status: TransactionStatus) -> PaymentTransaction | None:
        """The invoice's latest ``ttype`` transaction, once it has ``status``."""
        found = self.transactions(invoice_id, ttype)
        return found[-1] if found and found[-1].status == status else None
