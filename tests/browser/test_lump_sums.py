"""Several invoices at once and part payments in real headless Chromium, end to end on the simulators
(the stage of tests/browser/test_pay_pages.py: the bridge on loopback with its worker, both simulators)."""

from __future__ import annotations

import re
from decimal import Decimal

from playwright.sync_api import Page, expect

from bridge.invoices import lump_sums
# The simulators and the mapped tenant; first, so that the names imported below win.
from tests.plugin.conftest import *  # noqa: F401,F403
from tests.browser.conftest import open_url
from tests.browser.test_pay_pages import (  # noqa: F401  (the stage's fixtures)
    Site,
    hs_front,
    hs_server,
    kill_bill_payments,
    pay_with_card,
    payor,
    site,
)
from tests.invoices.test_emails import smtp  # noqa: F401  (a real SMTP server fixture)


def account_page(site: Site, payor) -> str:  # type: ignore[no-untyped-def]
    return lump_sums.open_account_link(payor.env, payor.account_id)[1]


def test_the_payor_chooses_invoices_pays_them_and_sees_the_rest(page: Page, site: Site, payor, kb,
                                                               hs_server) -> None:
    first, second, third = (payor.invoice(a, "Plan") for a in ("10.00", "20.00", "30.00"))
    site.settle()
    open_url(page, account_page(site, payor))
    expect(page.locator("#total-due")).to_have_text("$60.00")

    page.locator(f'tr[data-invoice="{second}"] input[type=checkbox]').uncheck()
    page.get_by_role("button", name="Pay the ticked invoices").click()
    page.wait_for_url(f"{hs_server.url}/payment_link/**")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay 40.00 USD")
    pay_with_card(page)

    page.wait_for_url(f"{site.url}/pay/account/**/return**")
    expect(page.locator(".notice")).to_contain_text("Thank you: your payment of $40.00 is recorded.")
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("#total-due")).to_have_text("$20.00")
    assert [kb.invoices.get(i).balance for i in (first, second, third)] == [0, Decimal("20.00"), 0]
    assert [len(kill_bill_payments(kb, i)) for i in (first, second, third)] == [1, 0, 1]


def test_two_tabs_one_pays_the_other_is_told_the_invoices_are_already_paid(page: Page, site: Site, payor, kb,
                                                                           hs_server) -> None:
    invoices = [payor.invoice("12.00", "Plan"), payor.invoice("8.00", "Plan")]
    site.settle()
    url = account_page(site, payor)
    other = page.context.new_page()
    open_url(page, url)
    open_url(other, url)

    page.get_by_role("button", name="Pay the ticked invoices").click()
    page.wait_for_url(f"{hs_server.url}/payment_link/**")
    pay_with_card(page)
    page.wait_for_url(f"{site.url}/pay/account/**/return**")
    expect(page.locator("#nothing-due")).to_be_visible()

    other.get_by_role("button", name="Pay the ticked invoices").click()  # its page still lists both
    expect(other.locator(".notice")).to_contain_text("already paid")
    assert other.url.startswith(f"{site.url}/pay/account/")
    assert all(len(kill_bill_payments(kb, i)) == 1 and kb.invoices.get(i).balance == 0 for i in invoices)


def test_a_part_payment_is_checked_then_paid_and_the_rest_stays_due(page: Page, site: Site, payor, kb, runtime,
                                                                   tenant_id, hs_server) -> None:
    from tests.invoices.test_lump_sums_parts import allow_parts

    allow_parts(runtime, tenant_id, USD="10.00")
    invoice_id = payor.invoice("100.00", "Plan")
    _link, path = payor.link(invoice_id)
    site.settle()
    open_url(page, site.url + path)

    amount = page.get_by_label(re.compile(r"^Amount \(USD\)"))
    amount.fill("5")
    page.get_by_role("button", name="Pay this amount").click()
    expect(page.get_by_role("alert")).to_have_text("The smallest part payment is 10.00 USD.")
    expect(amount).to_have_attribute("aria-invalid", "true")

    page.get_by_label(re.compile(r"^Amount \(USD\)")).fill("25.00")
    page.get_by_role("button", name="Pay this amount").click()
    page.wait_for_url(f"{hs_server.url}/payment_link/**")
    pay_with_card(page)

    page.wait_for_url(f"{site.url}/pay/**/part/return**")
    expect(page.locator(".notice")).to_contain_text("Thank you: your payment of $25.00 is recorded.")
    expect(page.locator("#amount-due")).to_have_text("$75.00")
    expect(page.locator("[data-state]")).to_have_attribute("data-state", "open")
    assert kb.invoices.get(invoice_id).balance == Decimal("75.00")
