"""Pay now → Hyperswitch payment link → paid on the simulator's hosted page → recorded once in Kill Bill."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import requests
from sqlalchemy import select

from bridge.db.engine import session_scope
from bridge.db.invoices import Message, PayLinkState
from bridge.invoices import handlers, paylinks
from bridge.payments import ids
from bridge.webhooks import hyperswitch as hs_webhooks
from bridge.webhooks.killbill import Notification
from bridge.jobs.catalog import build_registry
from bridge.jobs.queue import RetryPolicy
from bridge.jobs.worker import Worker, WorkerConfig
from tests.invoices.conftest import make_payor
from tests.invoices.test_emails import smtp  # noqa: F401  (a real SMTP server fixture)
from tests.plugin.conftest import APPROVE

CARD = {"card_exp_month": "12", "card_exp_year": "2035", "card_holder_name": "Ada", "card_cvc": "123"}


def pay_on_hosted_page(link_url: str, number: str = APPROVE) -> requests.Response:
    done = requests.post(link_url, data={**CARD, "card_number": number}, allow_redirects=False, timeout=10)
    assert done.status_code == 303, done.text
    return done


def kb_payments(kb, invoice_id):  # type: ignore[no-untyped-def]
    return kb.invoice_payments.list_for_invoice(invoice_id)


def test_pay_now_creates_one_link_and_a_second_click_reuses_it(client, payor, hs) -> None:
    invoice_id = payor.invoice("49.90")
    link, path = payor.link(invoice_id)

    first = client.post(path)
    second = client.post(path)

    assert first.status_code == 303 and second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    row = paylinks.get(payor.env, link.id)
    assert ids.parse(row.hs_payment_id)[0] is ids.IdKind.LINK and row.amount_minor == 4990
    payment = hs.payments.retrieve(row.hs_payment_id)
    assert str(payment.status) == "requires_payment_method" and payment.amount == 4990
    assert payment.customer_id == ids.customer_id(payor.account_id)
    assert payment.metadata == {"kb_tenant_id": payor.env.tenant_id, "kb_account_id": str(payor.account_id),
                                "kb_invoice_id": str(invoice_id), "kb_pay_link_id": str(link.id)}
    assert payment.return_url.endswith(f"{path}/return") and payment.setup_future_usage != "off_session"


def test_two_tabs_at_once_make_one_link(app, payor, hs_state) -> None:
    _link, path = payor.link(payor.invoice("12.00"))
    before = len(hs_state.payments_overview())

    def click(_: int) -> str:
        return app.test_client().post(path).headers["Location"]

    with ThreadPoolExecutor(4) as pool:
        targets = set(pool.map(click, range(4)))

    assert len(targets) == 1 and len(hs_state.payments_overview()) == before + 1


def test_a_changed_balance_gets_a_new_link_and_the_old_one_is_cancelled(client, kb, hs, payor) -> None:
    invoice_id = payor.invoice("100.00")
    link, path = payor.link(invoice_id)
    client.post(path)
    old = paylinks.get(payor.env, link.id).hs_payment_id
    kb.invoice_payments.pay_invoice(invoice_id, payor.account_id, external_payment=True, amount=Decimal("30"))

    client.post(path)

    row = paylinks.get(payor.env, link.id)
    assert row.hs_payment_id != old and row.amount_minor == 7000
    assert str(hs.payments.retrieve(old).status) == "cancelled"


def test_paying_the_link_records_the_payment_once(client, kb, hs_state, payor) -> None:
    invoice_id = payor.invoice("49.90")
    link, path = payor.link(invoice_id)
    target = client.post(path).headers["Location"]
    charges_before = len(hs_state.payments_overview())

    done = pay_on_hosted_page(target)
    back = client.get(f"{path}/return?" + done.headers["Location"].split("?", 1)[1])
    again = client.get(f"{path}/return")

    html = back.get_data(as_text=True)
    assert back.status_code == 200 and 'data-state="paid"' in html and "<form" not in html
    assert 'data-state="paid"' in again.get_data(as_text=True)
    assert kb.invoices.get(invoice_id).balance == 0
    payments = kb_payments(kb, invoice_id)
    assert len(payments) == 1 and str(payments[0].transactions[-1].status) == "SUCCESS"
    row = paylinks.get(payor.env, link.id)
    assert row.state is PayLinkState.PAID and row.kb_payment_id == str(payments[0].payment_id)
    assert len(hs_state.payments_overview()) == charges_before  # linked, not charged again


def test_webhook_and_return_page_race_record_once(payor, kb, bridge_server) -> None:
    for _ in range(3):
        invoice_id = payor.invoice("19.99")
        link, path = payor.link(invoice_id)
        target = requests.post(bridge_server.url + path, allow_redirects=False, timeout=10).headers["Location"]
        pay_on_hosted_page(target)
        hs_payment_id = paylinks.get(payor.env, link.id).hs_payment_id
        go = threading.Barrier(3)

        def webhook():  # type: ignore[no-untyped-def]
            go.wait()
            try:
                return hs_webhooks._payment(payor.env, hs_payment_id).outcome
            except Exception as exc:  # RetryLater while the return page records it
                return repr(exc)

        def return_page():  # type: ignore[no-untyped-def]
            go.wait()
            return requests.get(f"{bridge_server.url}{path}/return", timeout=30).text

        with ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(webhook), pool.submit(return_page), pool.submit(return_page)]
            results = [f.result() for f in futures]

        assert all('data-state="paid"' in page and "being processed" not in page for page in results[1:]), results
        assert "Error" not in results[0] and "Refused" not in results[0], results[0]
        assert kb.invoices.get(invoice_id).balance == 0
        assert len(kb_payments(kb, invoice_id)) == 1
        assert paylinks.get(payor.env, link.id).state is PayLinkState.PAID
        # A later webhook delivery changes nothing.
        hs_webhooks._payment(payor.env, hs_payment_id)
        assert len(kb_payments(kb, invoice_id)) == 1


def test_without_a_plugin_payment_method_nothing_is_recorded_unless_external(
        client, kb, kb_state, hs, runtime, tenant_id, bridge_server) -> None:
    from bridge.db.engine import session_scope
    from bridge.db.tenancy import Tenant

    bare = make_payor(kb, kb_state, hs, runtime, tenant_id, with_card=False)
    invoice_id = bare.invoice("30.00")
    link, path = bare.link(invoice_id)
    pay_on_hosted_page(client.post(path).headers["Location"])

    page = client.get(f"{path}/return").get_data(as_text=True)
    assert "being processed" in page and kb.invoices.get(invoice_id).balance == Decimal("30.00")
    assert paylinks.get(bare.env, link.id).kb_payment_id is None  # the claim was released

    with session_scope(runtime.sessions) as session:
        tenant = session.get(Tenant, tenant_id)
        tenant.settings = {**tenant.settings, "pay_by_link": {"record_as_external_payment": True}}
    env = runtime.tenant_env(tenant_id)
    recorded = paylinks.record_payment(env, paylinks.get(env, link.id).hs_payment_id)

    assert recorded.state is PayLinkState.PAID and kb.invoices.get(invoice_id).balance == 0
    assert len(kb_payments(kb, invoice_id)) == 1


def _notify(env, event_type: str, object_id, account_id, **meta):  # type: ignore[no-untyped-def]
    return Notification(event_type, "INVOICE", str(object_id), str(account_id), meta)


def test_invoice_creation_for_an_auto_pay_off_account_opens_a_pay_link(payor, kb) -> None:
    invoice_id = payor.invoice("25.00")

    result = handlers.invoice_creation(payor.env, _notify(payor.env, "INVOICE_CREATION", invoice_id,
                                                          payor.account_id))
    again = handlers.invoice_creation(payor.env, _notify(payor.env, "INVOICE_CREATION", invoice_id,
                                                         payor.account_id))

    link = paylinks.find_for_invoice(payor.env, invoice_id)
    assert result.state.value == "processed" and link is not None and link.reason == "manual_pay"
    assert again.state.value == "processed" and paylinks.find_for_invoice(payor.env, invoice_id).id == link.id
    with session_scope(payor.env.sessions) as session:
        sent = list(session.scalars(select(Message).where(Message.kb_invoice_id == str(invoice_id))))
    assert [(m.kind, m.send_key, m.recipient) for m in sent] == [
        ("pay_link", f"{invoice_id}:pay_link:1", "ada@example.test"),
        *[("reminder", f"{invoice_id}:reminder:{n}", "ada@example.test") for n in (1, 2, 3)]]  # days 3, 7, 14
    assert "pay_url" not in sent[0].context  # the link is a bearer credential: made at send time, never stored


def test_the_emailed_link_opens_the_invoice_page(payor, runtime, client, smtp) -> None:
    runtime.settings = runtime.settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port})
    invoice_id = payor.invoice("25.00")
    handlers.invoice_creation(payor.env, _notify(payor.env, "INVOICE_CREATION", invoice_id, payor.account_id))
    fast = RetryPolicy(max_attempts=3, base_seconds=0.01, max_seconds=0.05)
    Worker(runtime.sessions, build_registry(), WorkerConfig(poll_seconds=0.01, lease_seconds=30, policy=fast),
           services=runtime).run_until_idle()

    [received] = smtp.received
    text = received.email.get_body(("plain",)).get_content()
    path = re.search(r"https?://[^/\s]+(/pay/[A-Za-z0-9._-]+)", text).group(1)
    page = client.get(path)
    assert page.status_code == 200
    assert "25.00" in page.get_data(as_text=True) and "Pay now" in page.get_data(as_text=True)


def test_policy_override_never_and_auto_paid_accounts_get_no_link(kb, kb_state, hs, runtime, tenant_id,
                                                                 bridge_server) -> None:
    never = make_payor(kb, kb_state, hs, runtime, tenant_id)
    kb.custom_fields.add_to_account(never.account_id, {"PAY_BY_LINK": "never"})
    invoice_id = never.invoice("5.00")

    result = handlers.invoice_creation(never.env, _notify(never.env, "INVOICE_CREATION", invoice_id,
                                                          never.account_id))

    assert result.state.value == "skipped" and paylinks.find_for_invoice(never.env, invoice_id) is None


def test_invoice_paid_otherwise_closes_the_link(payor, kb, hs, client) -> None:
    invoice_id = payor.invoice("8.00")
    link, path = payor.link(invoice_id)
    client.post(path)
    hs_payment_id = paylinks.get(payor.env, link.id).hs_payment_id
    kb.invoice_payments.pay_invoice(invoice_id, payor.account_id, external_payment=True)

    result = handlers.invoice_settled(payor.env, _notify(payor.env, "INVOICE_PAYMENT_SUCCESS", invoice_id,
                                                         payor.account_id))

    assert result.state.value == "processed" and paylinks.get(payor.env, link.id).state is PayLinkState.PAID
    assert str(hs.payments.retrieve(hs_payment_id).status) == "cancelled"
