"""The payor's invoice pages in real headless Chromium, end to end on the simulators.

The bridge is served on loopback as it is deployed (its own address is BRIDGE_PUBLIC_URL), with a worker
thread processing its jobs. Kill Bill's simulator pushes its notifications to the bridge and calls the
bridge's plugin contract; Hyperswitch's simulator serves the hosted payment-link page and sends its
webhooks to the bridge; emails go to a real SMTP server (aiosmtpd). The browser only does what a payor
does: open the emailed link, read, click, type a test card.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import or_, select

from bridge.db.engine import session_scope
from bridge.db.jobs import Job, JobState
from bridge.db.tenancy import Tenant
from bridge.db.webhooks import EventSource, InboundEvent
from bridge.invoices import paylinks, tokens
from bridge.jobs.catalog import build_registry
from bridge.jobs.queue import RetryPolicy
from bridge.jobs.worker import Worker, WorkerConfig
from bridge.simulators.hyperswitch import create_app as hyperswitch_app
from bridge.simulators.server import BackgroundServer
from bridge.tenancy import service
from bridge.tenancy.verify import callback_target, register_callback
from hyperswitch_client.profiles import WebhookDetailsParams
# The simulators and the mapped tenant; first, so that the names imported below win.
from tests.plugin.conftest import *  # noqa: F401,F403
from tests.browser.conftest import open_url
from tests.invoices.conftest import PLUGIN_NAME, make_payor
from tests.invoices.conftest import Payor as InvoicePayor
from tests.invoices.test_emails import SmtpServer, smtp  # noqa: F401  (a real SMTP server fixture)
from tests.plugin.conftest import APPROVE, DECLINE, MERCHANT, PLUGIN_SECRET, THREE_DS
from tests.simulators.hyperswitch.helpers import eventually

# How long a step that waits on the other processes may take on a busy machine (not a speed claim).
SETTLE_SECONDS = 30.0
CARD = {"Expiry month (MM)": "12", "Expiry year (YY or YYYY)": "2035", "Name on card": "Ada Lovelace",
        "CVC": "123"}


# -- the stage ------------------------------------------------------------------------------------------
class Front:
    """In front of a server: logs every request as (method, path) and, once armed, holds the first
    ``parties`` requests of one (method, path) until all of them have arrived, so that they go on at the
    same moment. ``met`` tells that they really did."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []
        self.met = False
        self._lock = threading.Lock()
        self._held: tuple[str, str] | None = None
        self._barrier: threading.Barrier | None = None
        self._to_hold = 0

    def arm(self, method: str, path: str, parties: int = 2, timeout: float = 8.0) -> None:
        # 8 s stays below the bridge's Hyperswitch read timeout (10 s): a held read is never retried.
        with self._lock:
            self._held, self._to_hold = (method, path), parties
            self._barrier = threading.Barrier(parties, timeout=timeout)

    def count(self, method: str, path: str) -> int:
        with self._lock:
            return self.seen.count((method, path))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = (environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""))
        barrier = None
        with self._lock:
            self.seen.append(request)
            if request == self._held and self._to_hold:
                self._to_hold -= 1
                barrier = self._barrier
        if barrier is not None:
            try:
                barrier.wait()
                self.met = True
            except threading.BrokenBarrierError:
                pass  # a party never came: the test sees met == False
        return self.app(environ, start_response)


@pytest.fixture
def hs_front(hs_state) -> Front:  # type: ignore[no-untyped-def]
    return Front(hyperswitch_app(hs_state))


@pytest.fixture
def hs_server(hs_front: Front) -> Iterator[BackgroundServer]:
    with BackgroundServer(hs_front) as server:
        yield server


@dataclass
class Site:
    """The bridge as the payor's browser, Kill Bill and Hyperswitch reach it."""

    url: str
    runtime: Any
    kb_state: Any
    hs_state: Any
    smtp: SmtpServer
    front: Front
    emails_seen: int = field(default=0)

    def settle(self) -> None:
        """Wait until every webhook, push notification and due job has been handled."""
        def idle() -> bool:
            if not (self.hs_state.wait_for_deliveries(timeout=1) and self.kb_state.wait_idle(timeout=1)):
                return False
            now = self.runtime.clock()
            with session_scope(self.runtime.sessions) as session:
                busy = session.scalars(select(Job.id).where(or_(
                    Job.state == JobState.RUNNING, (Job.state == JobState.PENDING) & (Job.run_at <= now)))).first()
            return busy is None

        eventually(lambda: idle() and idle(), timeout=SETTLE_SECONDS)  # twice: a job may queue another

    def next_email(self) -> Any:
        eventually(lambda: len(self.smtp.received) > self.emails_seen, timeout=SETTLE_SECONDS)
        self.emails_seen += 1
        return self.smtp.received[self.emails_seen - 1]


@pytest.fixture
def site(runtime, tenant_id, kb_state, hs, hs_state, smtp) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    from bridge.app import create_app

    front = Front(create_app(runtime=runtime))  # not Flask's TESTING mode: errors render as deployed
    with BackgroundServer(front) as server:
        runtime.settings = runtime.settings.model_copy(update={
            "public_url": server.url, "smtp_host": "127.0.0.1", "smtp_port": smtp.port})
        runtime.reset_clients()
        kb_state.configure_plugin(UUID(tenant_id), PLUGIN_NAME, server.url, PLUGIN_SECRET)
        kb_state.config.push_retries = tuple(timedelta(seconds=s) for s in (0.05, 0.1, 0.2))
        _register_push_callback(runtime, tenant_id, server.url)
        hs.profiles.update_webhook_details(MERCHANT["merchant_id"], WebhookDetailsParams(
            webhook_url=f"{server.url}/webhooks/hyperswitch",
            payment_statuses_enabled=["succeeded", "failed", "processing"]), MERCHANT["profile_id"])
        fast = RetryPolicy(max_attempts=20, base_seconds=0.05, max_seconds=0.2)
        worker = Worker(runtime.sessions, build_registry(),
                        WorkerConfig(poll_seconds=0.02, lease_seconds=60, policy=fast), services=runtime)
        thread = threading.Thread(target=worker.run, name="bridge-worker", daemon=True)
        thread.start()
        try:
            yield Site(server.url, runtime, kb_state, hs_state, smtp, front)
        finally:
            worker.stopping.set()
            thread.join(timeout=SETTLE_SECONDS)


def _register_push_callback(runtime, tenant_id: str, public_url: str) -> None:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        tenant = session.get(Tenant, tenant_id)
        target = callback_target(tenant, runtime.keyring, public_url, registering=True)
        creds = service.credentials(tenant, runtime.keyring)
    assert target is not None and register_callback(creds, target).status == "pass"


@pytest.fixture
def payor(site: Site, kb, kb_state, hs, runtime, tenant_id) -> InvoicePayor:  # type: ignore[no-untyped-def]
    """An AUTO_PAY_OFF account (it pays by link) with a card saved through the plugin."""
    return make_payor(kb, kb_state, hs, runtime, tenant_id)


# -- what the payor does ----------------------------------------------------------------------------------
def pay_button(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("button", name=re.compile(r"^Pay now"))


def click_pay_now(page: Page, hs_url: str) -> str:
    """"Pay now" on the invoice page; returns the Hyperswitch payment link the browser landed on."""
    pay_button(page).click()
    page.wait_for_url(f"{hs_url}/payment_link/**")
    return page.url


def pay_with_card(page: Page, number: str = APPROVE) -> None:
    """Complete the hosted payment-link page the way a payor types a card."""
    page.get_by_label("Card number").fill(number)
    for label, value in CARD.items():
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()


def double_click_while_waiting(page: Page, button: Any, first_arrived: Callable[[], bool]) -> None:
    """An impatient payor: clicks, and clicks again while the page still shows the button.

    (Playwright's own dblclick sends both clicks before the first submission starts, which Chromium folds
    into one submission; a person's second click comes later, and Chromium submits the form again.)"""
    box = button.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)
    eventually(first_arrived, timeout=SETTLE_SECONDS)
    page.mouse.click(x, y)


def expect_state(page: Page, state: str, label: str) -> None:
    status = page.locator("[data-state]")
    expect(status).to_have_attribute("data-state", state)
    expect(status).to_have_text(label)


def link_payments(hs, hs_state, invoice_id: UUID) -> list[Any]:  # type: ignore[no-untyped-def]
    """The Hyperswitch payments the bridge made for the invoice's pay link (read as the merchant)."""
    made = [row["payment_id"] for row in hs_state.payments_overview()]
    payments = [hs.payments.retrieve(payment_id) for payment_id in made if paylinks.is_pay_link_payment(payment_id)]
    return [p for p in payments if (p.metadata or {}).get("kb_invoice_id") == str(invoice_id)]


def kill_bill_payments(kb, invoice_id: UUID) -> list[Any]:  # type: ignore[no-untyped-def]
    return kb.invoice_payments.list_for_invoice(invoice_id)


def hyperswitch_events(runtime, hs_payment_id: str) -> list[tuple[str, str | None]]:  # type: ignore[no-untyped-def]
    """The bridge's stored Hyperswitch webhooks about one payment: (state, outcome)."""
    with session_scope(runtime.sessions) as session:
        rows = session.scalars(select(InboundEvent).where(InboundEvent.source == EventSource.HYPERSWITCH,
                                                          InboundEvent.object_id == hs_payment_id))
        return [(row.state.value, row.outcome) for row in rows]


def emailed_link(received: Any) -> str:
    """The link the payor clicks in the HTML body; the plain-text body carries the same one."""
    message = received.email
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    [link] = set(re.findall(r'href="(https?://[^"]+/pay/[^"/]+)"', html))
    assert link in text
    return link


# -- the scenarios ----------------------------------------------------------------------------------------
def test_the_emailed_link_is_paid_in_the_browser(page: Page, site: Site, payor, kb, hs, hs_state,
                                                 hs_server) -> None:
    invoice_id = payor.invoice("49.90", "Pro plan")  # Kill Bill pushes INVOICE_CREATION to the bridge

    received = site.next_email()
    assert received.rcpt_tos == ["ada@example.test"]
    link = emailed_link(received)
    assert link.startswith(f"{site.url}/pay/")

    open_url(page, link)
    expect(page).to_have_title(re.compile(r"^Invoice \S+ · Acme$"))
    number = kb.invoices.get(invoice_id).invoice_number
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Invoice {number}")
    expect(page.get_by_text("Acme", exact=True)).to_be_visible()
    expect(page.get_by_role("row", name=re.compile("Pro plan"))).to_contain_text("$49.90")
    expect(page.locator("#amount-due")).to_have_text("$49.90")
    expect_state(page, "open", "Open")

    hosted = click_pay_now(page, hs_server.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay 49.90 USD")
    pay_with_card(page)

    page.wait_for_url(f"{link}/return?**")
    expect_state(page, "paid", "Paid")
    expect(page.get_by_text("Thank you: this invoice is paid.")).to_be_visible()
    expect(page.get_by_role("button")).to_have_count(0)

    site.settle()  # the payment's webhook too
    assert kb.invoices.get(invoice_id).balance == 0
    [recorded] = kill_bill_payments(kb, invoice_id)
    assert str(recorded.transactions[-1].status) == "SUCCESS" and recorded.purchased_amount == Decimal("49.90")
    [made] = link_payments(hs, hs_state, invoice_id)
    assert str(made.status) == "succeeded" and made.amount == 4990 and f"/{made.payment_id}?" in hosted
    open_url(page, link)  # the emailed link, later
    expect_state(page, "paid", "Paid")


def test_the_webhook_and_the_return_page_record_at_the_same_moment(page: Page, site: Site, payor, kb, hs,
                                                                   hs_state, hs_server, hs_front) -> None:
    invoice_id = payor.invoice("19.99")
    link = emailed_link(site.next_email())
    open_url(page, link)
    hosted = click_pay_now(page, hs_server.url)
    hs_payment_id = hosted.split("?", 1)[0].rsplit("/", 1)[1]
    # The worker's re-read for the "succeeded" webhook and the return page's re-read wait for each other.
    hs_front.arm("GET", f"/payments/{hs_payment_id}")

    pay_with_card(page)

    page.wait_for_url(f"{link}/return?**")
    expect_state(page, "paid", "Paid")
    expect(page.get_by_role("button")).to_have_count(0)
    assert hs_front.met, "the webhook and the return page did not read the payment at the same time"
    site.settle()
    assert kb.invoices.get(invoice_id).balance == 0
    assert len(kill_bill_payments(kb, invoice_id)) == 1
    assert [made.payment_id for made in link_payments(hs, hs_state, invoice_id)] == [hs_payment_id]
    events = hyperswitch_events(site.runtime, hs_payment_id)
    assert events and all(state == "processed" for state, _ in events), events


def test_a_double_click_and_two_tabs_share_one_payment_link(context, site: Site, payor, kb, hs, hs_state,
                                                            hs_server) -> None:
    invoice_id = payor.invoice("12.00")
    link = emailed_link(site.next_email())
    first, second = context.new_page(), context.new_page()
    for tab in (first, second):
        open_url(tab, link)
    pay_now = ("POST", urlsplit(link).path)
    # The bridge holds the first click's POST until the second arrives: both are handled at the same time.
    site.front.arm(*pay_now)

    double_click_while_waiting(first, pay_button(first), lambda: site.front.count(*pay_now) == 1)
    expect(first).to_have_url(re.compile(re.escape(f"{hs_server.url}/payment_link/")))
    hosted = click_pay_now(second, hs_server.url)

    assert site.front.met and site.front.count(*pay_now) == 3, "two clicks in one tab, one in the other"
    assert first.url == hosted
    [made] = link_payments(hs, hs_state, invoice_id)
    assert made.amount == 1200
    # Both tabs show the card form: the first pays; the second's card is not taken, the link is paid.
    pay_with_card(first)
    first.wait_for_url(f"{link}/return?**")
    expect_state(first, "paid", "Paid")
    pay_with_card(second)
    expect(second.get_by_role("heading", level=1)).to_have_text("Payment succeeded")
    expect(second.locator("form")).to_have_count(0)
    open_url(second, link)
    expect_state(second, "paid", "Paid")
    expect(second.get_by_role("button")).to_have_count(0)
    site.settle()
    assert kb.invoices.get(invoice_id).balance == 0 and len(kill_bill_payments(kb, invoice_id)) == 1
    assert [str(p.status) for p in link_payments(hs, hs_state, invoice_id)] == ["succeeded"]


def test_expired_tampered_and_unknown_links_show_a_clear_page(page: Page, site: Site, payor, runtime,
                                                              tenant_id) -> None:
    payor.invoice("5.00")
    link = emailed_link(site.next_email())
    token = link.rsplit("/", 1)[1]
    payload, rest = token.split(".", 1)
    tampered = ("B" if payload[0] == "A" else "A") + payload[1:] + "." + rest
    unknown = tokens.for_runtime(runtime).sign(tenant_id, 999_999, runtime.clock() + timedelta(days=1))
    not_found = [f"{site.url}/pay/{tampered}", f"{site.url}/pay/{unknown}", f"{site.url}/pay/{token}x",
                 f"{site.url}/pay/{tampered}/return"]

    for url in not_found:
        open_url(page, url, status=404)
        expect_message(page, "Link not found", "This payment link is not valid.")

    open_url(page, link)  # opened while still valid; "Pay now" clicked after it expired
    later = runtime.clock() + timedelta(days=payor.env.settings.pay_by_link.link_valid_days, minutes=1)
    runtime.clock = lambda: later
    with page.expect_navigation() as navigation:
        pay_button(page).click()
    assert navigation.value is not None and navigation.value.status == 410
    expect_message(page, "This link has expired", "contact the sender for a new one")
    for url in (link, f"{link}/return"):
        open_url(page, url, status=410)
        expect_message(page, "This link has expired", "contact the sender for a new one")


def expect_message(page: Page, title: str, text: str) -> None:
    """An error page a payor can read: its own title and words, no pay button, nothing technical."""
    expect(page).to_have_title(title)
    expect(page.get_by_role("main").get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_role("main")).to_contain_text(text)
    expect(page.get_by_role("button")).to_have_count(0)
    body = page.content()
    assert "Traceback" not in body and "Exception" not in body and "werkzeug" not in body.lower()


def test_voided_and_settled_invoices_show_their_state_and_no_pay_button(page: Page, site: Site, payor, kb,
                                                                        kb_state, tenant_id) -> None:
    voided = payor.invoice("20.00")
    voided_link = emailed_link(site.next_email())
    settled = payor.invoice("30.00")
    settled_link = emailed_link(site.next_email())
    kb_state.invoice(UUID(tenant_id), voided).status = "VOID"  # voided in Kill Bill after the email went out

    open_url(page, voided_link)
    expect_state(page, "voided", "Voided")
    expect(page.get_by_text("Nothing is due on this invoice.")).to_be_visible()
    expect(page.get_by_role("button")).to_have_count(0)

    open_url(page, settled_link)  # opened while open, paid elsewhere before "Pay now"
    expect(pay_button(page)).to_have_text("Pay now $30.00")
    kb.invoice_payments.pay_invoice(settled, payor.account_id, external_payment=True)
    pay_button(page).click()
    expect(page.get_by_role("status").first).to_have_text("This invoice is already paid.")
    expect_state(page, "paid", "Paid")
    expect(page.locator("#amount-due")).to_have_text("$0.00")
    expect(page.get_by_role("button")).to_have_count(0)
    assert len(kill_bill_payments(kb, settled)) == 1  # the external one: Pay now started nothing


def test_a_partial_balance_in_a_zero_decimal_currency_is_shown_and_paid(page: Page, site: Site, kb, kb_state,
                                                                        hs, hs_state, runtime, tenant_id,
                                                                        hs_server) -> None:
    yen = make_payor(kb, kb_state, hs, runtime, tenant_id, currency="JPY")
    invoice_id = yen.invoice("1500", "Annual plan")
    link = emailed_link(site.next_email())
    kb.invoice_payments.pay_invoice(invoice_id, yen.account_id, external_payment=True, amount=Decimal("500"))

    open_url(page, link)
    expect(page.get_by_role("row", name=re.compile("Annual plan"))).to_contain_text("¥1,500")
    expect(page.get_by_role("row", name=re.compile("^Total"))).to_contain_text("¥1,500")
    expect(page.locator("#amount-due")).to_have_text("¥1,000")
    expect(pay_button(page)).to_have_text("Pay now ¥1,000")
    assert ".00" not in page.get_by_role("main").inner_text()

    click_pay_now(page, hs_server.url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay 1000 JPY")
    pay_with_card(page)
    page.wait_for_url(f"{link}/return?**")
    expect_state(page, "paid", "Paid")
    expect(page.locator("#amount-due")).to_have_text("¥0")

    site.settle()
    assert kb.invoices.get(invoice_id).balance == 0
    [made] = link_payments(hs, hs_state, invoice_id)
    assert made.amount == 1000 and made.currency == "JPY"  # JPY has no minor unit: 1000 is ¥1,000
    # The external ¥500, and the link's ¥1,000 recorded once.
    assert sorted(p.purchased_amount for p in kill_bill_payments(kb, invoice_id)) == [Decimal(500), Decimal(1000)]


def test_the_pages_are_accessible_and_fit_a_phone(mobile_page: Page, site: Site, payor, hs_server) -> None:
    page = mobile_page
    payor.invoice("1234.56", "Usage of api.example.test/v1/invoices/reconciliation-exports-with-a-long-name")
    link = emailed_link(site.next_email())

    open_url(page, link)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator('meta[name="viewport"]').get_attribute("content") == "width=device-width, initial-scale=1"
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("table", name="Items")).to_be_visible()
    button = pay_button(page)
    expect(button).to_have_accessible_name("Pay now $1,234.56")
    expect(button).to_have_accessible_description("$1,234.56")
    assert fits_the_screen(page)
    box = button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375 and box["height"] >= 44

    page.keyboard.press("Tab")  # the button is the page's one control: reachable and usable by keyboard
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{hs_server.url}/payment_link/**")

    open_url(page, f"{site.url}/pay/not-a-token", status=404)
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.get_by_role("main")).to_have_count(1)
    assert fits_the_screen(page)


def fits_the_screen(page: Page) -> bool:
    """Nothing wider than the screen: no horizontal scrolling, no zooming out.

    (A mobile browser widens its layout viewport to what overflows, so ``innerWidth`` is no yardstick.)"""
    assert page.viewport_size is not None
    width = page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    return bool(width <= page.viewport_size["width"])


def test_a_declined_card_then_3ds_on_a_new_link_pays_once(page: Page, site: Site, payor, kb, hs, hs_state,
                                                          hs_server) -> None:
    invoice_id = payor.invoice("75.00")
    link = emailed_link(site.next_email())
    open_url(page, link)
    click_pay_now(page, hs_server.url)

    pay_with_card(page, DECLINE)
    page.wait_for_url(f"{link}/return?**")
    expect(page.get_by_role("status")).to_have_text("The payment did not go through. You can try again.")
    expect_state(page, "open", "Open")

    click_pay_now(page, hs_server.url)  # a fresh link: the declined one cannot be paid again
    pay_with_card(page, THREE_DS)
    expect(page.get_by_role("heading", level=1)).to_have_text("3D Secure authentication")
    page.get_by_role("button", name="Authenticate").click()
    page.wait_for_url(f"{link}/return?**")
    expect_state(page, "paid", "Paid")

    site.settle()
    assert kb.invoices.get(invoice_id).balance == 0 and len(kill_bill_payments(kb, invoice_id)) == 1
    assert sorted(str(p.status) for p in link_payments(hs, hs_state, invoice_id)) == ["failed", "succeeded"]
