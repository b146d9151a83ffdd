"""The pieces of the end-to-end harness: the real Kill Bill (scripts/killbill-server), and the billers and
payors the scenarios create through Kill Bill's own API. The bridge runs as the processes a deployment runs
(tests/stack.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

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
from tests.stack import PLUGIN_NAME, Sidecar, eventually

ROOT = Path(__file__).resolve().parents[2]
KILLBILL_SERVER = ROOT / "scripts" / "killbill-server"
PLUGIN_CONFIG_PREFIX = f"org.killbill.billing.plugin.{PLUGIN_NAME}."
# Kill Bill works asynchronously (bus, notification queues, push notifications), and so does the bridge's
# worker: every expectation is a bounded wait for a state, never a timing.
SETTLE_SECONDS = 90.0

__all__ = ["SETTLE_SECONDS", "Biller", "KillBillServer", "Payor", "eventually"]


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
