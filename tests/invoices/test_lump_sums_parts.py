"""Part payments of one invoice (a tenant setting with a per-currency minimum), and the plugin's rule that
the parts of one Hyperswitch payment never add up to more than it received."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from bridge.db.engine import session_scope
from bridge.db.invoices import Message, MessageStatus, PayLinkState
from bridge.db.tenancy import Tenant
from bridge.invoices import handlers, lump_sums, paylinks, resolvers
from bridge.payments import ids
from bridge.tenancy.schemas import TenantSettings
from tests.invoices.test_pay_flow import _notify, pay_on_hosted_page
from tests.plugin.conftest import payment_call
from tests.plugin.test_link import paid


def allow_parts(runtime, tenant_id: str, **minimum: str) -> None:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        tenant = session.get(Tenant, tenant_id)
        tenant.settings = {**tenant.settings, "pay_by_link": {"part_payments": True,
                                                              "part_payment_minimum": minimum}}


def reminders(env, invoice_id) -> list[Message]:  # type: ignore[no-untyped-def]
    with session_scope(env.sessions) as session:
        return list(session.scalars(select(Message).where(Message.kb_invoice_id == str(invoice_id),
                                                          Message.kind == "reminder")))


@pytest.fixture
def invoice(payor):  # type: ignore[no-untyped-def]
    """A 100.00 invoice emailed to its payor (pay link and reminders queued)."""
    invoice_id = payor.invoice("100.00")
    handlers.invoice_creation(payor.env, _notify(payor.env, "INVOICE_CREATION", invoice_id, payor.account_id))
    return invoice_id


def test_without_the_setting_there_is_no_part_payment(client, payor, invoice) -> None:
    _link, path = payor.link(invoice)

    page = client.get(path).get_data(as_text=True)
    answer = client.post(f"{path}/part", data={"amount": "10.00"})

    assert "Pay part of it" not in page
    assert answer.status_code == 400 and "Part payments are not offered" in answer.get_data(as_text=True)


@pytest.mark.parametrize(("typed", "message"), [
    ("9.99", "The smallest part payment is 10.00 USD."),
    ("100.01", "You can pay at most the amount due, 100.00 USD."),
    ("ten", "Enter an amount in USD, such as 10.00."),
    ("10.001", "Enter an amount in USD, such as 10.00."),
    ("NaN", "Enter an amount in USD, such as 10.00."),
    ("", "Enter an amount in USD, such as 10.00."),
])
def test_a_part_out_of_bounds_is_refused_with_what_is_allowed(client, runtime, tenant_id, payor, invoice,
                                                              typed, message) -> None:
    allow_parts(runtime, tenant_id, USD="10.00")
    _link, path = payor.link(invoice)

    answer = client.post(f"{path}/part", data={"amount": typed})

    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and message in html and 'aria-invalid="true"' in html
    assert lump_sums.latest(payor.env, str(payor.account_id)) is None


def test_a_currency_without_a_minimum_takes_no_part_payment(client, runtime, tenant_id, payor, invoice) -> None:
    allow_parts(runtime, tenant_id, EUR="5.00")
    _link, path = payor.link(invoice)

    assert "Pay part of it" not in client.get(path).get_data(as_text=True)
    assert client.post(f"{path}/part", data={"amount": "50"}).status_code == 400


def test_a_part_payment_leaves_the_rest_open_and_reminders_continue_until_it_is_paid(
        client, kb, runtime, tenant_id, payor, invoice) -> None:
    allow_parts(runtime, tenant_id, USD="10.00")
    link, path = payor.link(invoice)
    page = client.get(path).get_data(as_text=True)
    assert "Pay part of it" in page and "at least $10.00 and at most $100.00" in page
    target = client.post(f"{path}/part", data={"amount": "30.00"})
    assert target.status_code == 303

    done = pay_on_hosted_page(target.headers["Location"])
    assert "/part/return?" in done.headers["Location"]
    html = client.get(f"{path}/part/return?" + done.headers["Location"].split("?", 1)[1]).get_data(as_text=True)

    assert "Thank you: your payment of $30.00 is recorded." in html and 'data-state="open"' in html
    assert kb.invoices.get(invoice).balance == Decimal("70.00")
    [payment] = kb.invoice_payments.list_for_invoice(invoice)
    assert payment.purchased_amount == Decimal("30.00")
    assert paylinks.get(payor.env, link.id).state is PayLinkState.OPEN
    pending = reminders(payor.env, invoice)
    assert pending and all(m.status is MessageStatus.QUEUED for m in pending)
    # A reminder going out now asks for the rest.
    context = resolvers.current_invoice(payor.env, pending[0], {"pay_link_id": link.id})
    assert context["amount_due"] == "$70.00"

    # The rest, paid with the invoice's own link, closes it and stops the reminders.
    rest = client.post(path)
    pay_on_hosted_page(rest.headers["Location"])
    final = client.get(f"{path}/return").get_data(as_text=True)

    assert 'data-state="paid"' in final and kb.invoices.get(invoice).balance == 0
    assert paylinks.get(payor.env, link.id).state is PayLinkState.PAID
    assert all(m.status is MessageStatus.SKIPPED for m in reminders(payor.env, invoice))


def test_a_part_larger_than_what_is_left_at_recording_time_is_cut_and_the_rest_refunded(
        client, kb, hs, runtime, tenant_id, payor, invoice) -> None:
    allow_parts(runtime, tenant_id, USD="10.00")
    _link, path = payor.link(invoice)
    target = client.post(f"{path}/part", data={"amount": "60.00"}).headers["Location"]
    kb.invoice_payments.pay_invoice(invoice, payor.account_id, amount=Decimal("80.00"), external_payment=True)

    pay_on_hosted_page(target)
    lump = lump_sums.record(payor.env, lump_sums.latest(payor.env, str(payor.account_id)).hs_payment_id)

    assert kb.invoices.get(invoice).balance == 0
    assert lump.excess_minor == 4000 and hs.refunds.retrieve(lump.hs_refund_id).amount == 4000


def test_the_minimum_setting_is_validated() -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        TenantSettings.model_validate({"pay_by_link": {"part_payment_minimum": {"usd": "1"}}})
    with pytest.raises(ValueError, match="positive"):
        TenantSettings.model_validate({"pay_by_link": {"part_payment_minimum": {"USD": "0"}}})
    settings = TenantSettings.model_validate({"pay_by_link": {"part_payments": True,
                                                              "part_payment_minimum": {"JPY": "500"}}})
    assert settings.pay_by_link.part_payment_minimum == {"JPY": Decimal(500)}


# -- the plugin: parts of one Hyperswitch payment ------------------------------------------------------------
def part_call(account_id: str, hs_payment_id: str, amount: str) -> dict:
    return payment_call(account_id, amount, "USD", properties=[
        {"key": "hsPaymentId", "value": hs_payment_id, "isUpdatable": False},
        {"key": "hsPaymentPart", "value": "true", "isUpdatable": False}])


def test_parts_of_one_payment_never_add_up_to_more_than_it_received(plugin, hs, hs_state, payor) -> None:
    account_id = str(payor.account_id)
    hs_payment_id = paid(hs, ids.customer_id(account_id), minor=5000)
    charges = len(hs_state.payments_overview())

    first = plugin.ok("purchasePayment", **part_call(account_id, hs_payment_id, "30.00"))
    second = plugin.ok("purchasePayment", **part_call(account_id, hs_payment_id, "20.01"))
    third = plugin.ok("purchasePayment", **part_call(account_id, hs_payment_id, "20.00"))
    whole = plugin.ok("purchasePayment", **payment_call(account_id, "50.00", "USD", properties=[
        {"key": "hsPaymentId", "value": hs_payment_id, "isUpdatable": False}]))
    fourth = plugin.ok("purchasePayment", **part_call(account_id, hs_payment_id, "0.01"))

    assert first["status"] == "PROCESSED" and third["status"] == "PROCESSED"
    assert second["status"] == "ERROR" and second["gatewayErrorCode"] == "ALREADY_LINKED"
    assert whole["gatewayErrorCode"] == "ALREADY_LINKED" and fourth["gatewayErrorCode"] == "ALREADY_LINKED"
    assert len(hs_state.payments_overview()) == charges


def test_a_whole_link_leaves_no_part(plugin, hs, payor) -> None:
    account_id = str(payor.account_id)
    hs_payment_id = paid(hs, ids.customer_id(account_id), minor=4200)
    plugin.ok("purchasePayment", **payment_call(account_id, "42.00", "USD", properties=[
        {"key": "hsPaymentId", "value": hs_payment_id, "isUpdatable": False}]))

    part = plugin.ok("purchasePayment", **part_call(account_id, hs_payment_id, "1.00"))

    assert part["gatewayErrorCode"] == "ALREADY_LINKED"
