"""The demo's story, one step at a time, each ending only when Kill Bill (or the payor's mailbox) shows the
state the step expects.

The demo plays every party but the bridge: the operator (maps the tenant through the admin API), the
biller (accounts, invoices and a refund through Kill Bill's API), the payors (cards saved in Hyperswitch,
the pay-by-link email and page) and the processor (the simulator's outcomes of merchant-initiated charges:
approve, decline, settle later). The bridge does its real work in between: the plugin contract Kill Bill
calls, webhooks and push notifications stored and reconciled by the worker, emails, /pay pages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin
from uuid import UUID

import requests
from sqlalchemy import func, or_, select

from bridge.db.engine import session_scope
from bridge.db.invoices import Message
from bridge.db.jobs import Job, JobState
from bridge.db.webhooks import EventState, InboundEvent
from bridge.demo import killbill_view as view
from bridge.demo.console import Console
from bridge.demo.killbill_view import DemoInvoice, money
from bridge.demo.stack import DemoStack
from bridge.demo.waiting import Seen, StepFailed, wait_for
from bridge.payment_methods.sources import PROP_MANDATE
from bridge.payments import ids
from bridge.simulators.hyperswitch import DEMO_MERCHANT
from bridge.simulators.payors import APPROVED_CARD, save_card
from hyperswitch_client import HyperswitchClient
from hyperswitch_client.profiles import WebhookDetailsParams
from killbill_client import KillBillClient
from killbill_client.constants import AUTO_PAY_OFF
from killbill_client.models import Account, ExternalCharge, TransactionStatus, TransactionType

# The Java forwarding plugin's name in Kill Bill (killbill-plugin/): payment methods of this plugin go to the bridge.
PLUGIN_NAME = "hyperswitch-bridge"
KB_USER, KB_PASSWORD = "admin", "password"  # the Kill Bill simulator's user
KB_API_KEY, KB_API_SECRET = "acme-cloud", "acme-cloud-demo-secret"
BILLER, SENDER = "Acme Cloud", "billing@acme-cloud.example"
CURRENCY = "USD"
PAID = money(Decimal(0), CURRENCY)
CARD_HINT = " ".join(APPROVED_CARD[i:i + 4] for i in range(0, 16, 4))
HTTP_TIMEOUT = 30.0
# Jobs retried within this many seconds still count as work in progress (the demo's backoff is at most 2 s).
SETTLING_SECONDS = 5

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Payor:
    name: str
    email: str
    account_id: UUID
    mandate_id: str | None


@dataclass(frozen=True)
class Outcome:
    """A step's one-line result, and lines shown under it."""

    summary: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SentEmail:
    kind: str
    recipient: str
    subject: str
    kb_invoice_id: str | None
    text: str


class Scenario:
    def __init__(self, stack: DemoStack, console: Console, *, interactive: bool, step_timeout: float) -> None:
        self.stack = stack
        self.console = console
        self.interactive = interactive
        self.step_timeout = step_timeout
        self.invoices: list[DemoInvoice] = []
        self.pay_url: str | None = None
        self._http = requests.Session()
        self.kb: KillBillClient
        self.hs: HyperswitchClient
        self.tenant_id: str
        self.ada: Payor
        self.grace: Payor

    # -- running ----------------------------------------------------------------------------------
    def steps(self) -> Iterator[tuple[str, Callable[[], Outcome]]]:
        yield "Hyperswitch simulator", self.start_hyperswitch
        yield "Kill Bill simulator", self.start_killbill
        yield "SMTP sink", self.start_smtp
        yield "bridge and worker", self.start_bridge
        yield "tenant mapping", self.map_tenant
        yield "payors", self.add_payors
        yield "automatic payment", self.automatic_payment
        yield "declined payment", self.declined_payment
        yield "asynchronous payment", self.asynchronous_payment
        yield "refund", self.refund
        yield "pay-by-link email", self.pay_by_link_email
        yield "paid by link", self.paid_by_link
        yield "all reconciled", self.all_reconciled

    def run(self) -> None:
        """Every step in order; raises StepFailed (already shown) at the first that misses its state."""
        for name, action in self.steps():
            self.run_step(name, action)

    def run_step(self, name: str, action: Callable[[], Outcome]) -> None:
        """One step and its live line; StepFailed naming the step if it misses its expected state."""
        self.console.begin(name)
        try:
            outcome = action()
        except StepFailed as exc:
            self.console.failed(str(exc))
            raise StepFailed(f"{name}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - any error ends the demo with the step it happened in
            log.exception("step %s failed", name)
            self.console.failed(f"{type(exc).__name__}: {exc}")
            raise StepFailed(f"{name}: {type(exc).__name__}: {exc}") from exc
        self.console.done(outcome.summary)
        for note in outcome.notes:
            self.console.detail(note)

    def close(self) -> None:
        self._http.close()
        for client in (getattr(self, "kb", None), getattr(self, "hs", None)):
            if client is not None:
                client.close()

    def _wait(self, what: str, probe: Callable[[], Seen]) -> str:
        return wait_for(self.console, what, probe, self.step_timeout)

    # -- the services ------------------------------------------------------------------------------
    def start_hyperswitch(self) -> Outcome:
        self.stack.start_hyperswitch()
        return Outcome(f"{self.stack.hs_server.url}  merchant {DEMO_MERCHANT['merchant_id']}, "
                       f"profile {DEMO_MERCHANT['profile_id']}")

    def start_killbill(self) -> Outcome:
        self.stack.start_killbill()
        return Outcome(f"{self.stack.kb_server.url}  user {KB_USER}/{KB_PASSWORD}")

    def start_smtp(self) -> Outcome:
        self.stack.start_smtp()
        return Outcome(f"smtp://{self.stack.smtp.host}:{self.stack.smtp.port}  keeps every message it receives")

    def start_bridge(self) -> Outcome:
        self.stack.start_bridge()
        return Outcome(f"{self.stack.bridge_url}  SQLite {self.stack.data_dir / 'bridge.db'}, one worker")

    # -- setting up, as the operator and the biller -----------------------------------------------------
    def map_tenant(self) -> Outcome:
        settings = self.stack.runtime.settings
        kb_url, hs_url, bridge_url = self.stack.kb_server.url, self.stack.hs_server.url, self.stack.bridge_url
        with KillBillClient(kb_url, username=KB_USER, password=KB_PASSWORD) as kb_admin:
            tenant = kb_admin.tenants.create(KB_API_KEY, KB_API_SECRET, external_key="acme-cloud")
        assert tenant.tenant_id is not None
        self.tenant_id = str(tenant.tenant_id)
        self.kb = KillBillClient(kb_url, username=KB_USER, password=KB_PASSWORD, api_key=KB_API_KEY,
                                 api_secret=KB_API_SECRET)
        self.hs = HyperswitchClient(hs_url, DEMO_MERCHANT["api_key"], profile_id=DEMO_MERCHANT["profile_id"])
        # What installing the Java plugin configures in Kill Bill: the bridge's URL and the shared secret.
        assert settings.plugin_shared_secret is not None
        self.stack.kb_state.configure_plugin(tenant.tenant_id, PLUGIN_NAME, bridge_url,
                                             settings.plugin_shared_secret.get_secret_value())
        # The profile's webhooks go to the bridge, signed with its payment_response_hash_key.
        self.hs.profiles.update_webhook_details(DEMO_MERCHANT["merchant_id"], WebhookDetailsParams(
            webhook_url=f"{bridge_url}/webhooks/hyperswitch"), DEMO_MERCHANT["profile_id"])
        created = self._admin("POST", "/admin/v1/tenants", json=self._tenant_mapping(kb_url, hs_url))
        callback = created["callback"]
        if callback["status"] != "registered":
            raise StepFailed(f"Kill Bill push callback {callback['status']}: {callback['detail']}")
        report = self._admin("POST", f"/admin/v1/tenants/{self.tenant_id}/verify")
        failing = [f"{c['name']}: {c['detail']}" for c in report["checks"] if c["status"] == "fail"]
        if failing or not report["ok"]:
            raise StepFailed("tenant verify failed: " + "; ".join(failing))
        return Outcome(f"Kill Bill tenant {self.tenant_id} → Hyperswitch {DEMO_MERCHANT['merchant_id']}/"
                       f"{DEMO_MERCHANT['profile_id']}; tenants verify: {len(report['checks'])} checks pass")

    def _tenant_mapping(self, kb_url: str, hs_url: str) -> dict[str, Any]:
        """What an operator sends to ``POST /admin/v1/tenants`` (or gives ``bridge tenants add``)."""
        return {"kb_tenant_id": self.tenant_id, "name": BILLER, "killbill_url": kb_url, "kb_api_key": KB_API_KEY,
                "kb_api_secret": KB_API_SECRET, "kb_username": KB_USER, "kb_password": KB_PASSWORD,
                "hs_base_url": hs_url, "hs_merchant_id": DEMO_MERCHANT["merchant_id"],
                "hs_profile_id": DEMO_MERCHANT["profile_id"], "hs_api_key": DEMO_MERCHANT["api_key"],
                "hs_publishable_key": DEMO_MERCHANT["publishable_key"],
                "hs_webhook_secret": DEMO_MERCHANT["payment_response_hash_key"],
                "settings": {"email": {"sender": SENDER, "brand_name": BILLER}}}

    def _admin(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        token = self.stack.runtime.settings.admin_token
        assert token is not None
        response = self._http.request(method, self.stack.bridge_url + path, timeout=HTTP_TIMEOUT,
                                      headers={"Authorization": f"Bearer {token.get_secret_value()}"}, **kwargs)
        if response.status_code >= 300:
            raise StepFailed(f"{method} {path}: HTTP {response.status_code} {response.text[:300]}")
        return response.json()  # type: ignore[no-any-return]

    def add_payors(self) -> Outcome:
        self.ada = self._payor("Ada Lovelace", "ada@example.com", pays_by_link=False)
        self.grace = self._payor("Grace Hopper", "grace@example.com", pays_by_link=True)
        return Outcome(f"{self.ada.name}: charged automatically (card on file, mandate {self.ada.mandate_id}); "
                       f"{self.grace.name}: pays each invoice herself (AUTO_PAY_OFF)")

    def _payor(self, name: str, email: str, *, pays_by_link: bool) -> Payor:
        """A Kill Bill account whose default payment method is the bridge's, holding a card saved in Hyperswitch."""
        account = self.kb.accounts.create(Account(name=name, email=email, currency=CURRENCY,
                                                  external_key=email.split("@")[0]))
        assert account.account_id is not None
        if pays_by_link:
            self.kb.tags.add_to_account(account.account_id, [AUTO_PAY_OFF])
        _method, mandate_id = save_card(self.hs, ids.customer_id(account.account_id), currency=CURRENCY,
                                        holder=name)
        # Kill Bill calls the plugin's addPaymentMethod; the bridge checks the mandate belongs to the customer.
        self.kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True,
                                    plugin_info_properties={PROP_MANDATE: mandate_id})
        return Payor(name, email, account.account_id, mandate_id)

    def _invoice(self, payor: Payor, amount: str, description: str) -> DemoInvoice:
        """An external charge, invoiced and committed: Kill Bill pays it on its bus unless AUTO_PAY_OFF."""
        [item] = self.kb.invoices.create_external_charges(
            payor.account_id, [ExternalCharge(amount=Decimal(amount), description=description)])
        assert item.invoice_id is not None and item.invoice_item_id is not None
        number = self.kb.invoices.get(item.invoice_id).invoice_number or "?"
        invoice = DemoInvoice(number, item.invoice_id, item.invoice_item_id, payor.name, Decimal(amount), CURRENCY)
        self.invoices.append(invoice)
        return invoice

    def _processor_answers(self, payor: Payor, outcome: str) -> None:
        """How the simulated processor answers the next merchant-initiated charges on the payor's mandate."""
        assert payor.mandate_id is not None
        self.stack.hs_state.set_mandate_behaviour(payor.mandate_id, outcome)

    # -- the payments -------------------------------------------------------------------------------
    def automatic_payment(self) -> Outcome:
        invoice = self._invoice(self.ada, "49.90", "Pro plan, monthly")
        self._wait("Kill Bill's auto-pay", lambda: view.last_transaction_is(
            self.kb, invoice, TransactionType.PURCHASE, TransactionStatus.SUCCESS))
        self._wait("the invoice to be paid", lambda: view.balance_is(self.kb, invoice, Decimal(0)))
        return Outcome(f"invoice {invoice.number}, {money(invoice.amount, CURRENCY)}: Kill Bill PURCHASE SUCCESS, "
                       f"balance {PAID}; {self._hyperswitch_payment(invoice)}")

    def declined_payment(self) -> Outcome:
        self._processor_answers(self.ada, "insufficient_funds")
        try:
            invoice = self._invoice(self.ada, "20.00", "Extra seats")
            self._wait("Kill Bill's auto-pay", lambda: view.last_transaction_is(
                self.kb, invoice, TransactionType.PURCHASE, TransactionStatus.PAYMENT_FAILURE))
        finally:
            self._processor_answers(self.ada, "approve")
        txn = view.transactions(self.kb, invoice, TransactionType.PURCHASE)[-1]
        left = view.balance(self.kb, invoice)
        if left != invoice.amount:
            raise StepFailed(f"a declined payment left the invoice at {money(left, CURRENCY)}")
        return Outcome(f"invoice {invoice.number}, {money(invoice.amount, CURRENCY)}: Kill Bill PURCHASE "
                       f"PAYMENT_FAILURE ({view.describe_error(txn)}), balance still {money(left, CURRENCY)}")

    def asynchronous_payment(self) -> Outcome:
        self._processor_answers(self.ada, "processing")
        try:
            invoice = self._invoice(self.ada, "30.00", "Usage, March")
            self._wait("Kill Bill's auto-pay", lambda: view.last_transaction_is(
                self.kb, invoice, TransactionType.PURCHASE, TransactionStatus.PENDING))
        finally:
            self._processor_answers(self.ada, "approve")
        txn = view.transactions(self.kb, invoice, TransactionType.PURCHASE)[-1]
        hs_payment_id = ids.payment_id(txn.transaction_id)  # type: ignore[arg-type]
        # Later, the processor settles: Hyperswitch signs and sends payment_succeeded to the bridge, whose worker
        # re-reads the payment and tells Kill Bill (notifyStateChanged with the invoice control plugin).
        self.stack.hs_state.settle_payment(hs_payment_id, "succeeded")
        self._wait("the webhook to settle it", lambda: view.last_transaction_is(
            self.kb, invoice, TransactionType.PURCHASE, TransactionStatus.SUCCESS))
        self._wait("the invoice to be paid", lambda: view.balance_is(self.kb, invoice, Decimal(0)))
        # The simulator books the delivery once it has read the bridge's answer, which can be after the worker
        # has already told Kill Bill: wait for the booking rather than look once.
        self._wait("the webhook's delivery to be booked", lambda: self._webhook_delivered(hs_payment_id))
        return Outcome(f"invoice {invoice.number}, {money(invoice.amount, CURRENCY)}: Kill Bill PENDING while "
                       f"Hyperswitch processes; signed payment_succeeded webhook → Kill Bill SUCCESS, balance {PAID}")

    def _webhook_delivered(self, hs_payment_id: str) -> Seen:
        states = [d["state"] for d in self.stack.hs_state.deliveries(event_type="payment_succeeded")
                  if d["object_id"] == hs_payment_id]
        return Seen("delivered" in states, f"payment_succeeded of {hs_payment_id}: {', '.join(states) or 'not sent'}")

    def refund(self) -> Outcome:
        invoice, amount = self.invoices[0], Decimal("10.00")
        [payment] = [p for p in view.payments(self.kb, invoice)
                     if any(t.status == TransactionStatus.SUCCESS for t in p.transactions or [])]
        assert payment.payment_id is not None
        # Refunded with an item adjustment, so the invoice stays paid (without it, Kill Bill reopens it).
        self.kb.invoice_payments.refund(payment.payment_id, amount, is_adjusted=True,
                                        adjustments={invoice.item_id: amount})
        self._wait("the refund", lambda: view.last_transaction_is(
            self.kb, invoice, TransactionType.REFUND, TransactionStatus.SUCCESS))
        txn = view.transactions(self.kb, invoice, TransactionType.REFUND)[-1]
        hs_refund = self.hs.refunds.retrieve(ids.refund_id(txn.transaction_id))  # type: ignore[arg-type]
        if str(hs_refund.status) != "succeeded":
            raise StepFailed(f"Kill Bill shows the refund SUCCESS, Hyperswitch {hs_refund.refund_id} "
                             f"{hs_refund.status}")
        left = view.balance(self.kb, invoice)
        return Outcome(f"{money(amount, CURRENCY)} of invoice {invoice.number}: Kill Bill REFUND SUCCESS, item "
                       f"adjusted, balance {money(left, CURRENCY)}; Hyperswitch {hs_refund.refund_id} "
                       f"{hs_refund.status}")

    def _hyperswitch_payment(self, invoice: DemoInvoice) -> str:
        txn = view.transactions(self.kb, invoice, TransactionType.PURCHASE)[-1]
        payment = self.hs.payments.retrieve(ids.payment_id(txn.transaction_id))  # type: ignore[arg-type]
        return f"Hyperswitch {payment.payment_id} {payment.status}"

    # -- pay by link --------------------------------------------------------------------------------
    def pay_by_link_email(self) -> Outcome:
        invoice = self._invoice(self.grace, "75.00", "Team plan, annual")
        self._wait("the bridge's email", lambda: self._pay_link_email(invoice))
        found = self._email_for(invoice, "pay_link")
        assert found is not None  # the wait has just seen it
        match = re.search(re.escape(self.stack.bridge_url) + r"/pay/[A-Za-z0-9._-]+(?=\s|$)", found.text)
        if match is None:
            raise StepFailed(f"the email to {found.recipient} carries no {self.stack.bridge_url}/pay/ link")
        self.pay_url = match.group(0)
        notes = [f"Subject: {found.subject}", f"Link:    {self.pay_url}"]
        if self.interactive:
            notes.append(f"Open the link in a browser, press Pay now, then pay on the Hyperswitch page with the "
                         f"test card {CARD_HINT} (any future expiry, any CVC).")
        return Outcome(f"invoice {invoice.number}, {money(invoice.amount, CURRENCY)}: Kill Bill leaves it to "
                       f"{self.grace.name}; the bridge emailed {found.recipient} a link to pay it", tuple(notes))

    def _pay_link_email(self, invoice: DemoInvoice) -> Seen:
        found = self._email_for(invoice, "pay_link")
        return Seen(True, found.subject) if found else Seen(False, "no email in the SMTP sink yet")

    def _email_for(self, invoice: DemoInvoice, kind: str) -> SentEmail | None:
        return next((e for e in self.sent_emails()
                     if e.kb_invoice_id == str(invoice.invoice_id) and e.kind == kind), None)

    def sent_emails(self) -> list[SentEmail]:
        """Every message the SMTP sink received, with what the bridge's message log says it was."""
        received = self.stack.smtp.received
        ids_seen = [str(r.email["Message-ID"]) for r in received]
        with session_scope(self.stack.runtime.sessions) as session:
            logged = {m.provider_message_id: m for m in session.scalars(
                select(Message).where(Message.provider_message_id.in_(ids_seen)))}
        emails = []
        for message_id, got in zip(ids_seen, received, strict=True):
            row = logged.get(message_id)
            email = got.email
            body = email.get_body(("plain",))
            emails.append(SentEmail(row.kind if row else "?", ", ".join(got.rcpt_tos), str(email["Subject"]),
                                    row.kb_invoice_id if row else None,
                                    body.get_content() if body is not None else ""))  # type: ignore[attr-defined]
        return emails

    def paid_by_link(self) -> Outcome:
        invoice = self.invoices[-1]
        assert self.pay_url is not None
        if self.interactive:
            if not self.console.live:
                self.console.line(f"    waiting for {self.grace.name}'s payment (Ctrl-C stops the demo)")
            # A person takes the time they take: no timeout, Ctrl-C ends the wait.
            wait_for(self.console, f"{self.grace.name}'s payment (Ctrl-C stops the demo)",
                     lambda: view.balance_is(self.kb, invoice, Decimal(0)), None)
        else:
            self._pay_as_the_payor(self.pay_url)
            self._wait("the payment to reach Kill Bill", lambda: view.balance_is(self.kb, invoice, Decimal(0)))
        txn = self._wait("Kill Bill's payment", lambda: view.last_transaction_is(
            self.kb, invoice, TransactionType.PURCHASE, TransactionStatus.SUCCESS))
        recorded = view.transactions(self.kb, invoice, TransactionType.PURCHASE, with_plugin_info=True)[-1]
        hs_id = recorded.first_payment_reference_id or "?"
        hs_status = self.hs.payments.retrieve(hs_id).status if recorded.first_payment_reference_id else "?"
        return Outcome(f"invoice {invoice.number}: Kill Bill {txn} {money(recorded.amount, CURRENCY)}, "
                       f"balance {PAID}; Hyperswitch {hs_id} {hs_status} (a payment-link payment)")

    def _pay_as_the_payor(self, pay_url: str) -> None:
        """What the payor's browser does: Pay (a POST) on the bridge's page, the card on Hyperswitch's hosted
        payment-link page, then back to the bridge's return page."""
        hosted = self._redirect("POST", pay_url)
        back = self._redirect("POST", hosted, data={"card_number": APPROVED_CARD, "card_exp_month": "12",
                                                    "card_exp_year": "2035", "card_holder_name": self.grace.name,
                                                    "card_cvc": "123"})
        page = self._http.get(back, timeout=HTTP_TIMEOUT)
        if page.status_code != 200 or 'data-state="paid"' not in page.text:
            raise StepFailed(f"the bridge's return page answered HTTP {page.status_code} without showing the "
                             "invoice paid")

    def _redirect(self, method: str, url: str, **kwargs: Any) -> str:
        response = self._http.request(method, url, allow_redirects=False, timeout=HTTP_TIMEOUT, **kwargs)
        if response.status_code != 303 or "Location" not in response.headers:
            raise StepFailed(f"{method} {url.split('?')[0]}: HTTP {response.status_code}, expected a 303 redirect")
        return urljoin(url, response.headers["Location"])

    # -- the end ---------------------------------------------------------------------------------------
    def all_reconciled(self) -> Outcome:
        """Nothing left in flight anywhere, and nothing that failed along the way."""
        self._wait("the last events", self._settled)
        with session_scope(self.stack.runtime.sessions) as session:
            dead = list(session.scalars(select(Job).where(Job.state == JobState.DEAD)))
            failed = list(session.scalars(select(InboundEvent).where(InboundEvent.state == EventState.FAILED)))
            events = session.scalar(select(func.count()).select_from(InboundEvent)) or 0
            jobs = session.scalar(select(func.count()).select_from(Job).where(Job.state == JobState.DONE)) or 0
        if dead or failed:
            raise StepFailed("; ".join([f"job {j.id} ({j.kind}) dead: {j.last_error}" for j in dead]
                                       + [f"event {e.id} ({e.event_type}) failed: {e.outcome}" for e in failed]))
        undelivered = [d for d in self.stack.hs_state.deliveries() if d["state"] != "delivered"]
        unpushed = [d for d in self.stack.kb_state.push_deliveries() if not d["delivered"]]
        if undelivered or unpushed:
            raise StepFailed(f"{len(undelivered)} Hyperswitch webhook(s) and {len(unpushed)} Kill Bill push "
                             "notification(s) never reached the bridge")
        return Outcome(f"{events} webhooks and push notifications stored and processed, {jobs} jobs done; "
                       "nothing failed, nothing left in flight")

    def _settled(self) -> Seen:
        if not (self.stack.kb_state.wait_idle(timeout=0) and self.stack.hs_state.wait_for_deliveries(timeout=0)):
            return Seen(False, "Kill Bill or Hyperswitch still sending")
        with session_scope(self.stack.runtime.sessions) as session:
            soon = self.stack.runtime.clock() + timedelta(seconds=SETTLING_SECONDS)
            busy = session.scalar(select(func.count()).select_from(Job).where(or_(
                Job.state == JobState.RUNNING, (Job.state == JobState.PENDING) & (Job.run_at <= soon)))) or 0
            waiting = session.scalar(select(func.count()).select_from(InboundEvent).where(
                InboundEvent.state == EventState.RECEIVED)) or 0
        return Seen(busy == 0 and waiting == 0, f"{busy} job(s) due, {waiting} event(s) unprocessed")

    # -- the summary ------------------------------------------------------------------------------------
    def summary(self) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        """A table of every invoice: Kill Bill's transactions and balance, the Hyperswitch object behind each
        transaction (as the bridge reported it to Kill Bill) with its status in Hyperswitch, the emails sent."""
        emails = self.sent_emails()
        rows: list[tuple[str, ...]] = []
        for invoice in self.invoices:
            txns = [t for p in view.payments(self.kb, invoice, with_plugin_info=True) for t in p.transactions or []]
            killbill = [f"{t.transaction_type} {t.status}" for t in txns] or ["no payment"]
            hyperswitch = [self._in_hyperswitch(t.first_payment_reference_id) for t in txns]
            sent = [f"{e.kind} to {e.recipient}" for e in emails if e.kb_invoice_id == str(invoice.invoice_id)]
            first = (invoice.number, invoice.payor, money(invoice.amount, CURRENCY),
                     money(view.balance(self.kb, invoice), CURRENCY))
            for index in range(max(len(killbill), len(sent))):
                lead = first if index == 0 else ("",) * len(first)
                rows.append((*lead, _nth(killbill, index), _nth(hyperswitch, index), _nth(sent, index)))
        return SUMMARY_HEADERS, rows

    def _in_hyperswitch(self, hs_id: str | None) -> str:
        if not hs_id:
            return "(none reported)"
        parsed = ids.parse(hs_id)
        if parsed is not None and parsed[0] is ids.IdKind.REFUND:
            return f"{hs_id} {self.hs.refunds.retrieve(hs_id).status}"
        return f"{hs_id} {self.hs.payments.retrieve(hs_id).status}"


SUMMARY_HEADERS = ("INVOICE", "PAYOR", "AMOUNT", "BALANCE", "KILL BILL", "HYPERSWITCH", "EMAILS")


def _nth(values: list[str], index: int) -> str:
    return values[index] if index < len(values) else ""
