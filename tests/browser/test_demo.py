"""`bridge demo`'s interactive path in real headless Chromium: the person opens the printed /pay link, pays
on the Hyperswitch simulator's page, and the demo (its own process) reports the invoice paid in Kill Bill,
prints its summary, exits 0 and leaves nothing running."""

from __future__ import annotations

import re
import signal
from pathlib import Path

from playwright.sync_api import Page, expect

from bridge.simulators.payors import APPROVED_CARD
from tests.browser.conftest import open_url
from tests.demo.support import PAY_LINK, DemoProcess, assert_nothing_left, step_line


def test_paying_the_printed_link_in_a_browser_completes_the_demo(page: Page, tmp_path: Path) -> None:
    demo = DemoProcess([], tmp_path)  # interactive: it waits for someone to pay
    try:
        link = demo.wait_for_line(PAY_LINK).group(1)
        demo.wait_for_line(re.compile(r"Open the link in a browser.* test card 4242 4242 4242 4242"))

        open_url(page, link)
        expect(page.locator("[data-state]")).to_have_attribute("data-state", "open")
        page.get_by_role("button", name=re.compile(r"^Pay now")).click()
        page.wait_for_url(re.compile(r"/payment_link/"))
        expect(page.get_by_role("heading", level=1)).to_have_text("Pay 75.00 USD")
        for label, value in (("Card number", APPROVED_CARD), ("Expiry month (MM)", "12"),
                             ("Expiry year (YY or YYYY)", "2035"), ("Name on card", "Grace Hopper"),
                             ("CVC", "123")):
            page.get_by_label(label).fill(value)
        page.get_by_role("button", name=re.compile(r"^Pay ")).click()
        page.wait_for_url(link + "/return**")
        expect(page.locator("[data-state]")).to_have_attribute("data-state", "paid")

        demo.wait_for_line(step_line("paid by link"))
    except BaseException:
        demo.send(signal.SIGINT)  # it would wait for the payment forever
        demo.finish()
        raise

    assert demo.finish() == 0, demo.output + demo.stderr
    assert any(step_line("all reconciled").search(line) for line in demo.lines), demo.output
    [grace] = [line for line in demo.lines if re.match(r"^\d+\s+Grace Hopper\s", line)]
    assert "PURCHASE SUCCESS" in grace and re.search(r"kbl_\w{26} succeeded", grace)
    assert demo.lines[-1].startswith("every step reached its expected state")
    assert_nothing_left(demo)
