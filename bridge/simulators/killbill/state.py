"""``KillBillState``: everything the simulated Kill Bill knows, thread-safe, plus its control methods.

One re-entrant lock guards the data and is never held across an HTTP call. Payment operations also take
a per-account lock for their whole run, plugin call included, as Kill Bill does.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from bridge.simulators.killbill import errors
from bridge.simulators.killbill.clock import SimClock
from bridge.simulators.killbill.invoicing import InvoiceEngine
from bridge.simulators.killbill.janitor import Janitor
from bridge.simulators.killbill.model import (
    CONTROL_TAGS,
    Account,
    CustomField,
    Invoice,
    Payment,
    PaymentMethod,
    PluginEndpoint,
    Tag,
    TagDefinition,
    Tenant,
    Transaction,
    new_id,
)
from bridge.simulators.killbill.payment_methods import PaymentMethodEngine
from bridge.simulators.killbill.payments import PaymentEngine
from bridge.simulators.killbill.plugin import PluginGateway
from bridge.simulators.killbill.push import PushNotifier
from bridge.simulators.killbill.serialize import ACCOUNT_FIELDS, ACCOUNT_TAIL_FIELDS
from bridge.simulators.killbill.wire import dumps
from bridge.simulators.killbill.worker import Worker


def _control_tag(name: str) -> TagDefinition:
    found = next((d for d in CONTROL_TAGS.values() if d.name == name), None)
    if found is None or "ACCOUNT" not in found.applicable:
        raise ValueError(f"{name!r} is not a control tag of accounts")
    return found


def _spans(*texts: str) -> tuple[timedelta, ...]:
    units = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    return tuple(timedelta(**{units[t[-1]]: int(t[:-1])}) for t in texts)


@dataclass
class SimConfig:
    """Kill Bill's defaults; tests compress the schedules."""

    users: dict[str, str] = field(default_factory=lambda: {"admin": "password"})
    # org.killbill.payment.plugin.timeout
    plugin_timeout: float = 30.0
    # PushNotificationListener.TIMEOUT_NOTIFICATION and org.killbill.billing.server.notifications.retries
    push_timeout: float = 15.0
    push_retries: tuple[timedelta, ...] = _spans("15m", "30m", "2h", "12h", "1d")
    # org.killbill.payment.janitor.pending.retries / unknown.retries
    janitor_pending_retries: tuple[timedelta, ...] = _spans("1h", "1d")
    janitor_unknown_retries: tuple[timedelta, ...] = _spans("5m", "1h", "1d", "1d", "1d", "1d", "1d")
    # Retries of automatic invoice payments (reference/killbill.md §A4): org.killbill.payment.retry.days after a
    # PAYMENT_FAILURE; org.killbill.payment.failure.retry.start.sec/.multiplier/.max.attempts after a
    # PLUGIN_FAILURE.
    payment_retries: tuple[timedelta, ...] = _spans("8d", "8d", "8d")
    plugin_failure_retry_start: timedelta = timedelta(seconds=300)
    plugin_failure_retry_multiplier: int = 2
    plugin_failure_retry_max_attempts: int = 8
    # Run due janitor checks from a timer (on demand only when False).
    janitor_timer: bool = False
    janitor_poll_seconds: float = 0.5
    # org.killbill.jaxrs.location.full.url
    location_full_url: bool = True


class KillBillState:
    def __init__(self, config: SimConfig | None = None, clock: SimClock | None = None) -> None:
        self.config = config or SimConfig()
        self.clock = clock or SimClock()
        self.lock = threading.RLock()
        self.tenants: dict[UUID, Tenant] = {}
        self.accounts: dict[UUID, Account] = {}
        self.payment_methods: dict[UUID, PaymentMethod] = {}
        self.invoices: dict[UUID, Invoice] = {}
        self.payments: dict[UUID, Payment] = {}
        self.tags: dict[UUID, Tag] = {}
        self.custom_fields: dict[UUID, CustomField] = {}
        self.events: list[dict[str, Any]] = []
        self._account_locks: defaultdict[UUID, threading.RLock] = defaultdict(threading.RLock)
        self._fail_notify: list[int] = []
        self.notify_failures_fired = 0
        self.plugins = PluginGateway(self.clock)
        self.push = PushNotifier(self.clock, lambda: self.config.push_retries, lambda: self.config.push_timeout)
        self.bus = Worker("bus", self.clock)
        self.payments_engine = PaymentEngine(self)
        self.invoices_engine = InvoiceEngine(self)
        self.payment_methods_engine = PaymentMethodEngine(self)
        self.janitor = Janitor(self)
        self._janitor_thread: threading.Thread | None = None
        self._stop = threading.Event()

    def account_lock(self, account_id: UUID) -> threading.RLock:
        with self.lock:
            return self._account_locks[account_id]

    # -- tenant-scoped lookups: another tenant's object does not exist ---------------------------------
    def tenant_by_api_key(self, api_key: str | None) -> Tenant | None:
        with self.lock:
            return next((t for t in self.tenants.values() if t.api_key == api_key), None)

    def account(self, tenant_id: UUID, account_id: UUID) -> Account:
        with self.lock:
            account = self.accounts.get(account_id)
            if account is None or account.tenant_id != tenant_id:
                raise errors.no_account(account_id)
            return account

    def payment_method(self, tenant_id: UUID, pm_id: UUID, *, include_deleted: bool = False) -> PaymentMethod:
        with self.lock:
            pm = self.payment_methods.get(pm_id)
            if pm is None or pm.tenant_id != tenant_id or not (pm.active or include_deleted):
                raise errors.no_payment_method(pm_id)
            return pm

    def invoice(self, tenant_id: UUID, invoice_id: UUID) -> Invoice:
        with self.lock:
            invoice = self.invoices.get(invoice_id)
            if invoice is None or invoice.tenant_id != tenant_id:
                raise errors.no_invoice(invoice_id)
            return invoice

    def payment(self, tenant_id: UUID, payment_id: UUID) -> Payment:
        with self.lock:
            payment = self.payments.get(payment_id)
            if payment is None or payment.tenant_id != tenant_id:
                raise errors.no_payment(payment_id)
            return payment

    def payment_by_transaction(self, tenant_id: UUID, txn_id: UUID) -> tuple[Payment, Transaction]:
        with self.lock:
            for payment in self.payments.values():
                txn = payment.transaction(txn_id)
                if txn is not None and payment.tenant_id == tenant_id:
                    return payment, txn
        raise errors.no_payment(txn_id)

    def account_tags(self, account_id: UUID) -> list[Tag]:
        with self.lock:
            return [t for t in self.tags.values() if t.object_id == account_id]

    # -- events: kept for tests, pushed to the tenant's callback -----------------------------------------
    def post_event(self, tenant_id: UUID, event_type: str, object_type: str, object_id: UUID | None,
                   account_id: UUID | None, metadata: dict[str, Any] | str | None = None) -> None:
        """``metadata``: a dict is sent as JSON text; a str is sent bare, as Kill Bill does for tenant
        configuration and tag events (the key, the tag definition's name)."""
        meta_data = metadata if metadata is None or isinstance(metadata, str) else dumps(metadata)
        event = {"eventType": event_type, "accountId": account_id, "objectType": object_type,
                 "objectId": object_id, "metaData": meta_data}
        with self.lock:
            self.events.append({**event, "tenantId": tenant_id})
            callback = self.tenants[tenant_id].kv.get("PUSH_NOTIFICATION_CB", [None])[-1]
        self.push.notify(tenant_id, callback, event)

    # -- control methods (also under /__sim) -------------------------------------------------------------
    def configure_plugin(self, tenant_id: UUID, plugin_name: str, url: str, secret: str,
                         timeout: float | None = None) -> None:
        """Route ``plugin_name`` payments of this tenant to a sidecar's ``/plugin/v1``."""
        with self.lock:
            if tenant_id not in self.tenants:
                raise errors.no_tenant(tenant_id)
            self.tenants[tenant_id].plugins[plugin_name] = PluginEndpoint(url, secret, timeout)

    def run_janitor(self, *, due_only: bool = False) -> list[dict[str, Any]]:
        """Check every PENDING/UNKNOWN transaction with the plugin now (or only those due)."""
        return self.janitor.run(due_only=due_only)

    def plugin_calls(self, operation: str | None = None, tenant_id: UUID | None = None) -> list[dict[str, Any]]:
        return self.plugins.calls(operation, tenant_id)

    def push_deliveries(self) -> list[dict[str, Any]]:
        return self.push.deliveries()

    def event_log(self, tenant_id: UUID | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(dumps(e)) for e in self.events if tenant_id is None or e["tenantId"] == tenant_id]

    def fail_next_notify_state_changed(self, count: int = 1, status: int = 500) -> None:
        with self.lock:
            self._fail_notify.extend([status] * count)

    def take_notify_failure(self) -> int | None:
        with self.lock:
            if not self._fail_notify:
                return None
            self.notify_failures_fired += 1
            return self._fail_notify.pop(0)

    def notify_failures(self) -> dict[str, int]:
        """How many injected notifyStateChanged failures are still queued, and how many were answered."""
        with self.lock:
            return {"remaining": len(self._fail_notify), "fired": self.notify_failures_fired}

    def load_accounts(self, tenant_id: UUID, accounts: list[dict[str, Any]],
                      tag_names: Sequence[str] = ()) -> list[Account]:
        """Accounts (AccountJson fields) as a data migration loads them, each with the named control tags, and
        no push notification: Kill Bill sent ACCOUNT_CREATION and TAG_CREATION when they were made, long
        before the billing run that uses them. Sets up thousands of accounts in one call."""
        definitions = [_control_tag(name) for name in tag_names]
        with self.lock:
            if tenant_id not in self.tenants:
                raise errors.no_tenant(tenant_id)
            keys = {a.fields.get("externalKey") for a in self.accounts.values() if a.tenant_id == tenant_id}
            loaded = []
            for data in accounts:
                account_id = new_id()
                fields = {k: v for k, v in data.items() if k in ACCOUNT_FIELDS or k in ACCOUNT_TAIL_FIELDS}
                fields["externalKey"] = fields.get("externalKey") or str(account_id)
                if fields["externalKey"] in keys:
                    raise errors.account_exists(fields["externalKey"])
                keys.add(fields["externalKey"])
                loaded.append(Account(account_id, tenant_id, fields, self.clock.now()))
            for account in loaded:
                self.accounts[account.id] = account
                for definition in definitions:
                    tag = Tag(new_id(), tenant_id, account.id, "ACCOUNT", definition.id, definition.name)
                    self.tags[tag.id] = tag
            return loaded

    def billing_run(self, tenant_id: UUID, account_ids: Sequence[UUID] | None, amount: Decimal,
                    description: str | None = None) -> tuple[datetime, list[Invoice]]:
        """Invoice the accounts (all of the tenant's when None) at once: see ``InvoiceEngine.billing_run``."""
        with self.lock:
            if tenant_id not in self.tenants:
                raise errors.no_tenant(tenant_id)
            if account_ids is None:
                accounts = [a for a in self.accounts.values() if a.tenant_id == tenant_id]
            else:
                accounts = [self.account(tenant_id, account_id) for account_id in account_ids]
            if len({a.id for a in accounts}) != len(accounts):
                raise ValueError("an account is named twice")
        return self.invoices_engine.billing_run(accounts, amount, description)

    def set_clock(self, instant: datetime) -> datetime:
        return self.clock.set(instant)

    def advance_clock(self, delta: timedelta) -> datetime:
        return self.clock.advance(delta)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait for background work that is due now: auto-pay runs and push deliveries."""
        return self.bus.wait_idle(timeout) and self.push.wait_idle(timeout) and self.bus.wait_idle(timeout)

    def start_janitor_timer(self) -> None:
        if self._janitor_thread is None:
            self._janitor_thread = threading.Thread(target=self._janitor_loop, name="kb-sim-janitor", daemon=True)
            self._janitor_thread.start()

    def close(self) -> None:
        self._stop.set()
        self.bus.stop()
        self.push.stop()

    def _janitor_loop(self) -> None:
        while not self._stop.wait(self.config.janitor_poll_seconds):
            self.bus.submit(lambda: self.janitor.run(due_only=True))

    def new_tenant(self, api_key: str, api_secret: str, external_key: str | None) -> Tenant:
        with self.lock:
            if self.tenant_by_api_key(api_key) is not None:
                raise errors.tenant_exists(api_key)
            tenant = Tenant(new_id(), api_key, api_secret, external_key, self.clock.now())
            self.tenants[tenant.id] = tenant
            return tenant
