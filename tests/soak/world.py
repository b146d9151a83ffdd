"""The soak's stack and its customers: both simulators, the bridge (gunicorn + job workers) on one database, and
several billers (Kill Bill tenants, each mapped to its own Hyperswitch merchant) with payors whose card is saved
in Hyperswitch under a mandate and registered in Kill Bill as the default payment method of the bridge's plugin.

Payors differ in how their processor answers merchant-initiated charges (approved, declined, or ``processing``
and settled later) and in how Kill Bill pays their invoices: on its own bus (auto-pay) or when asked (the
account is tagged AUTO_PAY_OFF; the tenant's pay-by-link policy is off so no link goes out instead).
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from bridge.payment_methods.sources import PROP_MANDATE
from bridge.payments import ids
from bridge.simulators.payors import save_card
from killbill_client.constants import AUTO_PAY_OFF
from killbill_client.models import Account
from tests.stack import PLUGIN_NAME, Sidecar, SimulatedBiller, Simulator, map_biller

# The bridge as deployed, with its Hyperswitch read timeout shortened so an injected timeout costs seconds,
# and a short job lease so a killed worker's job is taken over within seconds (production: 300 s).
READ_TIMEOUT_SECONDS = 2.0
SIDECAR_ENV = {"BRIDGE_LOG_FORMAT": "json", "BRIDGE_HYPERSWITCH_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT_SECONDS),
               "BRIDGE_HYPERSWITCH_DEADLINE_SECONDS": "10", "BRIDGE_JOB_LEASE_SECONDS": "10"}
# No pay-by-link emails (the soak is about payments); the sweeper re-reads transactions a minute old.
TENANT_SETTINGS: dict[str, Any] = {
    "email": {"sender": "billing@acme.example", "brand_name": "Acme"},
    "pay_by_link": {"manual_pay_accounts": False, "accounts_without_mandate": False, "after_failed_payment": False},
    "reconciliation": {"stale_after_minutes": 1},
}
# Kill Bill's schedules compressed from hours to seconds, with retries that outlast several restarts of the
# bridge in a row (about four minutes: its one push thread runs late when a backlog builds up).
KILLBILL_CONFIG = {"pushTimeout": 5, "pushRetrySeconds": [1, 2, 4, 8, 15, 30, 60, 60, 60],
                   "janitorUnknownSeconds": [2, 5, 10, 20, 40, 60], "janitorPendingSeconds": [10, 30, 60]}
WEBHOOK_RETRIES = [0.5, 1, 2, 4, 8, 15, 30, 60, 60]
# Payor i's processor behaviour by i modulo the list (even i: auto-pay, odd i: AUTO_PAY_OFF): half approved,
# a quarter async (processing, settled later), a quarter declined.
BEHAVIOURS = ("approve", "approve", "processing", "processing", "approve", "approve", "decline", "decline")


@dataclass(frozen=True)
class Payor:
    account_id: UUID
    mandate_id: str
    behaviour: str  # the processor's answer to charges on the mandate (hyperswitch cards.OUTCOMES)
    auto_pay: bool  # Kill Bill pays its invoices on its bus; else the account is AUTO_PAY_OFF


@dataclass
class SoakTenant:
    biller: SimulatedBiller
    payors: list[Payor] = field(default_factory=list)

    @property
    def tenant_id(self) -> str:
        return self.biller.tenant_id

    @property
    def merchant_id(self) -> str:
        return self.biller.merchant_id


@dataclass
class World:
    work_dir: Path
    hyperswitch: Simulator
    killbill: Simulator
    sidecar: Sidecar
    tenants: list[SoakTenant]

    @property
    def merchants(self) -> dict[str, str]:
        return {tenant.tenant_id: tenant.merchant_id for tenant in self.tenants}

    def stop(self) -> None:
        for tenant in self.tenants:
            tenant.biller.close()
        for thing in (self.sidecar, self.killbill, self.hyperswitch):
            thing.stop()


def start(work_dir: Path, database_url: str, *, tenants: int, accounts_per_tenant: int, web_workers: int = 2,
          job_workers: int = 2) -> World:
    hyperswitch = Simulator.start("hyperswitch", work_dir)
    started: list[Any] = [hyperswitch]
    try:
        killbill = Simulator.start("killbill", work_dir)
        started.append(killbill)
        killbill.control("PUT", "/config", json=KILLBILL_CONFIG)
        hyperswitch.control("POST", "/webhooks/config", json={"retry_schedule": WEBHOOK_RETRIES, "timeout": 5})
        # One metrics directory for every start of the web process: a SIGKILLed one cannot remove its own.
        metrics = work_dir / "metrics"
        metrics.mkdir(exist_ok=True)
        sidecar = Sidecar.start(work_dir, database_url=database_url, web_workers=web_workers,
                                job_workers=job_workers, env={**SIDECAR_ENV, "PROMETHEUS_MULTIPROC_DIR": str(metrics)})
        started.append(sidecar)
        world = World(work_dir, hyperswitch, killbill, sidecar, [])
        for _ in range(tenants):
            world.tenants.append(SoakTenant(map_biller(sidecar, hyperswitch, killbill, settings=TENANT_SETTINGS)))
        with ThreadPoolExecutor(max_workers=4) as pool:  # sign-ups take a second each: a few at once
            for tenant in world.tenants:
                tenant.payors.extend(pool.map(lambda n, t=tenant: _payor(t.biller, hyperswitch, n),
                                              range(accounts_per_tenant)))
        return world
    except BaseException:
        for thing in reversed(started):
            thing.stop()
        raise


def _payor(biller: SimulatedBiller, hyperswitch: Simulator, number: int) -> Payor:
    """What a merchant's sign-up does: the card saved with a mandate, then the Kill Bill payment method."""
    name = f"payor-{number}-{uuid.uuid4().hex[:8]}"
    account = biller.kb.accounts.create(Account(name=name, email=f"{name}@example.com", currency="USD",
                                                external_key=name))
    assert account.account_id is not None
    auto_pay = number % 2 == 0
    if not auto_pay:
        biller.kb.tags.add_to_account(account.account_id, [AUTO_PAY_OFF])
    _, mandate_id = save_card(biller.hs, ids.customer_id(account.account_id), holder=name)
    assert mandate_id is not None
    biller.kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True,
                                  plugin_info_properties={PROP_MANDATE: mandate_id})
    behaviour = BEHAVIOURS[number % len(BEHAVIOURS)]
    if behaviour != "approve":
        hyperswitch.control("POST", f"/mandates/{mandate_id}/behaviour", json={"outcome": behaviour})
    return Payor(account.account_id, mandate_id, behaviour, auto_pay)
