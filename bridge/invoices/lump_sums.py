"""Several invoices at once, and part payments: one Hyperswitch payment allocated to Kill Bill invoices.

* The account page (``/pay/account/<token>``, :func:`open_account_link`) lists every open invoice of a
  Kill Bill account, oldest first, with its balance and the total; the payor pays all of them, or the ones
  ticked, in one Hyperswitch payment (a :class:`~bridge.db.invoices.LumpSum`, one
  :class:`~bridge.db.invoices.Allocation` per invoice).
* Where the tenant allows it (``pay_by_link.part_payments`` and a minimum for the currency), the invoice
  page offers a part payment: a lump sum of one invoice for less than its balance. The rest stays open, so
  the invoice's pay link stays OPEN and its reminders keep going (they re-read the balance when they go out).
* Operators issue the account page link (:mod:`bridge.invoices.admin`) and may have it sent to the payor, as the
  notice "pay your open invoices"; its URL and list are made when it goes out (:func:`_account_notice`).
* A payment of several invoices gets one receipt listing them (:func:`_finish`); one of a single invoice, that
  invoice's own receipt.

Starting (:func:`start`) holds the account's row lock: an account has at most one live lump sum (a new
choice cancels the link nobody paid yet), and the single-invoice links of the chosen invoices are closed, so
one invoice is never offered by two payable links; a payment already under way refuses a new start.

Recording (:func:`record`) happens exactly once per lump sum, whoever asks first (the return page, the
webhook, a takeover after a crash): a claim on the row, then each allocation, oldest first, becomes its own
Kill Bill invoice payment through the plugin with ``hsPaymentId`` and ``hsPaymentPart`` (the plugin checks
the parts never exceed what Hyperswitch received). Each allocation is written as soon as Kill Bill answers,
and is re-checked in Kill Bill first (its payment external key ``<hs payment>:<invoice>``; Kill Bill
itself refuses a second purchase on that key), so a recorder that died half-way resumes without paying an
invoice twice. Balances are re-read at recording time: an invoice gets at most what it still owes.

**The excess.** What an invoice no longer owes (paid or voided meanwhile, e.g. through another tab or by
the biller) is refunded to the payor through Hyperswitch (one refund per lump sum, id derived from the
payment's, so a retry never refunds twice). It is not left as Kill Bill account credit: credit would hold
money Kill Bill never received through a payment, and the payor chose to pay these invoices, not to
pre-pay others.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bridge.channels import choice
from bridge.db.engine import session_scope
from bridge.db.invoices import (
    AccountPayLink,
    Allocation,
    LumpSum,
    LumpSumState,
    Message,
    PayLink,
)
from bridge.invoices import messages, notices, paylinks, tokens
from bridge.invoices.paylinks import NotPayable, RecordingInProgress
from bridge.payment_methods.customers import ensure_customer
from bridge.payments import ids
from bridge.tenancy.env import TenantEnv
from hyperswitch_client.money import (
    AmountPrecisionError,
    from_minor_units,
    to_minor_units,
)
from hyperswitch_client.payments import PaymentCreateParams, PaymentLinkConfig
from hyperswitch_client.refunds import RefundCreateParams
from killbill_client.models import Invoice

log = logging.getLogger(__name__)

EXCESS_REASON = "invoices paid meanwhile: the part they no longer owed"


class InvalidChoice(Exception):
    """What the payor sent cannot be paid as asked (no invoice ticked, an amount out of bounds): the message
    is for the payor."""


# -- the account page link ----------------------------------------------------------------------------------
def open_account_link(env: TenantEnv, kb_account_id: UUID | str) -> tuple[AccountPayLink, str]:
    """The account's page link (made on first call, its validity renewed once ended) and its URL."""
    with session_scope(env.sessions) as session:
        row = _account_row(session, env, str(kb_account_id))
        if row.expires_at <= env.now():
            row.expires_at = env.now() + timedelta(days=env.settings.pay_by_link.link_valid_days)
    return row, account_url(env, row)


def account_link(env: TenantEnv, account_link_id: int) -> AccountPayLink | None:
    with session_scope(env.sessions) as session:
        row = session.get(AccountPayLink, account_link_id)
        return row if row is not None and row.kb_tenant_id == env.tenant_id else None


def account_url(env: TenantEnv, row: AccountPayLink) -> str:
    token = tokens.signer_for(env).sign_account(env.tenant_id, row.id, row.expires_at)
    return f"{env.public_url.rstrip('/')}/pay/account/{token}"


def _account_notice(env: TenantEnv, message: Message, context: dict[str, Any]) -> dict[str, Any]:
    """When "pay your open invoices" goes out: its link (a bearer URL, made now, never stored), what is open
    now, and the account's current address; SkipMessage once the link has ended or nothing is open."""
    if message.kind != notices.ACCOUNT_PAY_LINK:
        return {}
    row = account_link(env, int(context["account_link_id"]))
    if row is None or row.expires_at <= env.now():
        raise messages.SkipMessage(f"the pay link of account {message.kb_account_id} has ended")
    invoices = open_invoices(env, row.kb_account_id)
    if not invoices:
        raise messages.SkipMessage(f"account {row.kb_account_id} has no open invoice any more")
    account = env.killbill.accounts.get(UUID(row.kb_account_id))
    return {**notices.open_invoices_context(env, account, invoices), "pay_url": account_url(env, row),
            messages.RECIPIENT: choice.address(message.channel, account)}


messages.register_context_resolver(_account_notice)


def _account_row(session: Session, env: TenantEnv, kb_account_id: str, *, lock: bool = False) -> AccountPayLink:
    """The account's row, made on first use; ``lock`` holds it until the transaction ends."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(AccountPayLink).values(
        kb_tenant_id=env.tenant_id, kb_account_id=kb_account_id, created_at=env.now(), updated_at=env.now(),
        expires_at=env.now() + timedelta(days=env.settings.pay_by_link.link_valid_days),
    ).on_conflict_do_nothing(index_elements=["kb_tenant_id", "kb_account_id"]))
    query = select(AccountPayLink).where(AccountPayLink.kb_tenant_id == env.tenant_id,
                                         AccountPayLink.kb_account_id == kb_account_id)
    return session.scalars(query.with_for_update() if lock else query).one()


# -- what is open ---------------------------------------------------------------------------------------------
def open_invoices(env: TenantEnv, kb_account_id: UUID | str) -> list[Invoice]:
    """The account's invoices with something to pay, oldest first (the order a total is allocated in)."""
    unpaid = env.killbill.invoices.list_for_account(UUID(str(kb_account_id)), unpaid_only=True)
    return sorted((i for i in unpaid if paylinks.invoice_state(i).payable), key=_age)


def _age(invoice: Invoice) -> tuple[Any, int]:
    number = invoice.invoice_number
    return invoice.invoice_date, int(number) if number and number.isdigit() else 0


@dataclass(frozen=True)
class Choice:
    """What the payor pays on one invoice (major units, the invoice's currency)."""

    invoice: Invoice
    amount: Decimal


def choose_invoices(env: TenantEnv, kb_account_id: UUID | str, invoice_ids: list[str]) -> list[Choice]:
    """The ticked invoices, each for its current balance; raises InvalidChoice or NotPayable (paid meanwhile)."""
    if not invoice_ids:
        raise InvalidChoice("Choose at least one invoice to pay.")
    if len(invoice_ids) > 200 or any(not _is_uuid(i) for i in invoice_ids):
        raise InvalidChoice("This choice of invoices is not valid. Please reload the page and try again.")
    payable = {str(i.invoice_id): i for i in open_invoices(env, kb_account_id)}
    chosen = set(invoice_ids)
    if not chosen & payable.keys():
        raise NotPayable("paid", "The invoices you chose are already paid: nothing is due on them.")
    missing = chosen - payable.keys()
    if missing:
        raise NotPayable("paid", "Some of the invoices you chose are already paid. Please check the list and "
                                 "choose again.")
    return [Choice(i, i.balance or Decimal(0)) for i in payable.values() if str(i.invoice_id) in chosen]


def _is_uuid(text: str) -> bool:
    try:
        UUID(text)
    except (ValueError, TypeError, AttributeError):
        return False
    return True


def part_minimum(env: TenantEnv, currency: str) -> Decimal | None:
    """The smallest part payment in this currency; None when the tenant takes no part payments in it."""
    policy = env.settings.pay_by_link
    return policy.part_payment_minimum.get(currency) if policy.part_payments else None


def choose_part(env: TenantEnv, invoice: Invoice, typed: str | None) -> Choice:
    """Part of one invoice's balance as typed by the payor; raises InvalidChoice with what is allowed."""
    state = paylinks.invoice_state(invoice)
    if not state.payable:
        raise NotPayable(state.state.value, f"This invoice is {state.state.value}: nothing is due on it.")
    minimum = part_minimum(env, state.currency)
    if minimum is None:
        raise InvalidChoice("Part payments are not offered for this invoice.")
    try:
        amount = Decimal((typed or "").strip().replace(",", ""))
        to_minor_units(amount, state.currency)
    except (InvalidOperation, AmountPrecisionError, ValueError):
        raise InvalidChoice(f"Enter an amount in {state.currency}, such as {minimum}.") from None
    if not amount.is_finite() or amount < min(minimum, state.balance):
        raise InvalidChoice(f"The smallest part payment is {min(minimum, state.balance)} {state.currency}.")
    if amount > state.balance:
        raise InvalidChoice(f"You can pay at most the amount due, {state.balance} {state.currency}.")
    return Choice(invoice, amount)


# -- Pay now --------------------------------------------------------------------------------------------------
def start(env: TenantEnv, kb_account_id: UUID | str, choices: list[Choice], *, part: bool, return_url: str) -> str:
    """The Hyperswitch payment link for these choices (made, or reused while the same choice is live)."""
    account_id = str(kb_account_id)
    currencies = {c.invoice.currency for c in choices}
    if len(currencies) != 1 or None in currencies:
        raise InvalidChoice("Invoices in different currencies cannot be paid together.")
    currency = str(currencies.pop())
    wanted = {str(c.invoice.invoice_id): to_minor_units(c.amount, currency) for c in choices}
    _record_paid(env, account_id)  # a paid lump sum not recorded yet changes what is open: settle it first
    customer_id = ensure_customer(env, account_id)  # writes its own rows: before the lock
    with session_scope(env.sessions) as session:
        _account_row(session, env, account_id, lock=True)  # concurrent starts of this account wait here
        reusable = _settle_live(env, session, account_id, wanted)
        if reusable is not None:
            return reusable.hs_link_url
        _close_single_links(env, session, wanted)
        key = uuid.uuid4()
        payment = env.hyperswitch.payments.create(PaymentCreateParams(
            payment_id=ids.derive(ids.IdKind.LINK, key), amount=sum(wanted.values()), currency=currency,
            confirm=False, payment_link=True, customer_id=customer_id, return_url=return_url,
            description=_description(choices, part), session_expiry=paylinks.HS_LINK_SECONDS,
            metadata={"kb_tenant_id": env.tenant_id, "kb_account_id": account_id, "kb_lump_sum": "true"},
            payment_link_config=PaymentLinkConfig(seller_name=(env.settings.email.brand_name or "")[:255] or None)))
        assert payment.payment_link is not None, "Hyperswitch answered a payment link create without a link"
        lump = LumpSum(kb_tenant_id=env.tenant_id, kb_account_id=account_id, part=part, state=LumpSumState.OPEN,
                       hs_payment_id=payment.payment_id, hs_link_url=payment.payment_link.link,
                       hs_link_expires_at=payment.expires_on or env.now() + timedelta(
                           seconds=paylinks.HS_LINK_SECONDS),
                       amount_minor=sum(wanted.values()), currency=currency)
        session.add(lump)
        session.flush()
        for position, (invoice_id, minor) in enumerate(wanted.items()):
            session.add(Allocation(lump_sum_id=lump.id, kb_tenant_id=env.tenant_id, kb_invoice_id=invoice_id,
                                   position=position, amount_minor=minor))
        log.info("account %s: lump sum %s, Hyperswitch payment link %s for %s %s over %s invoice(s)%s", account_id,
                 lump.id, payment.payment_id, lump.amount_minor, currency, len(wanted), " (part)" if part else "")
        return payment.payment_link.link


def _description(choices: list[Choice], part: bool) -> str:
    numbers = ", ".join(str(c.invoice.invoice_number) for c in choices if c.invoice.invoice_number)
    prefix = "Part payment of invoice" if part else "Invoice" if len(choices) == 1 else "Invoices"
    return f"{prefix} {numbers}"[:255] if numbers else prefix


def _live(session: Session, env: TenantEnv, account_id: str) -> list[LumpSum]:
    return list(session.scalars(select(LumpSum).where(
        LumpSum.kb_tenant_id == env.tenant_id, LumpSum.kb_account_id == account_id,
        LumpSum.state == LumpSumState.OPEN).order_by(LumpSum.id)))


def _settle_live(env: TenantEnv, session: Session, account_id: str, wanted: dict[str, int]) -> LumpSum | None:
    """The live lump sum to offer again for exactly this choice; the others are cancelled. Raises
    NotPayable while one is being paid."""
    reusable = None
    for lump in _live(session, env, account_id):
        status = str(env.hyperswitch.payments.retrieve(lump.hs_payment_id).status)
        if status == "succeeded" or status in paylinks.IN_PROGRESS:
            raise NotPayable("processing", "A payment of these invoices is already under way.")
        same = {a.kb_invoice_id: a.amount_minor for a in _allocations(session, lump.id)} == wanted
        fresh = paylinks.utc(lump.hs_link_expires_at) > env.now() + paylinks.REUSE_MARGIN
        if status == "requires_payment_method" and same and fresh and reusable is None:
            reusable = lump
            continue
        if status == "requires_payment_method":
            paylinks.cancel(env, lump.hs_payment_id, "replaced by the payor's new choice of invoices")
        lump.state = LumpSumState.CANCELLED
    return reusable


def _close_single_links(env: TenantEnv, session: Session, wanted: dict[str, int]) -> None:
    """The chosen invoices' own links must not be payable beside the lump sum."""
    links = session.scalars(select(PayLink).where(
        PayLink.kb_tenant_id == env.tenant_id, PayLink.kb_invoice_id.in_(wanted), PayLink.hs_payment_id.is_not(None),
        PayLink.kb_payment_id.is_(None)))
    for link in links:
        assert link.hs_payment_id is not None
        status = str(env.hyperswitch.payments.retrieve(link.hs_payment_id).status)
        if status == "succeeded" or status in paylinks.IN_PROGRESS:
            raise NotPayable("processing", "A payment of one of these invoices is already under way.")
        if status == "requires_payment_method":
            paylinks.cancel(env, link.hs_payment_id, "the invoice is paid together with others")


def guard_single_link(env: TenantEnv, session: Session, link: PayLink) -> None:
    """Before an invoice's own link is offered (inside that start's transaction): take the account's lock,
    refuse while a lump sum covering the invoice is being paid, cancel one nobody paid yet."""
    _account_row(session, env, link.kb_account_id, lock=True)
    for lump in _live(session, env, link.kb_account_id):
        if link.kb_invoice_id not in {a.kb_invoice_id for a in _allocations(session, lump.id)}:
            continue
        status = str(env.hyperswitch.payments.retrieve(lump.hs_payment_id).status)
        if status == "succeeded" or status in paylinks.IN_PROGRESS:
            raise NotPayable("processing", "a payment of this invoice is already under way")
        if status == "requires_payment_method":
            paylinks.cancel(env, lump.hs_payment_id, f"invoice {link.kb_invoice_id} is paid on its own")
        lump.state = LumpSumState.CANCELLED


def _allocations(session: Session, lump_sum_id: int) -> list[Allocation]:
    return list(session.scalars(select(Allocation).where(Allocation.lump_sum_id == lump_sum_id)
                                .order_by(Allocation.position)))


def _record_paid(env: TenantEnv, account_id: str) -> None:
    with session_scope(env.sessions) as session:
        live = [lump.hs_payment_id for lump in _live(session, env, account_id)]
    for hs_payment_id in live:
        try:
            record(env, hs_payment_id, wait_seconds=5.0)
        except (RecordingInProgress, paylinks.RecordingRefused) as exc:
            raise NotPayable("processing", "A payment of these invoices has been received and is being "
                                           "recorded.") from exc


# -- recording ------------------------------------------------------------------------------------------------
def find(env: TenantEnv, hs_payment_id: str) -> LumpSum | None:
    with session_scope(env.sessions) as session:
        return session.scalars(select(LumpSum).where(LumpSum.kb_tenant_id == env.tenant_id,
                                                     LumpSum.hs_payment_id == hs_payment_id)).one_or_none()


def get(env: TenantEnv, lump_sum_id: int) -> LumpSum | None:
    with session_scope(env.sessions) as session:
        lump = session.get(LumpSum, lump_sum_id)
        return lump if lump is not None and lump.kb_tenant_id == env.tenant_id else None


def allocations(env: TenantEnv, lump_sum_id: int) -> list[Allocation]:
    with session_scope(env.sessions) as session:
        return _allocations(session, lump_sum_id)


def part_key(hs_payment_id: str, kb_invoice_id: str) -> str:
    """The Kill Bill payment external key of one allocation."""
    return f"{hs_payment_id}:{kb_invoice_id}"


def record(env: TenantEnv, hs_payment_id: str, *, wait_seconds: float = 0.0) -> LumpSum | None:
    """Record a succeeded lump sum in Kill Bill exactly once; the lump sum after, None if it is not one.

    A payment not succeeded records nothing (a failed or expired one is cancelled). While another process
    records it, waits up to ``wait_seconds``, then raises RecordingInProgress.
    """
    lump = find(env, hs_payment_id)
    if lump is None or lump.state is not LumpSumState.OPEN:
        return lump
    payment = env.hyperswitch.payments.retrieve(hs_payment_id)
    status = str(payment.status)
    if status in {"failed", "cancelled", "expired"}:
        _close(env, lump.id, LumpSumState.CANCELLED)
        return get(env, lump.id)
    if status != "succeeded":
        return lump
    deadline = time.monotonic() + wait_seconds
    while not _claim(env, lump.id):
        current = get(env, lump.id)
        assert current is not None
        if current.state is not LumpSumState.OPEN:
            return current  # recorded meanwhile
        if time.monotonic() >= deadline:
            raise RecordingInProgress(f"payment {hs_payment_id} is being recorded by another process")
        time.sleep(0.05)
    try:
        excess = _allocate(env, lump, payment)
        refund_id = _refund_excess(env, lump, payment, excess)
    except BaseException:
        _release(env, lump.id)
        raise
    _finish(env, lump, excess, refund_id)
    return get(env, lump.id)


def _allocate(env: TenantEnv, lump: LumpSum, payment: Any) -> int:
    """Pay each allocation not settled yet, oldest first, within what Hyperswitch received; what is left."""
    account_id = UUID(lump.kb_account_id)
    remaining = (payment.amount_received or payment.amount) - sum(
        a.recorded_minor or 0 for a in allocations(env, lump.id))
    for allocation in allocations(env, lump.id):
        if allocation.recorded_minor is not None:
            continue
        invoice_id, key = UUID(allocation.kb_invoice_id), part_key(lump.hs_payment_id, allocation.kb_invoice_id)
        earlier = paylinks.recorded_payment(env, invoice_id, lump.hs_payment_id, key)
        if earlier is not None:  # a recorder that died after Kill Bill answered
            minor, kb_payment_id = to_minor_units(earlier.purchased_amount or Decimal(0), lump.currency), \
                earlier.payment_id
        else:
            now = paylinks.invoice_state(env.killbill.invoices.get(invoice_id))
            owed = to_minor_units(now.balance, lump.currency) if now.payable else 0
            minor, kb_payment_id = min(remaining, allocation.amount_minor, owed), None
            if minor > 0:
                kb_payment_id = paylinks.pay_invoice_with(env, invoice_id, account_id,
                                                          from_minor_units(minor, lump.currency),
                                                          lump.hs_payment_id, part_key=key)
        _settle_allocation(env, allocation.id, minor, kb_payment_id)
        remaining -= minor
        log.info("lump sum %s: invoice %s %s", lump.id, invoice_id,
                 f"paid {minor} {lump.currency} (Kill Bill payment {kb_payment_id})" if minor
                 else "owed nothing any more")
    return remaining


def _settle_allocation(env: TenantEnv, allocation_id: int, minor: int, kb_payment_id: UUID | None) -> None:
    with session_scope(env.sessions) as session:
        session.execute(update(Allocation).where(Allocation.id == allocation_id).values(
            recorded_minor=minor, kb_payment_id=str(kb_payment_id) if kb_payment_id else None))


def _refund_excess(env: TenantEnv, lump: LumpSum, payment: Any, excess: int) -> str | None:
    if excess <= 0:
        return None
    parsed = ids.parse(lump.hs_payment_id)
    assert parsed is not None, "a lump sum's payment id is one the bridge derived"
    refund_id = ids.derive(ids.IdKind.REFUND, parsed[1])  # the same on every retry: refunded once
    refund = env.hyperswitch.refunds.create(RefundCreateParams(
        payment_id=lump.hs_payment_id, refund_id=refund_id, amount=excess, reason=EXCESS_REASON,
        metadata={"kb_tenant_id": env.tenant_id, "kb_account_id": lump.kb_account_id}))
    level = logging.ERROR if str(refund.status) == "failed" else logging.INFO
    log.log(level, "lump sum %s: %s %s no invoice owed any more, refund %s is %s", lump.id, excess, lump.currency,
            refund_id, refund.status)
    return refund_id


def _finish(env: TenantEnv, lump: LumpSum, excess: int, refund_id: str | None) -> None:
    """Mark the lump sum recorded, then bring the paid invoices' own links up to date (a paid one stops its
    reminders; a part payment leaves it open) and queue the payor's receipt: one listing every invoice when the
    payor chose several, else the invoice's own (as for a payment through its pay link)."""
    with session_scope(env.sessions) as session:
        row = session.get(LumpSum, lump.id, with_for_update=True)
        assert row is not None
        row.state, row.recorded_at, row.recording_since = LumpSumState.RECORDED, env.now(), None
        row.excess_minor, row.hs_refund_id = excess, refund_id
    account = env.killbill.accounts.get(UUID(lump.kb_account_id))
    chosen = allocations(env, lump.id)
    paid: list[tuple[Allocation, Invoice, PayLink | None]] = []
    for allocation in chosen:
        if not allocation.kb_payment_id:
            continue
        invoice = env.killbill.invoices.get(UUID(allocation.kb_invoice_id))
        link = paylinks.find_for_invoice(env, allocation.kb_invoice_id)
        if link is not None:
            link, _now = paylinks.refresh(env, link, invoice)
        paid.append((allocation, invoice, link))
    with session_scope(env.sessions) as session:
        if len(chosen) > 1 and paid:
            notices.queue_lump_sum_receipt(
                session, env, account=account, hs_payment_id=lump.hs_payment_id, currency=lump.currency,
                parts=[notices.Paid(invoice, from_minor_units(a.recorded_minor or 0, lump.currency))
                       for a, invoice, _link in paid],
                refunded=from_minor_units(excess, lump.currency) if excess > 0 else None)
            return
        for allocation, invoice, link in paid:
            if link is not None:
                notices.queue_receipt(session, env, invoice=invoice, account=account, pay_link_id=link.id,
                                      kb_payment_id=allocation.kb_payment_id,
                                      amount_paid=from_minor_units(allocation.recorded_minor or 0, lump.currency))


def one_receipt(env: TenantEnv, payment_external_key: str | None) -> LumpSum | None:
    """The lump sum over several invoices that this Kill Bill payment is part of (its external key is the
    allocation's :func:`part_key`): that lump sum's one receipt lists it, so it gets none of its own."""
    hs_payment_id, _, kb_invoice_id = (payment_external_key or "").partition(":")
    lump = find(env, hs_payment_id) if kb_invoice_id else None
    return lump if lump is not None and len(allocations(env, lump.id)) > 1 else None


def _claim(env: TenantEnv, lump_sum_id: int) -> bool:
    now = env.now()
    with session_scope(env.sessions) as session:
        claimed = session.execute(update(LumpSum).where(
            LumpSum.id == lump_sum_id, LumpSum.state == LumpSumState.OPEN,
            (LumpSum.recording_since.is_(None)) | (LumpSum.recording_since < now - paylinks.CLAIM_STALE_AFTER),
        ).values(recording_since=now))
        return claimed.rowcount == 1


def _release(env: TenantEnv, lump_sum_id: int) -> None:
    with session_scope(env.sessions) as session:
        session.execute(update(LumpSum).where(LumpSum.id == lump_sum_id, LumpSum.state == LumpSumState.OPEN)
                        .values(recording_since=None))


def _close(env: TenantEnv, lump_sum_id: int, state: LumpSumState) -> None:
    with session_scope(env.sessions) as session:
        session.execute(update(LumpSum).where(LumpSum.id == lump_sum_id, LumpSum.state == LumpSumState.OPEN)
                        .values(state=state))


def latest(env: TenantEnv, kb_account_id: str, *, kb_invoice_id: str | None = None) -> LumpSum | None:
    """The account's newest lump sum (covering this invoice, when given): the one a return page is about."""
    query = select(LumpSum).where(LumpSum.kb_tenant_id == env.tenant_id, LumpSum.kb_account_id == kb_account_id)
    if kb_invoice_id is not None:
        query = query.where(LumpSum.id.in_(select(Allocation.lump_sum_id).where(
            Allocation.kb_tenant_id == env.tenant_id, Allocation.kb_invoice_id == kb_invoice_id)))
    with session_scope(env.sessions) as session:
        return session.scalars(query.order_by(LumpSum.id.desc()).limit(1)).one_or_none()
