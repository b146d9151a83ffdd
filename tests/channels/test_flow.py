"""Channels end to end, as deployed: Kill Bill pushes to the bridge's callback, the handlers queue a message
per channel the payor gets, the worker sends email to SMTP and SMS/WhatsApp to the local messaging provider;
replayed pushes send nothing twice."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest
import requests
from sqlalchemy import select

from bridge.db.engine import session_scope
from bridge.db.invoices import MessageStatus
from bridge.db.jobs import JobState
from bridge.db.tenancy import Tenant
from bridge.db.webhooks import EventSource, InboundEvent
from bridge.tenancy import service
from bridge.tenancy.schemas import TenantUpdate
from bridge.webhooks.admin import replay_event
from killbill_client.constants import AUTO_PAY_OFF
from killbill_client.models import Account, ExternalCharge
from tests.channels.conftest import PAYOR_PHONE, SMS_SENDER, Provider, send_job, text_settings
from tests.invoices.conftest import *  # noqa: F401,F403  (the deployed flow: simulators, worker, SMTP sink)
from tests.invoices.conftest import Flow

ALL = "email, sms, whatsapp"


@pytest.fixture
def texting(flow: Flow, provider: Provider) -> Flow:
    """The flow's tenant sends SMS and WhatsApp through the local provider (operators set it like this)."""
    with session_scope(flow.runtime.sessions) as session:
        service.update_tenant(session, flow.tenant_id, TenantUpdate.model_validate(
            {**provider.credentials(), "settings": {"channels": text_settings()}}), flow.runtime.keyring)
    return flow


def payor(flow: Flow, *, phone: str | None = "+1 (415) 555-2671", channels: str | None = ALL,
          country: str | None = None) -> UUID:
    """An account that pays by hand (AUTO_PAY_OFF), with its phone and its NOTIFICATION_CHANNELS."""
    account = flow.kb.accounts.create(Account(name="Ada Lovelace", email="ada@example.test", phone=phone,
                                              country=country, currency="USD", external_key=f"ada-{uuid4().hex[:8]}"))
    flow.kb.tags.add_to_account(account.account_id, [AUTO_PAY_OFF])
    if channels is not None:
        flow.kb.custom_fields.add_to_account(account.account_id, {"NOTIFICATION_CHANNELS": channels})
    assert account.account_id is not None
    return account.account_id


def invoice(flow: Flow, account_id: UUID, amount: str = "49.90") -> UUID:
    items = flow.kb.invoices.create_external_charges(account_id, [ExternalCharge(amount=Decimal(amount),
                                                                                 description="Monthly plan")])
    assert flow.kb_state.wait_idle(timeout=30)
    assert items[0].invoice_id is not None
    return items[0].invoice_id


def by_channel(flow: Flow, invoice_id: UUID, kind: str) -> dict[str, Any]:
    return {m.channel: m for m in flow.messages(invoice_id, kind)}


def pay_path(flow: Flow, text: str) -> str:
    found = re.search(rf"{re.escape(flow.url)}(/pay/[A-Za-z0-9._-]+)", text)
    assert found, text
    return found.group(1)


def creation_events(flow: Flow, invoice_id: UUID) -> list[InboundEvent]:
    """Every delivery of the invoice's INVOICE_CREATION push, as the inbox stored it."""
    with session_scope(flow.runtime.sessions) as session:
        return list(session.scalars(select(InboundEvent).where(
            InboundEvent.source == EventSource.KILLBILL, InboundEvent.event_type == "INVOICE_CREATION",
            InboundEvent.object_id == str(invoice_id)).order_by(InboundEvent.id)))


def test_an_invoice_reaches_the_payor_on_every_channel_once_even_under_replays(texting, provider, client) -> None:
    flow = texting
    invoice_id = invoice(flow, payor(flow))
    flow.drain()

    number = flow.kb.invoices.get(invoice_id).invoice_number
    [email] = flow.emails()
    [sms] = provider.sent("sms")
    [whatsapp] = provider.sent("whatsapp")
    assert email["To"] == "ada@example.test"
    assert (sms.to, sms.from_) == (PAYOR_PHONE, SMS_SENDER) and whatsapp.to == f"whatsapp:{PAYOR_PHONE}"
    assert "\n" not in sms.body and sms.body.startswith(f"Acme Cloud: invoice {number}, $49.90 to pay")
    assert "$49.90" in whatsapp.body and len(whatsapp.body.splitlines()) > 3
    # Each text carries the invoice's /pay link, which opens the invoice.
    paths = {pay_path(flow, sms.body), pay_path(flow, whatsapp.body), flow.path_of(email)}
    for path in paths:
        page = client.get(path)
        assert page.status_code == 200 and "49.90" in page.get_data(as_text=True)

    sent = by_channel(flow, invoice_id, "pay_link")
    assert {c: (m.status, m.send_key) for c, m in sent.items()} == {
        c: (MessageStatus.SENT, f"{invoice_id}:pay_link:1") for c in ("email", "sms", "whatsapp")}
    assert sent["sms"].provider_message_id == sms.sid and sent["sms"].recipient == PAYOR_PHONE
    reminders = flow.messages(invoice_id, "reminder")
    assert len(reminders) == 9 and {m.channel for m in reminders} == {"email", "sms", "whatsapp"}

    # Kill Bill delivers the same notification again, and an operator replays it twice.
    [event] = creation_events(flow, invoice_id)
    with session_scope(flow.runtime.sessions) as session:
        token = service.callback_token(session.get(Tenant, flow.tenant_id), flow.runtime.keyring)
    again = requests.post(f"{flow.url}/webhooks/killbill/{token}", data=event.body,
                          headers={"Content-Type": "application/json"}, timeout=10)
    assert again.status_code < 300
    for _ in range(2):
        with session_scope(flow.runtime.sessions) as session:
            replay_event(session, event.id, flow.clock())
        flow.drain()
    deliveries = creation_events(flow, invoice_id)
    assert len(deliveries) == 2 and {e.state.value for e in deliveries} == {"processed"}
    assert "already queued" in deliveries[1].outcome
    assert len(flow.smtp.received) == 1 and len(provider.sent()) == 2
    assert len(flow.messages(invoice_id)) == 12  # one pay_link and three reminders on each channel


def test_the_tenants_default_channels_and_a_payor_without_a_usable_phone(texting, provider) -> None:
    flow = texting
    flow.configure(channels={"default": ["email", "sms"]})
    no_phone = invoice(flow, payor(flow, phone=None, channels=None))
    bad_phone = invoice(flow, payor(flow, phone="555-0100", channels=None))  # national, no country known
    national = invoice(flow, payor(flow, phone="(415) 555-2671", channels=None, country="US"))
    flow.drain()

    assert len(flow.smtp.received) == 3  # email goes out regardless
    for invoice_id, reason in ((no_phone, "the account has no phone number"),
                               (bad_phone, "the account's phone number is not a valid E.164 number")):
        sms = by_channel(flow, invoice_id, "pay_link")["sms"]
        assert (sms.status, sms.last_error) == (MessageStatus.SKIPPED, reason)
        job = send_job(flow.runtime, sms.id)
        assert job.state is JobState.DONE and job.attempts == 1  # skipped, not a failing loop
        assert "whatsapp" not in by_channel(flow, invoice_id, "pay_link")
    [sms] = provider.sent("sms")  # the national number, read in the account's country
    assert sms.to == PAYOR_PHONE and by_channel(flow, national, "pay_link")["sms"].status is MessageStatus.SENT


def test_reminders_by_sms_go_out_at_their_times_and_stop_when_paid(texting, provider) -> None:
    flow = texting
    flow.configure(reminders={"days_after_invoice": [3, 7]})
    account_id = payor(flow, channels="sms")
    invoice_id = invoice(flow, account_id, "20.00")
    flow.drain()
    assert flow.smtp.received == [] and len(provider.sent("sms")) == 1
    first, second = flow.messages(invoice_id, "reminder")
    assert (first.channel, second.channel) == ("sms", "sms")

    flow.clock.move_to(flow.due_at(first))
    flow.drain()
    reminder = provider.sent("sms")[-1]
    assert len(provider.sent()) == 2 and reminder.body.startswith("Reminder from Acme Cloud: invoice")
    assert "$20.00" in reminder.body and "/pay/" in reminder.body

    flow.kb.invoice_payments.pay_invoice(invoice_id, account_id, external_payment=True, amount=Decimal("20"))
    flow.drain()
    flow.clock.move_to(flow.due_at(second) + timedelta(minutes=1))
    flow.drain()
    assert len(provider.sent()) == 2
    assert flow.messages(invoice_id, "reminder")[1].status is MessageStatus.SKIPPED


def test_a_payor_who_drops_a_channel_gets_no_more_reminders_on_it(texting, provider) -> None:
    flow = texting
    flow.configure(reminders={"days_after_invoice": [3]})
    account_id = payor(flow, channels="email, whatsapp")
    invoice_id = invoice(flow, account_id)
    flow.drain()
    [field] = [f for f in flow.kb.custom_fields.list_for_account(account_id) if f.name == "NOTIFICATION_CHANNELS"]
    field.value = "email"
    flow.kb.custom_fields.modify_on_account(account_id, [field])
    reminders = by_channel(flow, invoice_id, "reminder")
    flow.clock.move_to(flow.due_at(reminders["whatsapp"]))
    flow.drain()
    reminders = by_channel(flow, invoice_id, "reminder")
    assert reminders["email"].status is MessageStatus.SENT
    assert reminders["whatsapp"].status is MessageStatus.SKIPPED
    assert "no longer gets whatsapp" in reminders["whatsapp"].last_error
    assert len(provider.sent("whatsapp")) == 1  # the invoice itself only


def test_a_rate_limited_provider_delays_the_texts_and_each_goes_once(texting, provider) -> None:
    flow = texting
    provider.state.rate_limit(requests=2, retry_after=60)
    invoice_id = invoice(flow, payor(flow, channels="sms, whatsapp"))
    flow.drain()
    pending = by_channel(flow, invoice_id, "pay_link")
    assert {m.status for m in pending.values()} == {MessageStatus.FAILED}
    assert provider.sent() == []
    job = send_job(flow.runtime, pending["sms"].id)
    assert job.state is JobState.PENDING and job.run_at - job.updated_at == timedelta(seconds=60)

    flow.clock.move_to(flow.clock() + timedelta(seconds=61))
    flow.drain()
    sent = by_channel(flow, invoice_id, "pay_link")
    assert {m.status for m in sent.values()} == {MessageStatus.SENT}
    assert len(provider.sent("sms")) == 1 and len(provider.sent("whatsapp")) == 1
    assert provider.state.answers[429] == 2
