"""The invoice flow end to end, as deployed: Kill Bill pushes its notifications to the bridge's callback, the
inbox stores them, the worker runs the handlers and the send jobs (on a clock the tests move forward),
and every email reaches a real SMTP server. Kill Bill drives the bridge's plugin contract for every
payment, so failed, pending and successful automatic payments are Kill Bill's own data."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
import requests
from sqlalchemy import select

from bridge.db.engine import session_scope
from bridge.db.invoices import MessageStatus, PayLinkState, ReminderOptOut
from bridge.db.payments import PaymentMethod
from bridge.db.webhooks import EventSource, InboundEvent
from bridge.invoices import paylinks
from bridge.invoices.formatting import format_date
from bridge.jobs import RetryLater
from bridge.simulators.payors import save_card
from bridge.webhooks import hyperswitch as hs_webhooks
from killbill_client.models import Account, ExternalCharge
from tests.invoices.conftest import BRAND, PLUGIN_NAME, Flow, Payor, make_payor
from tests.invoices.test_pay_flow import CARD, pay_on_hosted_page
from tests.plugin.conftest import new_account

SECOND_CARD = "5555555555554444"


def payor_of(flow: Flow, hs, **options) -> Payor:  # type: ignore[no-untyped-def]
    """An AUTO_PAY_OFF account (the payor pays by hand), with a card on file unless ``with_card=False``."""
    return make_payor(flow.kb, flow.kb_state, hs, flow.runtime, flow.tenant_id, **options)


def texts(email) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return email.get_body(("plain",)).get_content(), email.get_body(("html",)).get_content()


def statuses(flow: Flow, invoice_id: UUID, kind: str) -> list[tuple[MessageStatus, str | None]]:
    return [(m.status, m.last_error) for m in flow.messages(invoice_id, kind)]


def failed_once(flow: Flow, invoice_id: UUID, kind: str) -> bool:
    return any(m.status is MessageStatus.FAILED for m in flow.messages(invoice_id, kind))


def events(flow: Flow, event_type: str) -> list[InboundEvent]:
    with session_scope(flow.runtime.sessions) as session:
        return list(session.scalars(select(InboundEvent).where(
            InboundEvent.source == EventSource.KILLBILL, InboundEvent.event_type == event_type)))


def pay_by_link(client, path: str, number: str = "4242424242424242", *, save: bool = False) -> str:  # type: ignore[no-untyped-def]
    """Pay now, pay on the Hyperswitch hosted page, come back: the return page's HTML."""
    target = client.post(path).headers["Location"]
    if save:
        done = requests.post(target, data={**CARD, "card_number": number, "save_card": "on"},
                             allow_redirects=False, timeout=10)
        assert done.status_code == 303, done.text
    else:
        done = pay_on_hosted_page(target, number)
    page = client.get(f"{path}/return?" + done.headers["Location"].split("?", 1)[1])
    assert page.status_code == 200
    return page.get_data(as_text=True)


def at_nine(day, days: int) -> datetime:  # type: ignore[no-untyped-def]
    return datetime.combine(day + timedelta(days=days), time(9), UTC)


# -- reminders ---------------------------------------------------------------------------------------------
def test_reminders_go_out_at_their_times_each_once_with_the_current_balance(flow, hs, client) -> None:
    flow.configure(pay_by_link={"payment_terms_days": 30},
                   reminders={"days_after_invoice": [3, 7], "days_before_due": [2]})
    payor = payor_of(flow, hs)
    invoice_id = payor.invoice("49.90")
    flow.drain()

    [invoice_email] = flow.emails()
    invoice = flow.kb.invoices.get(invoice_id)
    due = format_date(invoice.invoice_date + timedelta(days=30), "en_US")
    assert invoice_email["Subject"] == f"{BRAND}: invoice {invoice.invoice_number} for $49.90"
    assert f"Due: {due}" in texts(invoice_email)[0]
    reminders = flow.messages(invoice_id, "reminder")
    assert [m.send_key for m in reminders] == [f"{invoice_id}:reminder:{n}" for n in (1, 2, 3)]
    assert [flow.due_at(m) for m in reminders] == [at_nine(invoice.invoice_date, d) for d in (3, 7, 28)]
    assert {m.status for m in reminders} == {MessageStatus.QUEUED}

    flow.clock.move_to(flow.due_at(reminders[0]) - timedelta(minutes=1))
    flow.drain()
    assert len(flow.smtp.received) == 1  # not before its time

    flow.clock.move_to(flow.due_at(reminders[0]))
    flow.drain()
    [first] = flow.emails("Reminder")
    assert first["Subject"] == f"Reminder: invoice {invoice.invoice_number} from {BRAND} is due {due}"
    assert first["To"] == "ada@example.test" and first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = texts(first)
    assert "$49.90 to pay" in text and "$49.90" in html
    page = client.get(flow.path_of(first))
    assert page.status_code == 200 and "49.90" in page.get_data(as_text=True)

    # A partial payment meanwhile (recorded in Kill Bill by the merchant): the next reminder asks for the rest.
    flow.kb.invoice_payments.pay_invoice(invoice_id, payor.account_id, external_payment=True, amount=Decimal("20"))
    flow.drain()
    flow.clock.move_to(flow.due_at(reminders[1]))
    flow.drain()
    [second] = flow.emails("Reminder (2)")
    assert "$29.90 to pay" in texts(second)[0] and "$49.90" not in texts(second)[0]

    flow.clock.move_to(flow.due_at(reminders[2]))
    flow.drain()
    flow.clock.move_to(flow.due_at(reminders[2]) + timedelta(days=30))
    flow.drain()
    assert [e["Subject"].split(":")[0] for e in flow.emails("Reminder")] == [
        "Reminder", "Reminder (2)", "Reminder (3)"]
    assert statuses(flow, invoice_id, "reminder") == [(MessageStatus.SENT, None)] * 3
    assert len(flow.smtp.received) == 4


def test_a_reminder_goes_to_the_accounts_current_address(flow, hs) -> None:
    payor = payor_of(flow, hs)
    invoice_id = payor.invoice("10.00")
    flow.drain()
    # The payor changes their email in Kill Bill, which pushes ACCOUNT_CHANGE (the bridge copies it to the
    # Hyperswitch customer).
    flow.kb.accounts.update(payor.account_id, Account(email="ada@new.example"))
    flow.drain()
    *_, change = [e for e in events(flow, "ACCOUNT_CHANGE") if e.object_id == str(payor.account_id)]
    assert change.state.value == "processed" and "email" in change.outcome

    [reminder, *_] = flow.messages(invoice_id, "reminder")
    flow.clock.move_to(flow.due_at(reminder))
    flow.drain()

    [email] = flow.emails("Reminder")
    assert email["To"] == "ada@new.example" and flow.smtp.received[-1].rcpt_tos == ["ada@new.example"]
    assert flow.messages(invoice_id, "reminder")[0].recipient == "ada@new.example"


def test_payment_terms_of_the_account_and_the_link_validity_shape_the_schedule(flow, hs) -> None:
    flow.configure(pay_by_link={"payment_terms_days": 30, "link_valid_days": 12},
                   reminders={"days_after_invoice": [3, 7, 14], "days_before_due": [1], "send_hour": 7})
    payor = payor_of(flow, hs)
    flow.kb.custom_fields.add_to_account(payor.account_id, {"PAYMENT_TERMS_DAYS": "10"})
    invoice_id = payor.invoice("12.00")
    flow.drain()

    invoice_date = flow.kb.invoices.get(invoice_id).invoice_date
    reminders = flow.messages(invoice_id, "reminder")
    # Due on day 10 (the account's terms): days 3, 7 and 9 fit in the link's 12 days; day 14 does not.
    assert [(m.send_key.rsplit(":", 1)[1], flow.due_at(m)) for m in reminders] == [
        ("1", at_nine(invoice_date, 3) - timedelta(hours=2)), ("2", at_nine(invoice_date, 7) - timedelta(hours=2)),
        ("3", at_nine(invoice_date, 9) - timedelta(hours=2))]
    assert reminders[0].context["due_date"] == format_date(invoice_date + timedelta(days=10), "en_US")


def test_paying_the_link_sends_one_receipt_and_stops_the_reminders(flow, hs, client) -> None:
    payor = payor_of(flow, hs)
    invoice_id = payor.invoice("49.90")
    flow.drain()
    [invoice_email] = flow.emails()

    page = pay_by_link(client, flow.path_of(invoice_email))
    flow.drain()  # the receipt; Kill Bill's INVOICE_PAYMENT_SUCCESS about the same payment adds nothing

    assert 'data-state="paid"' in page and flow.kb.invoices.get(invoice_id).balance == 0
    [payment] = flow.kb.invoice_payments.list_for_invoice(invoice_id)
    [receipt] = flow.emails("payment received")
    text, _html = texts(receipt)
    assert "we received your payment of $49.90" in text and "remains to be paid" not in text
    assert client.get(flow.path_of(receipt)).status_code == 200
    assert [m.send_key for m in flow.messages(invoice_id, "receipt")] == [f"{invoice_id}:receipt:{payment.payment_id}"]
    assert {status for status, _ in statuses(flow, invoice_id, "reminder")} == {MessageStatus.SKIPPED}
    assert all("paid" in reason for _, reason in statuses(flow, invoice_id, "reminder"))
    [success] = [e for e in events(flow, "INVOICE_PAYMENT_SUCCESS") if e.object_id == str(invoice_id)]
    assert "receipt" in success.outcome and "already queued" in success.outcome

    flow.clock.move_to(flow.clock() + timedelta(days=30))
    flow.drain()
    assert len(flow.smtp.received) == 2  # the invoice and the receipt: no reminder


def test_a_voided_invoice_gets_no_reminder_and_its_schedule_stops(flow, hs) -> None:
    payor = payor_of(flow, hs)
    invoice_id = payor.invoice("30.00")
    flow.drain()
    reminders = flow.messages(invoice_id, "reminder")

    # Kill Bill announces a void as INVOICE_ADJUSTMENT (killbill#1448): the bridge re-reads the invoice.
    flow.kb.invoices.void(invoice_id)
    flow.drain()

    [adjustment] = [e for e in events(flow, "INVOICE_ADJUSTMENT") if e.object_id == str(invoice_id)]
    assert adjustment.state.value == "processed" and "is voided" in adjustment.outcome
    assert paylinks.find_for_invoice(flow.env, invoice_id).state is PayLinkState.VOIDED
    assert statuses(flow, invoice_id, "reminder") == [(MessageStatus.SKIPPED, f"invoice {invoice_id} is voided")] * 3
    flow.clock.move_to(flow.due_at(reminders[-1]) + timedelta(hours=1))
    flow.drain()
    assert len(flow.smtp.received) == 1  # the invoice only


def test_an_invoice_adjusted_to_zero_stops_its_reminders_when_kill_bill_says_so(flow, hs) -> None:
    payor = payor_of(flow, hs)
    invoice_id = payor.invoice("30.00")
    flow.drain()

    # The biller adjusts every item away in Kill Bill, which pushes INVOICE_ADJUSTMENT.
    for item in flow.kb.invoices.get(invoice_id).items or []:
        assert item.invoice_item_id is not None
        flow.kb.invoices.adjust_item(invoice_id, payor.account_id, item.invoice_item_id, description="Goodwill")
    flow.drain()

    assert flow.kb.invoices.get(invoice_id).balance == 0
    assert paylinks.find_for_invoice(flow.env, invoice_id).state is PayLinkState.VOIDED
    assert statuses(flow, invoice_id, "reminder") == [(MessageStatus.SKIPPED, f"invoice {invoice_id} is voided")] * 3
    flow.clock.move_to(flow.clock() + timedelta(days=20))
    flow.drain()
    assert len(flow.smtp.received) == 1 and flow.emails("payment received") == []


# -- currencies, outages -----------------------------------------------------------------------------------
@pytest.mark.parametrize("currency, amount, shown", [("JPY", "1500", "¥1,500"), ("KRW", "25000", "₩25,000")])
def test_zero_decimal_currencies_from_invoice_to_receipt(flow, hs, client, currency, amount, shown) -> None:
    payor = payor_of(flow, hs, currency=currency)
    invoice_id = payor.invoice(amount)
    flow.drain()
    [invoice_email] = flow.emails()
    assert invoice_email["Subject"].endswith(f"for {shown}") and shown in texts(invoice_email)[1]
    path = flow.path_of(invoice_email)

    assert 'data-state="paid"' in pay_by_link(client, path)
    flow.drain()

    link = paylinks.find_for_invoice(flow.env, invoice_id)
    payment = hs.payments.retrieve(link.hs_payment_id)
    assert (payment.amount, payment.currency, link.amount_minor) == (int(amount), currency, int(amount))
    assert flow.kb.invoices.get(invoice_id).balance == 0
    [receipt] = flow.emails("payment received")
    assert f"we received your payment of {shown}" in texts(receipt)[0]


def test_smtp_down_then_up_sends_each_email_once(flow, hs) -> None:
    payor = payor_of(flow, hs)
    invoice_id = payor.invoice("15.00")
    flow.smtp.stop()
    flow.run_until(lambda: failed_once(flow, invoice_id, "pay_link"))
    [reminder, *_] = flow.messages(invoice_id, "reminder")
    flow.clock.move_to(flow.due_at(reminder))
    flow.run_until(lambda: failed_once(flow, invoice_id, "reminder"))
    assert "cannot reach SMTP" in statuses(flow, invoice_id, "pay_link")[0][1]

    flow.smtp.start()  # the same port again
    flow.drain()

    assert sorted(e["Subject"].split(":")[0] for e in flow.emails()) == [BRAND, "Reminder"]
    sent = flow.messages(invoice_id, "pay_link") + flow.messages(invoice_id, "reminder")[:1]
    assert [(m.status, m.attempts >= 2) for m in sent] == [(MessageStatus.SENT, True)] * 2
    flow.drain()
    assert len(flow.smtp.received) == 2


# -- automatic payments: failed, pending, retried ----------------------------------------------------------
def auto_paying_account(flow: Flow, hs) -> tuple[UUID, str]:  # type: ignore[no-untyped-def]
    """An account Kill Bill charges automatically: its default payment method holds a Hyperswitch mandate."""
    from bridge.payments import ids

    account = new_account(flow.kb)
    _pm, mandate_id = save_card(hs, ids.customer_id(account.account_id))
    flow.kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True,
                                plugin_info_properties={"hsMandateId": mandate_id})
    return account.account_id, mandate_id


def invoice_of(flow: Flow, account_id: UUID, amount: str) -> UUID:
    """A committed invoice: Kill Bill pays it at once with the default payment method, through the plugin."""
    items = flow.kb.invoices.create_external_charges(account_id, [ExternalCharge(amount=Decimal(amount),
                                                                                 description="Monthly plan")])
    assert flow.kb_state.wait_idle(timeout=30)
    return items[0].invoice_id


def test_a_declined_automatic_payment_says_pay_here_or_update_your_card(flow, hs, hs_state, client) -> None:
    # A reminder still ahead once Kill Bill's retries (24 days) are over.
    flow.configure(reminders={"days_after_invoice": [28]})
    account_id, mandate_id = auto_paying_account(flow, hs)
    hs_state.set_mandate_behaviour(mandate_id, "decline")
    invoice_id = invoice_of(flow, account_id, "42.00")
    # Kill Bill retries the automatic payment (org.killbill.payment.retry.days 8,8,8): nothing is sent while a
    # retry is scheduled; the fourth decline is final.
    flow.drain()
    for _retry in range(3):
        assert flow.smtp.received == []
        flow.clock.move_to(flow.clock() + timedelta(days=8))
        flow.drain()
    [declined] = flow.kb.invoice_payments.list_for_invoice(invoice_id, with_attempts=True)
    assert [str(t.status) for t in declined.transactions or []] == ["PAYMENT_FAILURE"] * 4  # Kill Bill's own
    assert [a.state_name for a in declined.payment_attempts or []] == ["ABORTED"]

    [creation] = [e for e in events(flow, "INVOICE_CREATION") if e.object_id == str(invoice_id)]
    assert "does not pay by link" in creation.outcome  # paid automatically: no link at first
    [email] = flow.emails()
    number = flow.kb.invoices.get(invoice_id).invoice_number
    assert email["Subject"] == f"{BRAND}: your payment for invoice {number} failed" and email["To"] == "ada@example.test"
    text, html = texts(email)
    assert "could not collect the automatic payment of $42.00" in text
    assert "Pay it here" in text and "update your card" in text and "update your card" in html
    path = flow.path_of(email)
    assert f'href="{flow.url}{path}"' in html
    page = client.get(path).get_data(as_text=True)
    assert "42.00" in page and "Pay now" in page
    assert flow.messages(invoice_id)[0].send_key == f"{invoice_id}:payment_failed:{declined.payment_id}"

    # The payor's bank approves again and Kill Bill charges the invoice: a receipt, no more reminders.
    hs_state.set_mandate_behaviour(mandate_id, "approve")
    flow.kb.invoice_payments.pay_invoice(invoice_id, account_id)
    flow.drain()
    [receipt] = flow.emails("payment received")
    assert "we received your payment of $42.00" in texts(receipt)[0]
    assert {status for status, _ in statuses(flow, invoice_id, "reminder")} == {MessageStatus.SKIPPED}


def test_a_pending_automatic_payment_sends_nothing(flow, hs, hs_state) -> None:
    account_id, mandate_id = auto_paying_account(flow, hs)
    hs_state.set_mandate_behaviour(mandate_id, "processing")
    invoice_id = invoice_of(flow, account_id, "42.00")

    flow.drain()

    [pending] = flow.kb.invoice_payments.list_for_invoice(invoice_id)
    assert str(pending.transactions[-1].status) == "PENDING"
    [event] = [e for e in events(flow, "INVOICE_PAYMENT_FAILED") if e.object_id == str(invoice_id)]
    assert event.state.value == "skipped" and "PENDING" in event.outcome
    assert flow.smtp.received == [] and paylinks.find_for_invoice(flow.env, invoice_id) is None


def test_a_failure_kill_bill_will_retry_sends_nothing(flow, hs, hs_state) -> None:
    account_id, mandate_id = auto_paying_account(flow, hs)
    hs_state.set_mandate_behaviour(mandate_id, "decline")
    invoice_id = invoice_of(flow, account_id, "42.00")
    # Kill Bill's retry schedule (org.killbill.payment.retry.days): the failed attempt RETRIED, the next SCHEDULED.
    [payment] = flow.kb.invoice_payments.list_for_invoice(invoice_id, with_attempts=True)
    assert [a.state_name for a in payment.payment_attempts or []] == ["RETRIED", "SCHEDULED"]

    flow.drain()

    [event] = [e for e in events(flow, "INVOICE_PAYMENT_FAILED") if e.object_id == str(invoice_id)]
    assert event.state.value == "skipped" and "retry scheduled" in event.outcome
    assert flow.smtp.received == []

    # The bank approves again and Kill Bill's retry, eight days later, pays the invoice: still nothing to send.
    hs_state.set_mandate_behaviour(mandate_id, "approve")
    flow.clock.move_to(flow.clock() + timedelta(days=8))
    flow.drain()
    assert flow.kb.invoices.get(invoice_id).balance == 0
    assert flow.smtp.received == [] and paylinks.find_for_invoice(flow.env, invoice_id) is None


# -- saved cards -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("becomes_default", [False, True])
def test_a_card_saved_on_the_link_is_added_to_kill_bill_once(flow, hs, client, bridge_server, becomes_default) -> None:
    flow.configure(pay_by_link={"offer_to_save_card": True, "saved_card_becomes_default": becomes_default})
    payor = payor_of(flow, hs)
    default_before = flow.kb.accounts.get(payor.account_id).payment_method_id
    invoice_id = payor.invoice("19.99")
    flow.drain()
    path = flow.path_of(flow.emails()[0])
    target = requests.post(bridge_server.url + path, allow_redirects=False, timeout=10).headers["Location"]
    done = requests.post(target, data={**CARD, "card_number": SECOND_CARD, "save_card": "on"},
                         allow_redirects=False, timeout=10)
    assert done.status_code == 303
    hs_payment_id = paylinks.find_for_invoice(flow.env, invoice_id).hs_payment_id
    go = threading.Barrier(3)

    def webhook() -> str:
        go.wait()
        try:
            return hs_webhooks._payment(flow.env, hs_payment_id).outcome
        except RetryLater as exc:  # while a return page records it
            return repr(exc)

    def return_page() -> str:
        go.wait()
        return requests.get(f"{bridge_server.url}{path}/return", timeout=30).text

    with ThreadPoolExecutor(3) as pool:
        results = [f.result() for f in [pool.submit(webhook), pool.submit(return_page), pool.submit(return_page)]]

    assert all('data-state="paid"' in page for page in results[1:]), results
    saved_pm = hs.payments.retrieve(hs_payment_id).payment_method_id
    methods = flow.kb.payment_methods.list_for_account(payor.account_id)
    with session_scope(flow.runtime.sessions) as session:
        rows = list(session.scalars(select(PaymentMethod).where(PaymentMethod.hs_payment_method_id == saved_pm)))
    [row] = rows
    assert len(methods) == 2 and row.kb_payment_method_id in {str(m.payment_method_id) for m in methods}
    assert {m.plugin_name for m in methods} == {PLUGIN_NAME}
    default_now = flow.kb.accounts.get(payor.account_id).payment_method_id
    assert str(default_now) == (row.kb_payment_method_id if becomes_default else str(default_before))
    assert row.is_default is becomes_default and row.card_last4 == SECOND_CARD[-4:]
    assert len(flow.kb.invoice_payments.list_for_invoice(invoice_id)) == 1
    assert flow.kb.invoices.get(invoice_id).balance == 0


def test_a_first_card_saved_on_the_link_also_records_the_payment(flow, hs, client) -> None:
    flow.configure(pay_by_link={"offer_to_save_card": True})
    payor = payor_of(flow, hs, with_card=False)
    invoice_id = payor.invoice("25.00")
    flow.drain()

    page = pay_by_link(client, flow.path_of(flow.emails()[0]), save=True)

    [method] = flow.kb.payment_methods.list_for_account(payor.account_id)
    [payment] = flow.kb.invoice_payments.list_for_invoice(invoice_id)
    assert 'data-state="paid"' in page and flow.kb.invoices.get(invoice_id).balance == 0
    assert method.plugin_name == PLUGIN_NAME and payment.payment_method_id == method.payment_method_id
    assert flow.kb.accounts.get(payor.account_id).payment_method_id is None  # not the default: the policy's call


def test_a_card_not_saved_adds_nothing(flow, hs, client) -> None:
    flow.configure(pay_by_link={"offer_to_save_card": True})
    payor = payor_of(flow, hs)
    invoice_id = payor.invoice("25.00")
    flow.drain()

    assert 'data-state="paid"' in pay_by_link(client, flow.path_of(flow.emails()[0]), SECOND_CARD)

    assert len(flow.kb.payment_methods.list_for_account(payor.account_id)) == 1
    assert flow.kb.invoices.get(invoice_id).balance == 0


# -- unsubscribing -----------------------------------------------------------------------------------------
def test_one_click_unsubscribe_stops_the_reminders_of_the_account(flow, hs) -> None:
    payor = payor_of(flow, hs)
    invoice_id = payor.invoice("30.00")
    flow.drain()
    reminders = flow.messages(invoice_id, "reminder")
    flow.clock.move_to(flow.due_at(reminders[0]))
    flow.drain()
    [reminder] = flow.emails("Reminder")
    one_click = reminder["List-Unsubscribe"].split(", ")[0].strip("<>")
    assert one_click.startswith(f"{flow.url}/pay/unsubscribe/") and one_click in texts(reminder)[0]

    page = requests.get(one_click, timeout=10)  # a mail scanner, or the payor reading first
    assert page.status_code == 200 and "<form" in page.text and "Stop payment reminders" in page.text
    assert statuses(flow, invoice_id, "reminder")[1][0] is MessageStatus.QUEUED  # a GET changes nothing

    done = requests.post(one_click, data={"List-Unsubscribe": "One-Click"}, allow_redirects=False, timeout=10)
    again = requests.post(one_click, data={"List-Unsubscribe": "One-Click"}, allow_redirects=False, timeout=10)

    assert done.status_code == 200 and again.status_code == 200 and "no longer receive" in done.text
    assert statuses(flow, invoice_id, "reminder")[1:] == [
        (MessageStatus.SKIPPED, "the payor unsubscribed from payment reminders")] * 2
    with session_scope(flow.runtime.sessions) as session:
        opt_out = session.get(ReminderOptOut, (flow.tenant_id, str(payor.account_id)))
    assert opt_out is not None and opt_out.source == "one_click"
    flow.clock.move_to(flow.due_at(reminders[-1]) + timedelta(hours=1))
    flow.drain()
    assert len(flow.emails("Reminder")) == 1

    later = payor.invoice("8.00")  # a new invoice: its email, but no reminders
    flow.drain()
    assert flow.messages(later, "reminder") == [] and len(flow.emails("for $8.00")) == 1


def test_an_unsubscribe_link_that_is_not_ours_is_404(flow, hs) -> None:
    token = "eyJ0IjoiYSJ9.forged"
    for method in (requests.get, requests.post):
        response = method(f"{flow.url}/pay/unsubscribe/{token}", timeout=10)
        assert response.status_code == 404 and "not valid" in response.text
    with session_scope(flow.runtime.sessions) as session:
        assert session.scalars(select(ReminderOptOut)).all() == []


def test_an_account_without_email_gets_nothing_but_its_link_is_kept(flow, hs) -> None:
    account = flow.kb.accounts.create(Account(name="No Mail", currency="USD", external_key=f"nm-{uuid4().hex[:8]}"))
    from killbill_client.constants import AUTO_PAY_OFF

    flow.kb.tags.add_to_account(account.account_id, [AUTO_PAY_OFF])
    items = flow.kb.invoices.create_external_charges(account.account_id, [ExternalCharge(amount=Decimal("5"))])
    assert flow.kb_state.wait_idle(timeout=30)
    invoice_id = items[0].invoice_id

    flow.drain()

    assert paylinks.find_for_invoice(flow.env, invoice_id) is not None
    assert statuses(flow, invoice_id, "pay_link") == [(MessageStatus.SKIPPED, "no recipient address")]
    assert flow.smtp.received == []
