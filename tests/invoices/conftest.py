"""Invoice flow tests reuse the plugin harness: simulators, the mapped tenant, the bridge app; the Kill
Bill simulator calls the bridge's plugin contract served on loopback."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from bridge.db.engine import session_scope
from bridge.db.invoices import Message
from bridge.db.jobs import Job
from bridge.db.tenancy import Tenant
from bridge.invoices import messages, paylinks
from bridge.jobs.worker import Worker
from bridge.simulators.server import BackgroundServer
from bridge.simulators.smtp import SmtpSink
from bridge.tenancy import service
from bridge.tenancy.verify import callback_target, register_callback
from killbill_client.constants import AUTO_PAY_OFF
from killbill_client.models import ExternalCharge
from tests.jobs import drain, fast_worker
from tests.plugin.conftest import *  # noqa: F401,F403
from tests.plugin.conftest import PLUGIN_SECRET, new_account, save_card

PLUGIN_NAME = "hyperswitch-bridge"


@pytest.fixture
def bridge_server(app, kb_state, tenant_id) -> Iterator[BackgroundServer]:  # type: ignore[no-untyped-def]
    with BackgroundServer(app) as server:
        kb_state.configure_plugin(UUID(tenant_id), PLUGIN_NAME, server.url, PLUGIN_SECRET)
        yield server


@dataclass
class Payor:
    kb: Any
    kb_state: Any
    env: Any
    account_id: UUID

    def invoice(self, amount: str, description: str = "Monthly plan") -> UUID:
        items = self.kb.invoices.create_external_charges(
            self.account_id, [ExternalCharge(amount=Decimal(amount), description=description)])
        assert self.kb_state.wait_idle(timeout=30)
        return items[0].invoice_id

    def link(self, invoice_id: UUID) -> tuple[Any, str]:
        link, url = paylinks.open_pay_link(self.env, self.account_id, invoice_id, "manual_pay")
        return link, "/pay/" + url.rsplit("/pay/", 1)[1]


def make_payor(kb, kb_state, hs, runtime, tenant_id, *, currency: str = "USD",  # type: ignore[no-untyped-def]
               with_card: bool = True) -> Payor:
    """An AUTO_PAY_OFF account (Kill Bill does not auto-pay it), with a card saved through the plugin."""
    from bridge.payments import ids

    account = new_account(kb, currency=currency)
    kb.tags.add_to_account(account.account_id, [AUTO_PAY_OFF])
    if with_card:
        _pm, mandate_id = save_card(hs, ids.customer_id(account.account_id), currency=currency)
        kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True,
                               plugin_info_properties={"hsMandateId": mandate_id})
    return Payor(kb, kb_state, runtime.tenant_env(tenant_id), account.account_id)


@pytest.fixture
def payor(kb, kb_state, hs, runtime, tenant_id, bridge_server) -> Payor:  # type: ignore[no-untyped-def]
    return make_payor(kb, kb_state, hs, runtime, tenant_id)


# -- the deployed flow: Kill Bill pushes, the worker runs with a clock tests move, emails reach SMTP -------
SENDER, BRAND = "billing@acme.test", "Acme Cloud"


class MovingClock:
    """Real time plus an offset that tests move forward: the bridge's runtime and both simulators follow it."""

    def __init__(self, kb_state: Any) -> None:
        self.offset = timedelta(0)
        self.kb_state = kb_state

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def move_to(self, instant: datetime) -> None:
        delta = instant - self()
        assert delta >= timedelta(0), "the clock only moves forward"
        self.offset += delta
        self.kb_state.advance_clock(delta)


@pytest.fixture
def clock(runtime, hs_state, kb_state) -> MovingClock:  # type: ignore[no-untyped-def]
    moving = MovingClock(kb_state)
    runtime.clock = moving
    hs_state.clock = moving
    runtime.reset_clients()
    return moving


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


@dataclass
class Flow:
    """The bridge as deployed against the simulators (see the fixture)."""

    runtime: Any
    kb: Any
    kb_state: Any
    tenant_id: str
    url: str
    smtp: SmtpSink
    clock: MovingClock
    worker: Worker

    def drain(self, rounds: int = 200) -> None:
        """Run due jobs, letting Kill Bill deliver what they cause, until nothing is due."""
        drain(self.worker, self.kb_state, rounds=rounds, strict=True)

    def run_until(self, done: Callable[[], bool], rounds: int = 100) -> None:
        """Run jobs one at a time until ``done()`` (e.g. a send failed once while SMTP is down)."""
        for _ in range(rounds):
            assert self.kb_state.wait_idle(timeout=30)
            if done():
                return
            if not self.worker.run_once():
                time.sleep(0.02)
        raise AssertionError("the condition never held")

    def configure(self, **settings: Any) -> None:
        """Merge into the tenant's settings (as `bridge tenants update --settings-file` would)."""
        with session_scope(self.runtime.sessions) as session:
            tenant = session.get(Tenant, self.tenant_id)
            merged = dict(tenant.settings)
            for group, values in settings.items():
                merged[group] = {**merged.get(group, {}), **values}
            tenant.settings = merged

    @property
    def env(self) -> Any:
        return self.runtime.tenant_env(self.tenant_id)

    def messages(self, invoice_id: UUID, kind: str | None = None) -> list[Message]:
        with session_scope(self.runtime.sessions) as session:
            query = select(Message).where(Message.kb_invoice_id == str(invoice_id)).order_by(Message.id)
            if kind is not None:
                query = query.where(Message.kind == kind)
            return list(session.scalars(query))

    def due_at(self, message: Message) -> datetime:
        """When the message's send job runs."""
        with session_scope(self.runtime.sessions) as session:
            return session.scalars(select(Job.run_at).where(
                Job.dedupe_key == messages.send_job_dedupe_key(message.id))).one()

    def emails(self, subject_part: str = "") -> list[EmailMessage]:
        return [r.email for r in self.smtp.received if subject_part in r.email["Subject"]]

    def path_of(self, email: EmailMessage) -> str:
        """The /pay/<token> path of the email's link (in its plain-text body)."""
        text = email.get_body(("plain",)).get_content()
        found = re.search(rf"{re.escape(self.url)}(/pay/[A-Za-z0-9._-]+)", text)
        assert found, text
        return found.group(1)


@pytest.fixture
def flow(runtime, kb, kb_state, hs_state, tenant_id, bridge_server, smtp, clock) -> Flow:  # type: ignore[no-untyped-def]
    """Kill Bill's push notifications registered the bridge's way (to its callback URL on loopback, on a
    compressed retry schedule), the tenant's email settings, SMTP to the sink, a worker on the moving clock."""
    kb_state.config.push_retries = tuple(timedelta(seconds=s) for s in (0.05, 0.1, 0.2))
    runtime.settings = runtime.settings.model_copy(update={
        "public_url": bridge_server.url, "smtp_host": smtp.host, "smtp_port": smtp.port, "smtp_timeout_seconds": 5})
    with session_scope(runtime.sessions) as session:
        tenant = session.get(Tenant, tenant_id)
        tenant.settings = {**tenant.settings, "email": {"sender": SENDER, "brand_name": BRAND}}
        target = callback_target(tenant, runtime.keyring, bridge_server.url, registering=True)
        creds = service.credentials(tenant, runtime.keyring)
    assert register_callback(creds, target).status == "pass"
    runtime.reset_clients()
    worker = fast_worker(runtime, clock=clock)
    result = Flow(runtime, kb, kb_state, tenant_id, bridge_server.url, smtp, clock, worker)
    result.drain()  # Kill Bill's TENANT_CONFIG_CHANGE about the new callback
    return result
