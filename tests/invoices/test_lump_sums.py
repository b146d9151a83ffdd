"""Several invoices in one Hyperswitch payment, through the account page, against the Kill Bill simulator:
one Kill Bill invoice payment per invoice, each linked to the same Hyperswitch payment, recorded once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import pytest
import requests
from sqlalchemy import update

import killbill_client
from bridge.db.engine import session_scope
from bridge.db.invoices import LumpSum, LumpSumState
from bridge.invoices import lump_sums, paylinks
from bridge.webhooks import hyperswitch as hs_webhooks
from tests.invoices.test_pay_flow import CARD, pay_on_hosted_page
from tests.plugin.conftest import APPROVE


def account_path(payor) -> str:  # type: ignore[no-untyped-def]
    _row, url = lump_sums.open_account_link(payor.env, payor.account_id)
    return "/pay/account/" + url.rsplit("/pay/account/", 1)[1]


def pay_all(client, path: str, *invoice_ids: UUID) -> str:  # type: ignore[no-untyped-def]
    """Tick these invoices (all when none given) and Pay: the Hyperswitch payment link."""
    page = client.get(path).get_data(as_text=True)
    ticked = [str(i) for i in invoice_ids] or [line.split('"')[0] for line in page.split('name="invoice" value="')[1:]]
    answer = client.post(path, data={"invoice": ticked})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return answer.headers["Location"]


def come_back(client, path: str, done: requests.Response) -> str:  # type: ignore[no-untyped-def]
    return client.get(f"{path}/return?" + done.headers["Location"].split("?", 1)[1]).get_data(as_text=True)


def payments_of(kb, invoice_id):  # type: ignore[no-untyped-def]
    return kb.invoice_payments.list_for_invoice(invoice_id, with_plugin_info=True)


def test_the_account_page_lists_open_invoices_oldest_first_with_the_total(client, payor) -> None:
    first, second = payor.invoice("10.00"), payor.invoice("25.50")
    paid = payor.invoice("5.00")
    payor.kb.invoice_payments.pay_invoice(paid, payor.account_id, external_payment=True)

    answer = client.get(account_path(payor))

    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert html.index(str(first)) < html.index(str(second)) and str(paid) not in html
    assert "$10.00" in html and "$25.50" in html and 'id="total-due">$35.50<' in html
    assert html.count(" checked") == 2


def test_paying_all_records_each_invoice_once_with_one_hyperswitch_payment(client, kb, hs_state, payor) -> None:
    invoices = [payor.invoice(amount) for amount in ("10.00", "25.50", "4.50")]
    path = account_path(payor)
    target = pay_all(client, path)
    lump = lump_sums.latest(payor.env, str(payor.account_id))
    assert lump.amount_minor == 4000 and [a.amount_minor for a in lump_sums.allocations(payor.env, lump.id)] == [
        1000, 2550, 450]
    charges_before = len(hs_state.payments_overview())

    html = come_back(client, path, pay_on_hosted_page(target))

    assert "Thank you: your payment of $40.00 is recorded." in html and 'id="nothing-due"' in html
    for invoice_id, amount in zip(invoices, ("10.00", "25.50", "4.50"), strict=True):
        assert kb.invoices.get(invoice_id).balance == 0
        [payment] = payments_of(kb, invoice_id)
        assert payment.purchased_amount == Decimal(amount) and str(payment.transactions[-1].status) == "SUCCESS"
        assert payment.transactions[-1].first_payment_reference_id == lump.hs_payment_id
        assert payment.payment_external_key == f"{lump.hs_payment_id}:{invoice_id}"
    assert len(hs_state.payments_overview()) == charges_before  # linked, never charged again
    recorded = lump_sums.get(payor.env, lump.id)
    assert recorded.state is LumpSumState.RECORDED and recorded.excess_minor == 0 and recorded.hs_refund_id is None


def test_paying_some_leaves_the_others_open(client, kb, payor) -> None:
    first, second, third = (payor.invoice(a) for a in ("10.00", "20.00", "30.00"))
    path = account_path(payor)

    come_back(client, path, pay_on_hosted_page(pay_all(client, path, first, third)))

    assert [kb.invoices.get(i).balance for i in (first, second, third)] == [0, Decimal("20.00"), 0]
    html = client.get(path).get_data(as_text=True)
    assert str(second) in html and str(first) not in html and 'id="total-due">$20.00<' in html


def test_a_choice_that_cannot_be_paid_is_refused_with_a_clear_message(client, payor) -> None:
    invoice_id = payor.invoice("10.00")
    path = account_path(payor)

    nothing = client.post(path, data={})
    forged = client.post(path, data={"invoice": ["not-a-uuid"]})
    foreign = client.post(path, data={"invoice": [str(UUID(int=7))]})

    assert nothing.status_code == 400 and "Choose at least one invoice" in nothing.get_data(as_text=True)
    assert forged.status_code == 400 and "not valid" in forged.get_data(as_text=True)
    assert foreign.status_code == 409 and "already paid" in foreign.get_data(as_text=True)
    assert payor.kb.invoices.get(invoice_id).balance == Decimal("10.00")


def test_an_invoice_paid_meanwhile_gets_nothing_and_its_part_is_refunded(client, kb, hs, payor) -> None:
    first, second = payor.invoice("10.00"), payor.invoice("20.00")
    path = account_path(payor)
    target = pay_all(client, path)
    kb.invoice_payments.pay_invoice(first, payor.account_id, external_payment=True)  # the biller took a cheque

    html = come_back(client, path, pay_on_hosted_page(target))

    lump = lump_sums.latest(payor.env, str(payor.account_id))
    assert lump.state is LumpSumState.RECORDED and lump.excess_minor == 1000
    assert "$10.00 of it was for invoices that were already paid meanwhile: it is refunded to you." in html
    refund = hs.refunds.retrieve(lump.hs_refund_id)
    assert refund.payment_id == lump.hs_payment_id and refund.amount == 1000
    assert len(payments_of(kb, first)) == 1  # the cheque only
    assert kb.invoices.get(second).balance == 0 and len(payments_of(kb, second)) == 1
    allocations = lump_sums.allocations(payor.env, lump.id)
    assert [(a.recorded_minor, a.kb_payment_id is None) for a in allocations] == [(0, True), (2000, False)]
    # Asked again (a late webhook), nothing more happens: no second refund, no payment.
    hs_webhooks._payment(payor.env, lump.hs_payment_id)
    assert len(hs.refunds.list().data) == 1 and len(payments_of(kb, second)) == 1


def test_two_tabs_paying_the_same_invoices_pay_once(app, kb, payor) -> None:
    invoices = [payor.invoice("12.00"), payor.invoice("8.00")]
    path = account_path(payor)
    tabs = [app.test_client(), app.test_client()]
    with ThreadPoolExecutor(2) as pool:
        targets = set(pool.map(lambda tab: pay_all(tab, path), tabs))
    assert len(targets) == 1  # the second tab is offered the same Hyperswitch payment, never a second one
    [target] = targets

    come_back(tabs[0], path, pay_on_hosted_page(target))
    second = tabs[1].post(path, data={"invoice": [str(i) for i in invoices]})

    assert second.status_code == 409 and "already paid" in second.get_data(as_text=True)
    assert all(len(payments_of(kb, i)) == 1 and kb.invoices.get(i).balance == 0 for i in invoices)


def test_a_new_choice_replaces_the_unpaid_link_which_can_no_longer_be_paid(client, kb, hs, payor) -> None:
    first, second = payor.invoice("12.00"), payor.invoice("8.00")
    path = account_path(payor)
    both = pay_all(client, path)
    old = lump_sums.latest(payor.env, str(payor.account_id))

    only_first = pay_all(client, path, first)

    assert only_first != both and str(hs.payments.retrieve(old.hs_payment_id).status) == "cancelled"
    assert lump_sums.get(payor.env, old.id).state is LumpSumState.CANCELLED
    refused = requests.post(both, data={**CARD, "card_number": APPROVE}, allow_redirects=False, timeout=10)
    assert refused.status_code != 303 and str(hs.payments.retrieve(old.hs_payment_id).status) == "cancelled"
    assert kb.invoices.get(second).balance == Decimal("8.00")


def test_an_invoice_paid_on_its_own_page_is_not_offered_in_a_lump_sum_at_the_same_time(client, hs, payor) -> None:
    first, second = payor.invoice("12.00"), payor.invoice("8.00")
    link, invoice_path = payor.link(first)
    single = client.post(invoice_path).headers["Location"]
    path = account_path(payor)

    pay_all(client, path)  # the invoice's own link is closed: one payable link per invoice

    assert str(hs.payments.retrieve(paylinks.get(payor.env, link.id).hs_payment_id).status) == "cancelled"
    again = client.post(invoice_path)  # and the other way round
    lump = lump_sums.latest(payor.env, str(payor.account_id))
    assert again.status_code == 303 and again.headers["Location"] != single
    assert str(hs.payments.retrieve(lump.hs_payment_id).status) == "cancelled"
    assert lump_sums.get(payor.env, lump.id).state is LumpSumState.CANCELLED
    assert second  # still open, untouched


def test_the_webhook_and_return_pages_record_a_lump_sum_once(payor, kb, bridge_server) -> None:
    invoices = [payor.invoice("19.99"), payor.invoice("5.01")]
    path = account_path(payor)
    session = requests.Session()
    page = session.get(bridge_server.url + path, timeout=10).text
    assert all(str(i) in page for i in invoices)
    target = session.post(bridge_server.url + path, data={"invoice": [str(i) for i in invoices]},
                          allow_redirects=False, timeout=10).headers["Location"]
    pay_on_hosted_page(target)
    lump = lump_sums.latest(payor.env, str(payor.account_id))
    go = threading.Barrier(3)

    def webhook():  # type: ignore[no-untyped-def]
        go.wait()
        try:
            return hs_webhooks._payment(payor.env, lump.hs_payment_id).outcome
        except Exception as exc:  # noqa: BLE001  (RetryLater while a return page records it)
            return repr(exc)

    def return_page():  # type: ignore[no-untyped-def]
        go.wait()
        return requests.get(f"{bridge_server.url}{path}/return", timeout=30).text

    with ThreadPoolExecutor(3) as pool:
        results = [f.result() for f in [pool.submit(webhook), pool.submit(return_page), pool.submit(return_page)]]

    assert all("is recorded" in html for html in results[1:]), results
    assert "Error" not in results[0] and "Refused" not in results[0], results[0]
    assert all(len(payments_of(kb, i)) == 1 and kb.invoices.get(i).balance == 0 for i in invoices)


def test_a_recorder_that_died_half_way_is_taken_over_without_paying_twice(client, kb, payor) -> None:
    first, second = payor.invoice("10.00"), payor.invoice("20.00")
    path = account_path(payor)
    pay_on_hosted_page(pay_all(client, path))
    lump = lump_sums.latest(payor.env, str(payor.account_id))
    # What a recorder leaves when it dies right after Kill Bill answered for the first invoice: the Kill Bill
    # payment exists, its allocation row was never written, and its claim is still on the lump sum.
    paylinks.pay_invoice_with(payor.env, first, payor.account_id, Decimal("10.00"), lump.hs_payment_id,
                              part_key=lump_sums.part_key(lump.hs_payment_id, str(first)))
    with session_scope(payor.env.sessions) as db:
        db.execute(update(LumpSum).where(LumpSum.id == lump.id).values(
            recording_since=payor.env.now() - paylinks.CLAIM_STALE_AFTER - timedelta(seconds=1)))

    recorded = lump_sums.record(payor.env, lump.hs_payment_id)

    assert recorded.state is LumpSumState.RECORDED and recorded.excess_minor == 0
    assert [len(payments_of(kb, i)) for i in (first, second)] == [1, 1]
    assert [kb.invoices.get(i).balance for i in (first, second)] == [0, 0]


def test_kill_bill_refuses_a_second_purchase_with_an_allocations_external_key(kb, payor) -> None:
    invoice_id = payor.invoice("30.00")
    kb.invoice_payments.pay_invoice(invoice_id, payor.account_id, amount=Decimal(10), external_payment=True,
                                    payment_external_key="pay_x:allocation")

    with pytest.raises(killbill_client.KillBillError, match="PURCHASE"):
        kb.invoice_payments.pay_invoice(invoice_id, payor.account_id, amount=Decimal(10), external_payment=True,
                                        payment_external_key="pay_x:allocation")

    assert kb.invoices.get(invoice_id).balance == Decimal("20.00")
