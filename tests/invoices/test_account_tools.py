"""A support team's tools on a payor's account, through the admin API against the deployed flow (Kill Bill's
pushes, the worker, SMTP): issuing the account's link to all its open invoices (and sending it once per issued
link), seeing and undoing a reminder opt-out; and one receipt for a payment of several invoices."""

from __future__ import annotations

import re
import socket
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from bridge.db.engine import session_scope
from bridge.db.invoices import Message, MessageStatus
from bridge.db.webhooks import EventSource, InboundEvent
from bridge.invoices import lump_sums, resolvers
from bridge.tenancy import service
from bridge.tenancy.schemas import TenantCreate
from bridge.webhooks import hyperswitch as hs_webhooks
from tests.foundation.factories import tenant_payload
from tests.invoices.conftest import BRAND, Flow
from tests.invoices.test_flow import payor_of, texts
from tests.invoices.test_lump_sums import account_path, come_back, pay_all
from tests.invoices.test_pay_flow import pay_on_hosted_page
from tests.plugin.test_openapi import assert_documented


def account_url(flow: Flow, account_id: Any, action: str) -> str:
    return f"/admin/v1/tenants/{flow.tenant_id}/accounts/{account_id}/{action}"


def issue(client, flow: Flow, account_id: Any, headers: dict[str, str], **body: Any):  # type: ignore[no-untyped-def]
    return client.post(account_url(flow, account_id, "pay-link"), headers=headers, json=body or None)


def of_kind(flow: Flow, kind: str) -> list[Message]:
    with session_scope(flow.runtime.sessions) as session:
        return list(session.scalars(select(Message).where(Message.kind == kind).order_by(Message.id)))


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def account_page_path(flow: Flow, text: str) -> str:
    found = re.search(rf"{re.escape(flow.url)}(/pay/account/[A-Za-z0-9._-]+)", text)
    assert found, text
    return found.group(1)


# -- the account's link -----------------------------------------------------------------------------------
def test_an_operator_issues_the_link_to_every_open_invoice_with_the_total(flow, hs, client, admin_headers) -> None:
    payor = payor_of(flow, hs)
    first, second = payor.invoice("10.00"), payor.invoice("25.50")
    paid = payor.invoice("5.00")
    flow.kb.invoice_payments.pay_invoice(paid, payor.account_id, external_payment=True)
    flow.drain()
    emails_before = len(flow.smtp.received)

    answer = issue(client, flow, payor.account_id, admin_headers)

    assert answer.status_code == 200, answer.get_data(as_text=True)
    issued = answer.json
    assert [(i["kb_invoice_id"], i["balance"]) for i in issued["open_invoices"]] == [
        (str(first), "10.00"), (str(second), "25.50")]  # oldest first, the paid one left out
    assert (issued["total"], issued["currency"], issued["sent"]) == ("35.50", "USD", False)
    assert issued["kb_account_id"] == str(payor.account_id)
    assert datetime.fromisoformat(issued["expires_at"]) > flow.clock() + timedelta(days=59)
    page = client.get(issued["url"].removeprefix(flow.url))
    assert page.status_code == 200 and 'id="total-due">$35.50<' in page.get_data(as_text=True)
    # The same link as the invoice pages offer: one account link per account, nothing sent unless asked.
    again = issue(client, flow, payor.account_id, admin_headers).json
    assert again["expires_at"] == issued["expires_at"]
    flow.drain()
    assert len(flow.smtp.received) == emails_before and of_kind(flow, "account_pay_link") == []


def test_sending_it_reaches_the_payor_once_per_issued_link(flow, hs, client, admin_headers) -> None:
    payor = payor_of(flow, hs)
    invoices = [payor.invoice("10.00"), payor.invoice("25.50")]
    flow.drain()

    first = issue(client, flow, payor.account_id, admin_headers, send=True).json
    repeated = issue(client, flow, payor.account_id, admin_headers, send=True).json
    flow.drain()

    assert first["sent"] is True and repeated["sent"] is False
    [email] = flow.emails("open invoices")
    assert email["Subject"] == f"{BRAND}: 2 open invoices, $35.50 to pay" and email["To"] == "ada@example.test"
    text, html = texts(email)
    numbers = [flow.kb.invoices.get(i).invoice_number for i in invoices]
    assert f"Invoice {numbers[0]}" in text and "$10.00" in text and "$25.50" in text and "$35.50 in all" in text
    assert "$35.50" in html
    page = client.get(account_page_path(flow, text))
    assert page.status_code == 200 and str(invoices[0]) in page.get_data(as_text=True)
    [message] = of_kind(flow, "account_pay_link")
    assert message.status is MessageStatus.SENT and message.kb_invoice_id is None
    assert message.kb_account_id == str(payor.account_id) and "/pay/" not in str(message.context)  # never stored

    # Once the link has ended, issuing renews it: a new link, sent again.
    flow.clock.move_to(datetime.fromisoformat(first["expires_at"]) + timedelta(minutes=1))
    renewed = issue(client, flow, payor.account_id, admin_headers, send=True).json
    flow.drain()
    assert renewed["sent"] is True and renewed["expires_at"] > first["expires_at"]
    assert len(flow.emails("open invoices")) == 2


def test_the_notice_is_skipped_when_everything_was_paid_before_it_went_out(flow, hs, client, admin_headers) -> None:
    payor = payor_of(flow, hs)
    invoice_id = payor.invoice("10.00")
    flow.drain()
    assert issue(client, flow, payor.account_id, admin_headers, send=True).json["sent"] is True

    flow.kb.invoice_payments.pay_invoice(invoice_id, payor.account_id, external_payment=True)  # a cheque
    flow.drain()

    [message] = of_kind(flow, "account_pay_link")
    assert message.status is MessageStatus.SKIPPED and "no open invoice" in message.last_error
    assert flow.emails("open invoices") == []


def test_unknown_tenants_and_accounts_are_404_and_nothing_open_is_409(flow, hs, client, admin_headers) -> None:
    payor = payor_of(flow, hs)
    cases = [(f"/admin/v1/tenants/{uuid.uuid4()}/accounts/{payor.account_id}/pay-link", 404, "unknown_tenant"),
             (account_url(flow, uuid.uuid4(), "pay-link"), 404, "unknown_account"),
             (account_url(flow, "not-an-account", "pay-link"), 404, "unknown_account"),
             (account_url(flow, payor.account_id, "pay-link"), 409, "no_open_invoice")]
    for url, status, error in cases:
        answer = client.post(url, headers=admin_headers)
        assert (answer.status_code, answer.json["error"]) == (status, error), url
    for body in ({"send": "please"}, {"sned": True}, [True]):
        refused = client.post(account_url(flow, payor.account_id, "pay-link"), headers=admin_headers, json=body)
        assert (refused.status_code, refused.json["error"]) == (400, "invalid_request"), body
    assert client.post(account_url(flow, payor.account_id, "pay-link")).status_code == 401


# -- one receipt per lump sum -------------------------------------------------------------------------------
def test_a_payment_of_several_invoices_gets_one_receipt_listing_each(flow, hs, client) -> None:
    payor = payor_of(flow, hs)
    invoices = [payor.invoice(amount) for amount in ("10.00", "25.50", "4.50")]
    flow.drain()
    path = account_path(payor)

    come_back(client, path, pay_on_hosted_page(pay_all(client, path)))
    flow.drain()  # Kill Bill's INVOICE_PAYMENT_SUCCESS of each invoice, the receipt

    lump = lump_sums.latest(payor.env, str(payor.account_id))
    [receipt] = flow.emails("received")
    assert receipt["Subject"] == f"{BRAND}: payment of $40.00 received for 3 invoices"
    text, html = texts(receipt)
    for invoice_id, amount in zip(invoices, ("$10.00", "$25.50", "$4.50"), strict=True):
        number = flow.kb.invoices.get(invoice_id).invoice_number
        assert f"Invoice {number}: {amount}" in lines(text) and f">{number}<" in html
        assert flow.messages(invoice_id, "receipt") == []
    assert "we received your payment of $40.00" in text and "refunded" not in text
    [message] = of_kind(flow, "lump_sum_receipt")
    assert message.send_key == f"{lump.hs_payment_id}:lump_sum_receipt" and message.status is MessageStatus.SENT
    with session_scope(flow.runtime.sessions) as session:
        outcomes = list(session.scalars(select(InboundEvent.outcome).where(
            InboundEvent.source == EventSource.KILLBILL, InboundEvent.event_type == "INVOICE_PAYMENT_SUCCESS")))
    assert len(outcomes) == 3 and all("whose one receipt lists it" in o for o in outcomes)

    hs_webhooks._payment(payor.env, lump.hs_payment_id)  # a late webhook about the same payment
    flow.drain()
    assert len(flow.emails("received")) == 1


def test_the_receipt_says_what_was_refunded_when_an_invoice_was_paid_meanwhile(flow, hs, client) -> None:
    payor = payor_of(flow, hs)
    first, second, third = (payor.invoice(a) for a in ("10.00", "20.00", "30.00"))
    flow.drain()
    path = account_path(payor)
    target = pay_all(client, path)
    flow.kb.invoice_payments.pay_invoice(first, payor.account_id, external_payment=True)

    come_back(client, path, pay_on_hosted_page(target))
    flow.drain()

    [receipt] = flow.emails("received")
    text, _html = texts(receipt)
    numbers = [flow.kb.invoices.get(i).invoice_number for i in (first, second, third)]
    assert [line for line in lines(text) if line.startswith("Invoice ")] == [
        f"Invoice {numbers[1]}: $20.00", f"Invoice {numbers[2]}: $30.00"]
    assert "we received your payment of $50.00" in text and "$10.00 of it was for invoices already paid" in text


def test_a_payment_of_one_invoice_from_the_account_page_keeps_the_invoice_receipt(flow, hs, client) -> None:
    payor = payor_of(flow, hs)
    first, second = payor.invoice("10.00"), payor.invoice("20.00")
    flow.drain()
    path = account_path(payor)

    come_back(client, path, pay_on_hosted_page(pay_all(client, path, first)))
    flow.drain()

    [receipt] = flow.emails("payment received")
    assert "we received your payment of $10.00" in texts(receipt)[0]
    [payment] = flow.kb.invoice_payments.list_for_invoice(first)
    assert [m.send_key for m in flow.messages(first, "receipt")] == [f"{first}:receipt:{payment.payment_id}"]
    assert of_kind(flow, "lump_sum_receipt") == [] and flow.messages(second, "receipt") == []


# -- reminder opt-outs --------------------------------------------------------------------------------------
def test_an_operator_sees_an_opt_out_and_undoes_it(flow, hs, client, admin_headers) -> None:
    payor = payor_of(flow, hs)
    url = account_url(flow, payor.account_id, "reminder-opt-out")
    assert client.get(url, headers=admin_headers).json == {
        "kb_account_id": str(payor.account_id), "opted_out": False, "since": None, "source": None}
    unsubscribe = resolvers.unsubscribe_url(payor.env, str(payor.account_id)).removeprefix(flow.url)
    assert client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    muted = payor.invoice("10.00")
    flow.drain()

    shown = client.get(url, headers=admin_headers).json
    assert shown["opted_out"] is True and shown["source"] == "one_click"
    since = datetime.fromisoformat(shown["since"])
    assert since.utcoffset() == timedelta(0) and abs(since - flow.clock()) < timedelta(minutes=1)
    assert flow.messages(muted, "reminder") == []

    assert client.delete(url, headers=admin_headers).status_code == 204
    assert client.delete(url, headers=admin_headers).status_code == 204  # idempotent
    assert client.get(url, headers=admin_headers).json["opted_out"] is False
    heard = payor.invoice("20.00")
    flow.drain()
    assert [m.status for m in flow.messages(heard, "reminder")] == [MessageStatus.QUEUED] * 3
    assert flow.messages(muted, "reminder") == []  # what was skipped while opted out stays so


def test_opt_outs_of_unknown_accounts_are_404(flow, client, admin_headers) -> None:
    for method in ("GET", "DELETE"):
        for account in (uuid.uuid4(), "nope"):
            answer = client.open(account_url(flow, account, "reminder-opt-out"), method=method, headers=admin_headers)
            assert (answer.status_code, answer.json["error"]) == (404, "unknown_account")


def test_a_kill_bill_that_cannot_be_reached_is_a_502_saying_so(client, runtime, admin_headers) -> None:
    doc = client.get("/openapi.json").json
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # a port nothing listens on
    payload = tenant_payload(killbill_url=f"http://127.0.0.1:{closed.getsockname()[1]}")
    with session_scope(runtime.sessions) as session:
        service.create_tenant(session, TenantCreate.model_validate(payload), runtime.keyring)
    try:
        base = f"/admin/v1/tenants/{payload['kb_tenant_id']}/accounts/{uuid.uuid4()}"
        for method, action in (("POST", "pay-link"), ("GET", "reminder-opt-out"), ("DELETE", "reminder-opt-out")):
            answer = client.open(f"{base}/{action}", method=method, headers=admin_headers)
            assert (answer.status_code, answer.json["error"]) == (502, "killbill_error"), action
            assert "bridge tenants verify" in answer.json["detail"]
            assert_documented(doc, method, f"/admin/v1/tenants/{{tenant_id}}/accounts/{{kb_account_id}}/{action}", answer)
    finally:
        closed.close()


def test_real_answers_match_the_openapi_document(flow, hs, client, admin_headers) -> None:
    doc = client.get("/openapi.json").json
    payor = payor_of(flow, hs)
    idle = payor_of(flow, hs)
    payor.invoice("10.00")
    pay_link = "/admin/v1/tenants/{tenant_id}/accounts/{kb_account_id}/pay-link"
    opt_out = "/admin/v1/tenants/{tenant_id}/accounts/{kb_account_id}/reminder-opt-out"
    for method, template, account, body, status in (
            ("POST", pay_link, payor.account_id, {"send": True}, 200), ("POST", pay_link, payor.account_id, None, 200),
            ("POST", pay_link, idle.account_id, None, 409), ("POST", pay_link, uuid.uuid4(), None, 404),
            ("POST", pay_link, payor.account_id, {"send": 3}, 400), ("GET", opt_out, payor.account_id, None, 200),
            ("DELETE", opt_out, payor.account_id, None, 204), ("GET", opt_out, uuid.uuid4(), None, 404),
            ("POST", pay_link, payor.account_id, {"send": True, "pad": "x" * 70_000}, 413)):  # the admin body limit
        path = template.format(tenant_id=flow.tenant_id, kb_account_id=account)
        answer = client.open(path, method=method, json=body, headers=admin_headers)
        assert answer.status_code == status, (method, path, answer.get_data(as_text=True))
        assert_documented(doc, method, template, answer)
