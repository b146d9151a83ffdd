"""Pay-by-link: the bridge's pay link of a Kill Bill invoice, its Hyperswitch payment link, and recording.

* :func:`open_pay_link` makes (once per invoice) the ``PayLink`` behind ``/pay/<token>``.
* :func:`start_payment` ("Pay now") re-reads the invoice and creates — or reuses while still active — a
  Hyperswitch payment link for the current balance. The PayLink row is locked meanwhile, so two tabs or a
  double click never make two live links; a link made for another amount is cancelled. Nor is the invoice
  offered by a live lump sum meanwhile (:mod:`bridge.invoices.lump_sums`: several invoices, part payments).
* :func:`record_payment` records a succeeded link payment against the invoice exactly once: a claim on
  the row (a short transaction; Kill Bill calls the plugin back, so no lock is held across that call),
  then the card the payor saved, if any, added to the account (:mod:`bridge.invoices.saved_cards`), then
  Kill Bill's invoice payment with the plugin and ``hsPaymentId`` (the plugin links the existing payment
  instead of charging and refuses to link it twice), then, in one transaction, the row is marked PAID,
  the invoice's pending payment requests (reminders) are stopped and the payor's receipt is queued.

Whenever a link leaves OPEN (paid, voided, adjusted to zero), the invoice's payment requests not sent
yet are stopped in the same transaction (:func:`bridge.invoices.notices.stop_payment_requests`).

Recording needs a Kill Bill payment method of the bridge's plugin on the account (the account's default
if it is one, else another the bridge carries). Without one, Kill Bill would pick the default of another
plugin (or refuse: no payment method), so the bridge does not call it: with the tenant setting
``pay_by_link.record_as_external_payment`` it records an external payment (deployments without the Java
plugin), otherwise :class:`RecordingRefused` is raised — the webhook event fails, stays replayable, and
the payor's page says the payment is being processed.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import hyperswitch_client as hs
import killbill_client as kb
from bridge.db.engine import session_scope
from bridge.db.invoices import PayLink, PayLinkState
from bridge.db.payments import PaymentMethod, PaymentMethodState
from bridge.invoices import notices, saved_cards, tokens
from bridge.payment_methods.customers import ensure_customer
from bridge.payments import ids
from bridge.tenancy.env import TenantEnv
from hyperswitch_client.money import from_minor_units, to_minor_units
from hyperswitch_client.payments import PaymentCancelParams, PaymentCreateParams, PaymentLinkConfig
from killbill_client.models import Account, Invoice, InvoicePayment, InvoiceStatus

log = logging.getLogger(__name__)

PROP_HS_PAYMENT_ID = "hsPaymentId"
PROP_HS_PAYMENT_PART = "hsPaymentPart"  # with hsPaymentId: this Kill Bill payment carries part of it
# How long one Hyperswitch payment link stays payable (its session_expiry); a new one is made after.
HS_LINK_SECONDS = 3600
# A link expiring sooner than this is not offered again: the payor needs time to type a card.
REUSE_MARGIN = timedelta(minutes=2)
# A recording claim older than this was abandoned (a crashed process): another recorder may take it.
CLAIM = "recording"
CLAIM_STALE_AFTER = timedelta(minutes=10)
# Hyperswitch statuses of a link payment that is under way: no second link is made meanwhile.
IN_PROGRESS = {"processing", "requires_customer_action", "requires_merchant_action", "requires_capture",
                "requires_confirmation", "partially_captured", "partially_captured_and_capturable"}


class NotPayable(Exception):
    """Pay now cannot start: the invoice is paid, voided, at zero, or a payment is under way."""

    def __init__(self, state: str, message: str) -> None:
        super().__init__(message)
        self.state = state


class RecordingRefused(Exception):
    """A succeeded link payment that cannot be recorded in Kill Bill as configured (see the module)."""


class RecordingInProgress(Exception):
    """Another process is recording this payment right now."""


@dataclass(frozen=True)
class InvoiceState:
    """What the invoice allows now, read from Kill Bill."""

    state: PayLinkState
    balance: Decimal
    currency: str

    @property
    def payable(self) -> bool:
        return self.state is PayLinkState.OPEN


def invoice_state(invoice: Invoice) -> InvoiceState:
    balance, currency = invoice.balance or Decimal(0), invoice.currency or ""
    if invoice.status is InvoiceStatus.VOID:
        return InvoiceState(PayLinkState.VOIDED, balance, currency)
    if invoice.status is not InvoiceStatus.COMMITTED:
        return InvoiceState(PayLinkState.VOIDED, balance, currency)  # a DRAFT is not billed yet
    if balance <= 0:
        # Nothing billed (adjusted to zero) reads as voided; something billed and settled as paid.
        billed = invoice.amount or Decimal(0)
        return InvoiceState(PayLinkState.PAID if billed > 0 else PayLinkState.VOIDED, balance, currency)
    return InvoiceState(PayLinkState.OPEN, balance, currency)


# -- the pay link -----------------------------------------------------------------------------------------
def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def open_pay_link(env: TenantEnv, kb_account_id: UUID | str, kb_invoice_id: UUID | str,
                  reason: str | None) -> tuple[PayLink, str]:
    """The invoice's PayLink (made on first call, the same one after) and its ``/pay/<token>`` URL."""
    try:
        with session_scope(env.sessions) as session:  # looked up and made in one transaction
            link = _for_invoice(session, env, kb_invoice_id)
            if link is None:
                link = PayLink(kb_tenant_id=env.tenant_id, kb_account_id=str(kb_account_id),
                               kb_invoice_id=str(kb_invoice_id), state=PayLinkState.OPEN, reason=reason,
                               expires_at=env.now() + timedelta(days=env.settings.pay_by_link.link_valid_days))
                session.add(link)
    except IntegrityError:  # a concurrent call made it first
        link = find_for_invoice(env, kb_invoice_id)
        assert link is not None
    return link, pay_url(env, link)


def find_for_invoice(env: TenantEnv, kb_invoice_id: UUID | str) -> PayLink | None:
    with session_scope(env.sessions) as session:
        return _for_invoice(session, env, kb_invoice_id)


def _for_invoice(session: Session, env: TenantEnv, kb_invoice_id: UUID | str) -> PayLink | None:
    return session.scalars(select(PayLink).where(PayLink.kb_tenant_id == env.tenant_id,
                                                 PayLink.kb_invoice_id == str(kb_invoice_id))).one_or_none()


def get(env: TenantEnv, pay_link_id: int) -> PayLink | None:
    with session_scope(env.sessions) as session:
        link = session.get(PayLink, pay_link_id)
        return link if link is not None and link.kb_tenant_id == env.tenant_id else None


def token_for(env: TenantEnv, link: PayLink) -> str:
    return tokens.signer_for(env).sign(env.tenant_id, link.id, utc(link.expires_at))


def pay_url(env: TenantEnv, link: PayLink) -> str:
    return f"{env.public_url.rstrip('/')}/pay/{token_for(env, link)}"


def _set_state(env: TenantEnv, link_id: int, state: PayLinkState) -> PayLink:
    with session_scope(env.sessions) as session:
        row = session.get(PayLink, link_id, with_for_update=True)
        assert row is not None
        if row.state is PayLinkState.OPEN and state is not PayLinkState.OPEN:
            row.state = state
            notices.stop_payment_requests(session, env, row.kb_invoice_id, f"invoice {row.kb_invoice_id} is "
                                                                            f"{state.value}")
        return row


def read_invoice(env: TenantEnv, link: PayLink) -> Invoice:
    return env.killbill.invoices.get(UUID(link.kb_invoice_id))


def refresh(env: TenantEnv, link: PayLink, invoice: Invoice | None = None) -> tuple[PayLink, InvoiceState]:
    """Re-read the invoice and move an OPEN link to PAID/VOIDED when the invoice says so."""
    invoice = invoice or read_invoice(env, link)
    now = invoice_state(invoice)
    if link.state is PayLinkState.OPEN and not now.payable:
        link = _set_state(env, link.id, now.state)
        _cancel_open_hs_payment(env, link)
    return link, now


# -- Pay now ----------------------------------------------------------------------------------------------
def start_payment(env: TenantEnv, link: PayLink, return_url: str) -> str:
    """The Hyperswitch payment link to redirect the payor to; raises NotPayable."""
    if link.state is not PayLinkState.OPEN:
        raise NotPayable(link.state.value, f"this invoice is {link.state.value}")
    invoice = read_invoice(env, link)
    link, now = refresh(env, link, invoice)
    if not now.payable:
        raise NotPayable(now.state.value, f"this invoice is {now.state.value}")
    minor = to_minor_units(now.balance, now.currency)
    customer_id = ensure_customer(env, link.kb_account_id)  # writes its own rows: before the lock
    account = env.killbill.accounts.get(UUID(link.kb_account_id))
    with session_scope(env.sessions) as session:
        # The row lock (BEGIN IMMEDIATE on SQLite) makes concurrent clicks wait here, then reuse.
        row = session.get(PayLink, link.id, with_for_update=True)
        assert row is not None
        if row.state is not PayLinkState.OPEN:
            raise NotPayable(row.state.value, f"this invoice is {row.state.value}")
        from bridge.invoices import lump_sums  # it builds on this module

        lump_sums.guard_single_link(env, session, row)  # never two payable links for one invoice
        if row.hs_payment_id and row.hs_link_url:
            current = env.hyperswitch.payments.retrieve(row.hs_payment_id)
            status = str(current.status)
            if status == "succeeded" or status in IN_PROGRESS:
                raise NotPayable("processing", "a payment of this invoice is already under way")
            expires = utc(row.hs_link_expires_at) if row.hs_link_expires_at else None
            if (status == "requires_payment_method" and row.amount_minor == minor and row.currency == now.currency
                    and expires is not None and expires > env.now() + REUSE_MARGIN):
                return row.hs_link_url
            if status == "requires_payment_method":
                cancel(env, row.hs_payment_id, "replaced by a link for the current balance")
        payment = env.hyperswitch.payments.create(_link_params(env, row, invoice, account, customer_id, minor,
                                                               now.currency, return_url))
        assert payment.payment_link is not None, "Hyperswitch answered a payment link create without a link"
        row.hs_payment_id = payment.payment_id
        row.hs_link_url = payment.payment_link.link
        row.hs_link_expires_at = payment.expires_on or env.now() + timedelta(seconds=HS_LINK_SECONDS)
        row.amount_minor, row.currency = minor, now.currency
        log.info("pay link %s: Hyperswitch payment link %s for %s %s (invoice %s)", row.id, payment.payment_id,
                 minor, now.currency, row.kb_invoice_id)
        return payment.payment_link.link


def _link_params(env: TenantEnv, link: PayLink, invoice: Invoice, account: Account, customer_id: str,
                 minor: int, currency: str, return_url: str) -> PaymentCreateParams:
    policy = env.settings.pay_by_link
    save = policy.offer_to_save_card
    brand = env.settings.email.brand_name
    number = invoice.invoice_number
    return PaymentCreateParams(
        payment_id=ids.derive(ids.IdKind.LINK, uuid.uuid4()), amount=minor, currency=currency,
        confirm=False, payment_link=True, customer_id=customer_id, return_url=return_url,
        description=f"Invoice {number}" if number else "Invoice", session_expiry=HS_LINK_SECONDS,
        merchant_order_reference_id=str(number) if number else None,
        metadata={"kb_tenant_id": env.tenant_id, "kb_account_id": link.kb_account_id,
                  "kb_invoice_id": link.kb_invoice_id, "kb_pay_link_id": str(link.id)},
        setup_future_usage="off_session" if save else None,
        payment_link_config=PaymentLinkConfig(seller_name=brand[:255] if brand else None,
                                              is_setup_mandate_flow=True if save else None))


def cancel(env: TenantEnv, hs_payment_id: str, why: str) -> None:
    try:
        env.hyperswitch.payments.cancel(hs_payment_id, PaymentCancelParams(cancellation_reason=why))
    except hs.HyperswitchError as error:  # best effort: an unpaid link also ends by time
        log.warning("could not cancel Hyperswitch payment %s: %s", hs_payment_id, error)


def _cancel_open_hs_payment(env: TenantEnv, link: PayLink) -> None:
    """The invoice no longer needs paying: close a link payment nobody paid, so it cannot be paid late."""
    if not link.hs_payment_id or link.kb_payment_id:
        return
    try:
        status = str(env.hyperswitch.payments.retrieve(link.hs_payment_id).status)
    except hs.HyperswitchError:
        return
    if status == "requires_payment_method":
        cancel(env, link.hs_payment_id, f"invoice {link.kb_invoice_id} is {link.state.value}")


# -- recording --------------------------------------------------------------------------------------------
def pay_link_of_payment(env: TenantEnv, payment: Any) -> PayLink | None:
    """The PayLink a Hyperswitch payment was made for: by its id, else by its metadata (same tenant)."""
    with session_scope(env.sessions) as session:
        link = session.scalars(select(PayLink).where(PayLink.kb_tenant_id == env.tenant_id,
                                                     PayLink.hs_payment_id == payment.payment_id)).one_or_none()
    if link is not None:
        return link
    meta = payment.metadata or {}
    if meta.get("kb_tenant_id") != env.tenant_id or not meta.get("kb_invoice_id"):
        return None
    parsed = ids.parse(payment.payment_id)
    if parsed is None or parsed[0] is not ids.IdKind.LINK:
        return None
    return find_for_invoice(env, meta["kb_invoice_id"])


def is_pay_link_payment(hs_payment_id: str) -> bool:
    parsed = ids.parse(hs_payment_id)
    return parsed is not None and parsed[0] is ids.IdKind.LINK


def record_payment(env: TenantEnv, hs_payment_id: str, *, wait_seconds: float = 0.0) -> PayLink | None:
    """Record a succeeded link payment in Kill Bill exactly once; the PayLink after, None if none.

    A payment not succeeded (yet) records nothing. While another process records it, waits up to
    ``wait_seconds`` for it to finish, then raises RecordingInProgress.
    """
    payment = env.hyperswitch.payments.retrieve(hs_payment_id)
    link = pay_link_of_payment(env, payment)
    if link is None:
        return None
    if str(payment.status) != "succeeded" or link.kb_payment_id not in (None, CLAIM):
        return link
    deadline = time.monotonic() + wait_seconds
    while not _claim(env, link.id):
        current = get(env, link.id)
        assert current is not None
        if current.kb_payment_id != CLAIM:
            return current  # recorded meanwhile
        if time.monotonic() >= deadline:
            raise RecordingInProgress(f"payment {hs_payment_id} is being recorded by another process")
        time.sleep(0.05)
    try:
        saved_cards.register(env, link, payment)
        kb_payment_id = _record_in_killbill(env, link, payment)
        invoice = read_invoice(env, link)
        account = env.killbill.accounts.get(UUID(link.kb_account_id))
    except BaseException:
        _release(env, link.id)
        raise
    with session_scope(env.sessions) as session:
        row = session.get(PayLink, link.id, with_for_update=True)
        assert row is not None
        row.kb_payment_id = str(kb_payment_id)
        row.paid_at = env.now()
        row.state = PayLinkState.PAID
        row.hs_payment_id = row.hs_payment_id or hs_payment_id
        notices.stop_payment_requests(session, env, row.kb_invoice_id, f"invoice {row.kb_invoice_id} was paid by "
                                                                        f"link (Kill Bill payment {kb_payment_id})")
        notices.queue_receipt(session, env, invoice=invoice, account=account, pay_link_id=row.id,
                              kb_payment_id=kb_payment_id, amount_paid=_amount_paid(payment))
    log.info("pay link %s: Hyperswitch payment %s recorded as Kill Bill payment %s (invoice %s)", link.id,
             hs_payment_id, kb_payment_id, link.kb_invoice_id)
    return get(env, link.id)


def _claim(env: TenantEnv, link_id: int) -> bool:
    now = env.now()
    with session_scope(env.sessions) as session:
        claimed = session.execute(update(PayLink).where(
            PayLink.id == link_id, PayLink.kb_payment_id.is_(None)).values(kb_payment_id=CLAIM, paid_at=now))
        if claimed.rowcount == 1:
            return True
        # An abandoned claim (its process died) is taken over.
        stale = session.execute(update(PayLink).where(
            PayLink.id == link_id, PayLink.kb_payment_id == CLAIM,
            PayLink.paid_at < now - CLAIM_STALE_AFTER).values(paid_at=now))
        return stale.rowcount == 1


def _release(env: TenantEnv, link_id: int) -> None:
    with session_scope(env.sessions) as session:
        session.execute(update(PayLink).where(PayLink.id == link_id, PayLink.kb_payment_id == CLAIM)
                        .values(kb_payment_id=None, paid_at=None))


def _record_in_killbill(env: TenantEnv, link: PayLink, payment: Any) -> UUID:
    return pay_invoice_with(env, UUID(link.kb_invoice_id), UUID(link.kb_account_id), _amount_paid(payment),
                            payment.payment_id)


def pay_invoice_with(env: TenantEnv, invoice_id: UUID, account_id: UUID, amount: Decimal, hs_payment_id: str, *,
                     part_key: str | None = None) -> UUID:
    """Kill Bill's invoice payment carrying (part of) a succeeded Hyperswitch payment; its payment id.

    Whole: ``amount`` is all the payment received. A part (``part_key``, one invoice of a lump sum): the
    Kill Bill payment's external key, so a retry finds it — and Kill Bill itself refuses a second purchase on
    that key — and the plugin counts it against what the Hyperswitch payment received.
    """
    earlier = already_recorded(env, invoice_id, hs_payment_id, part_key)
    if earlier is not None:  # a recorder that died after Kill Bill answered
        return earlier
    method = plugin_payment_method(env, account_id)
    if method is not None:
        properties = {PROP_HS_PAYMENT_ID: hs_payment_id, **({PROP_HS_PAYMENT_PART: "true"} if part_key else {})}
        result = env.killbill.invoice_payments.pay_invoice(
            invoice_id, account_id, amount=amount, payment_method_id=method, payment_external_key=part_key,
            plugin_properties=properties, reason="pay-by-link", comment=f"Hyperswitch payment {hs_payment_id}")
    elif env.settings.pay_by_link.record_as_external_payment:
        result = env.killbill.invoice_payments.pay_invoice(
            invoice_id, account_id, amount=amount, external_payment=True,
            payment_external_key=part_key or hs_payment_id, reason="pay-by-link",
            comment=f"Hyperswitch payment {hs_payment_id} (external payment)")
    else:
        raise RecordingRefused(
            f"account {account_id} has no payment method of the bridge's plugin, and the tenant does not record "
            f"link payments as external payments: Hyperswitch payment {hs_payment_id} stays unrecorded")
    if result is None:
        raise RecordingRefused(f"Kill Bill had nothing to pay on invoice {invoice_id} for Hyperswitch payment "
                               f"{hs_payment_id} (paid otherwise?): the payor may need a refund")
    txn = (result.transactions or [None])[-1]
    status = str(txn.status) if txn is not None and txn.status is not None else None
    if status != "SUCCESS":
        detail = f"{txn.gateway_error_code}: {txn.gateway_error_msg}" if txn is not None else "no transaction"
        raise RecordingRefused(f"Kill Bill payment {result.payment_id} for Hyperswitch payment {hs_payment_id}"
                               f" is {status}: {detail}")
    assert result.payment_id is not None
    return result.payment_id


def _amount_paid(payment: Any) -> Decimal:
    return from_minor_units(payment.amount_received or payment.amount, payment.currency)


def already_recorded(env: TenantEnv, invoice_id: UUID, hs_payment_id: str,
                     part_key: str | None = None) -> UUID | None:
    """The Kill Bill payment of the invoice that carries this Hyperswitch payment, if one succeeded."""
    found = recorded_payment(env, invoice_id, hs_payment_id, part_key)
    return found.payment_id if found is not None else None


def recorded_payment(env: TenantEnv, invoice_id: UUID, hs_payment_id: str,
                     part_key: str | None = None) -> InvoicePayment | None:
    keys = {hs_payment_id, part_key} - {None}
    # Kill Bill shows a transaction's firstPaymentReferenceId (the plugin's) only with the plugin info.
    for kb_payment in env.killbill.invoice_payments.list_for_invoice(invoice_id, with_plugin_info=True):
        for txn in kb_payment.transactions or []:
            matches = txn.first_payment_reference_id == hs_payment_id or kb_payment.payment_external_key in keys
            if matches and str(txn.status) == "SUCCESS":
                return kb_payment
    return None


def plugin_payment_method(env: TenantEnv, kb_account_id: UUID) -> UUID | None:
    """A Kill Bill payment method of the bridge's plugin on the account: the default if it is one."""
    with session_scope(env.sessions) as session:
        rows = list(session.scalars(select(PaymentMethod).where(
            PaymentMethod.kb_tenant_id == env.tenant_id, PaymentMethod.kb_account_id == str(kb_account_id),
            PaymentMethod.state != PaymentMethodState.DELETED)))
    if not rows:
        return None
    try:
        default = env.killbill.accounts.get(kb_account_id).payment_method_id
    except kb.NotFoundError:
        return None
    ours = {row.kb_payment_method_id for row in rows}
    if default is not None and str(default) in ours:
        return default
    rows.sort(key=lambda r: (not r.is_default, r.state is not PaymentMethodState.ACTIVE, r.created_at))
    return UUID(rows[0].kb_payment_method_id)
