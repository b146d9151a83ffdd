"""Disputes become Kill Bill chargebacks: lost (or accepted) → chargebacks, won after it → their reversals.

Chargebacks never call the plugin; Kill Bill records them as given. The invoice-aware endpoints are
used for invoice payments, so the invoice balance reopens (and closes again on reversal).

**Parts.** One Hyperswitch payment can be carried by several Kill Bill payments: a lump sum pays each of
its invoices with a Kill Bill payment of its own (``hsPaymentPart``, :mod:`bridge.invoices.lump_sums`).
Kill Bill refuses a chargeback above what a payment still holds, so the disputed amount is split over
the parts in the order they were recorded (a lump sum's oldest invoice first): each part takes at most
what it received less what was refunded or charged back on it already, and a partial dispute fills the
first parts. The split is computed once and stored (:class:`~bridge.db.webhooks.DisputePart`) before any
chargeback, so a retry charges back exactly the same shares. What no part holds any more (e.g. refunded to
the payor) is not charged back; the outcome says how much.

**Exactly once.** One run at a time applies a dispute (a claim on its row, :func:`_claim`): two events
about it processed side by side would both find no chargeback in Kill Bill and both record one, as Kill
Bill does not refuse a second chargeback under the same external key. The other run retries later and
finds the work done. Each chargeback's transaction external key derives from the dispute: ``hs-dispute-<id>``
when the payment has one part (as before parts existed), ``hs-dispute-<id>:<Kill Bill payment id>`` for
each part otherwise.
Before recording a part's chargeback the bridge looks for its key in Kill Bill, so a job that died after
Kill Bill answered, or between two parts, finds what it recorded and never adds a second one. A won dispute
reverses each part's chargeback the same way (a reversal is a failed CHARGEBACK with the same key).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from sqlalchemy import select, update

import hyperswitch_client as hs
from bridge.db.engine import session_scope
from bridge.db.payments import Transaction
from bridge.db.webhooks import Dispute, DisputePart
from bridge.invoices import lump_sums
from bridge.jobs import RetryLater
from bridge.payments.status import PluginStatus, TransactionType
from bridge.tenancy.env import TenantEnv
from bridge.webhooks.inbox import EventResult
from killbill_client.models import Payment as KbPayment

log = logging.getLogger(__name__)

MONEY_LOST = frozenset({"dispute_lost", "dispute_accepted"})
MONEY_KEPT = frozenset({"dispute_won"})
# How long a run may hold a dispute: a few Kill Bill calls per part, with their retries.
CLAIM_SECONDS = timedelta(minutes=5)


@dataclass(frozen=True)
class Carrier:
    """A Kill Bill payment carrying (part of) a Hyperswitch payment."""

    kb_payment_id: str
    kb_invoice_id: str | None


def chargeback_key(hs_dispute_id: str, kb_payment_id: str | None = None) -> str:
    """The chargeback's transaction external key: the dispute's alone when the payment has one part."""
    base = f"hs-dispute-{hs_dispute_id}"
    return base if kb_payment_id is None else f"{base}:{kb_payment_id}"


def apply_dispute(env: TenantEnv, hs_dispute_id: str) -> EventResult:
    try:
        dispute = env.hyperswitch.disputes.retrieve(hs_dispute_id)
    except hs.NotFoundError:
        return EventResult.skipped(f"Hyperswitch has no dispute {hs_dispute_id}")
    carriers = _carriers(env, dispute.payment_id)
    if not carriers:
        return EventResult.skipped(f"dispute {hs_dispute_id} is on payment {dispute.payment_id}, "
                                   "which carries no Kill Bill payment")
    _record(env, dispute, carriers[0])
    claim = _claim(env, hs_dispute_id)
    if claim is None:
        raise RetryLater(f"dispute {hs_dispute_id} is being applied to Kill Bill by another run")
    try:
        return _apply(env, dispute, carriers)
    finally:
        _release(env, hs_dispute_id, claim)


def _apply(env: TenantEnv, dispute: hs.disputes.Dispute, carriers: list[Carrier]) -> EventResult:
    """Under the claim: what Kill Bill lacks of the dispute's current status, recorded."""
    row = _current(env, dispute.dispute_id)
    status = str(dispute.dispute_status)
    if status in MONEY_LOST and not row.chargeback_recorded:
        return _charge_back(env, dispute, carriers)
    if status in MONEY_KEPT and not row.chargeback_reversed:
        reversed_on = _reverse_parts(env, dispute.dispute_id)
        if reversed_on:
            return EventResult.processed(f"{status}: chargeback reversed on Kill Bill payment(s) "
                                         f"{', '.join(reversed_on)}")
    return EventResult.processed(f"dispute {dispute.dispute_id} is {status}; Kill Bill already agrees")


# -- one run at a time per dispute ------------------------------------------------------------------------------
def _claim(env: TenantEnv, hs_dispute_id: str) -> datetime | None:
    """Take the dispute for this run, unless another run holds it (its claim not expired): the claim's
    expiry, which also tells this run's claim from a later one, or None."""
    now = env.now()
    until = now + CLAIM_SECONDS
    with session_scope(env.sessions) as session:
        taken = session.execute(update(Dispute).where(
            Dispute.kb_tenant_id == env.tenant_id, Dispute.hs_dispute_id == hs_dispute_id,
            (Dispute.applying_until.is_(None)) | (Dispute.applying_until < now),
        ).values(applying_until=until))
        return until if taken.rowcount == 1 else None


def _release(env: TenantEnv, hs_dispute_id: str, claim: datetime) -> None:
    """Give the claim back, unless it expired and another run has taken the dispute since."""
    with session_scope(env.sessions) as session:
        session.execute(update(Dispute).where(
            Dispute.kb_tenant_id == env.tenant_id, Dispute.hs_dispute_id == hs_dispute_id,
            Dispute.applying_until == claim).values(applying_until=None))


def _current(env: TenantEnv, hs_dispute_id: str) -> Dispute:
    with session_scope(env.sessions) as session:
        row = session.get(Dispute, (env.tenant_id, hs_dispute_id))
        assert row is not None
        return row


# -- which Kill Bill payments carry the disputed payment ------------------------------------------------------
def _carriers(env: TenantEnv, hs_payment_id: str) -> list[Carrier]:
    """The Kill Bill payments carrying this Hyperswitch payment, in the order they were recorded: a lump
    sum's recorded allocations (oldest invoice first; also those recorded as external payments), then the
    bridge's own successful purchases and captures of it."""
    with session_scope(env.sessions) as session:
        charged = session.execute(select(Transaction.kb_payment_id, Transaction.kb_invoice_id).where(
            Transaction.kb_tenant_id == env.tenant_id, Transaction.hs_payment_id == hs_payment_id,
            Transaction.transaction_type.in_((TransactionType.PURCHASE, TransactionType.CAPTURE)),
            Transaction.status == PluginStatus.PROCESSED).order_by(Transaction.id)).all()
    found = [Carrier(kb_payment_id, kb_invoice_id) for kb_payment_id, kb_invoice_id in charged]
    lump = lump_sums.find(env, hs_payment_id)
    if lump is not None:
        found[:0] = [Carrier(a.kb_payment_id, a.kb_invoice_id) for a in lump_sums.allocations(env, lump.id)
                     if a.kb_payment_id]
    firsts: dict[str, Carrier] = {}
    for carrier in found:  # a payment's captures, or an allocation and its purchase, are one carrier
        firsts.setdefault(carrier.kb_payment_id, carrier)
    return list(firsts.values())


def _record(env: TenantEnv, dispute: hs.disputes.Dispute, first: Carrier) -> Dispute:
    with session_scope(env.sessions) as session:
        row = session.get(Dispute, (env.tenant_id, dispute.dispute_id), with_for_update=True)
        if row is None:
            row = Dispute(kb_tenant_id=env.tenant_id, hs_dispute_id=dispute.dispute_id,
                          hs_payment_id=dispute.payment_id, kb_payment_id=first.kb_payment_id,
                          hs_status=str(dispute.dispute_status), amount_minor=dispute.amount_minor,
                          currency=dispute.currency, created_at=env.now(), updated_at=env.now())
            session.add(row)
        row.hs_status, row.updated_at = str(dispute.dispute_status), env.now()
        return row


# -- the split ------------------------------------------------------------------------------------------------
def _parts(env: TenantEnv, hs_dispute_id: str) -> list[DisputePart]:
    with session_scope(env.sessions) as session:
        return list(session.scalars(select(DisputePart).where(
            DisputePart.kb_tenant_id == env.tenant_id, DisputePart.hs_dispute_id == hs_dispute_id)
            .order_by(DisputePart.position)))


def _split_once(env: TenantEnv, dispute: hs.disputes.Dispute, carriers: list[Carrier]) -> list[DisputePart]:
    """The dispute's parts: the split stored by an earlier run, else a new one, stored before any chargeback."""
    stored = _parts(env, dispute.dispute_id)
    if stored:
        return stored
    split = _split(env, dispute, carriers)
    with session_scope(env.sessions) as session:
        # A concurrent run splitting the same dispute waits on this lock, then keeps the first split.
        session.get(Dispute, (env.tenant_id, dispute.dispute_id), with_for_update=True)
        if session.scalars(select(DisputePart.position).where(
                DisputePart.kb_tenant_id == env.tenant_id, DisputePart.hs_dispute_id == dispute.dispute_id)).first() \
                is None:
            session.add_all(split)
    return _parts(env, dispute.dispute_id)


def _split(env: TenantEnv, dispute: hs.disputes.Dispute, carriers: list[Carrier]) -> list[DisputePart]:
    """The disputed amount over the carriers in order, each within what it still holds in Kill Bill."""
    single, left, parts = len(carriers) == 1, dispute.amount_minor, []
    for carrier in carriers:
        if left <= 0:
            break
        key = chargeback_key(dispute.dispute_id, None if single else carrier.kb_payment_id)
        share = min(left, _holds(env.killbill.payments.get(UUID(carrier.kb_payment_id)), key, dispute.currency))
        if share <= 0:
            continue
        parts.append(DisputePart(kb_tenant_id=env.tenant_id, hs_dispute_id=dispute.dispute_id, position=len(parts),
                                 kb_payment_id=carrier.kb_payment_id, kb_invoice_id=carrier.kb_invoice_id,
                                 amount_minor=share, chargeback_key=key, created_at=env.now(), updated_at=env.now()))
        left -= share
    return parts


def _holds(payment: KbPayment, own_key: str, currency: str) -> int:
    """Minor units a Kill Bill payment still holds, as Kill Bill counts before a chargeback: what it
    received, less its refunds and its live chargebacks. This dispute's own chargeback (a run that died
    before storing its split) is not deducted, so the split comes out the same."""
    txns = payment.transactions or []
    reversed_keys = {t.transaction_external_key for t in txns
                     if str(t.transaction_type) == "CHARGEBACK" and str(t.status) == "PAYMENT_FAILURE"}

    def total(kinds: set[str], skip: set[str | None] | None = None) -> Decimal:
        return sum((t.processed_amount or Decimal(0) for t in txns if str(t.status) == "SUCCESS"
                    and str(t.transaction_type) in kinds and t.transaction_external_key not in (skip or set())),
                   Decimal(0))

    held = total({"PURCHASE", "CAPTURE"}) - total({"REFUND"}) - total({"CHARGEBACK"}, reversed_keys | {own_key})
    return max(hs.to_minor_units(held, currency), 0)


# -- lost: chargebacks; won: their reversals ------------------------------------------------------------------
def _charge_back(env: TenantEnv, dispute: hs.disputes.Dispute, carriers: list[Carrier]) -> EventResult:
    parts = _split_once(env, dispute, carriers)
    for part in parts:
        if part.chargeback_recorded:
            continue
        if not _chargeback_statuses(env, part.kb_payment_id, part.chargeback_key):
            _chargeback(env, part, dispute.currency)
        _mark_part(env, part, chargeback_recorded=True)
    _mark(env, dispute.dispute_id, chargeback_recorded=True)
    currency = dispute.currency
    charged = ", ".join(f"{hs.from_minor_units(p.amount_minor, currency)} {currency} on Kill Bill payment "
                        f"{p.kb_payment_id}" for p in parts)
    outcome = f"{dispute.dispute_status}: chargeback of {charged or 'nothing'}"
    unheld = dispute.amount_minor - sum(p.amount_minor for p in parts)
    if unheld:
        outcome += (f"; {hs.from_minor_units(unheld, currency)} {currency} of it is held by no Kill Bill payment any "
                    "more (refunded?), not charged back")
        log.warning("dispute %s: %s", dispute.dispute_id, outcome)
    return EventResult.processed(outcome)


def _reverse_parts(env: TenantEnv, hs_dispute_id: str) -> list[str]:
    """Reverse each part's chargeback found in Kill Bill (even one a dying lost run left unmarked); the
    Kill Bill payments reversed on, empty when nothing had been charged back."""
    reversed_on = []
    for part in _parts(env, hs_dispute_id):
        if not part.chargeback_reversed:
            statuses = _chargeback_statuses(env, part.kb_payment_id, part.chargeback_key)
            if not statuses:
                continue  # never charged back: nothing to reverse
            if "PAYMENT_FAILURE" not in statuses:
                _reverse(env, part)
            _mark_part(env, part, chargeback_recorded=True, chargeback_reversed=True)
        reversed_on.append(part.kb_payment_id)
    if reversed_on:
        _mark(env, hs_dispute_id, chargeback_recorded=True, chargeback_reversed=True)
    return reversed_on


def _chargeback_statuses(env: TenantEnv, kb_payment_id: str, key: str) -> list[str]:
    """Statuses of Kill Bill's CHARGEBACK transactions with this key: a reversal leaves a failed one."""
    payment = env.killbill.payments.get(UUID(kb_payment_id))
    return [str(txn.status) for txn in payment.transactions or []
            if txn.transaction_external_key == key and str(txn.transaction_type) == "CHARGEBACK"]


def _chargeback(env: TenantEnv, part: DisputePart, currency: str) -> None:
    amount = hs.from_minor_units(part.amount_minor, currency)
    payment_id = UUID(part.kb_payment_id)
    if part.kb_invoice_id:
        env.killbill.invoice_payments.chargeback(payment_id, amount, currency=currency,
                                                 transaction_external_key=part.chargeback_key,
                                                 reason="hyperswitch dispute lost")
    else:
        env.killbill.payments.chargeback(payment_id, amount, currency=currency,
                                         transaction_external_key=part.chargeback_key, reason="hyperswitch dispute lost")
    log.info("chargeback of %s %s recorded on Kill Bill payment %s (dispute %s)", amount, currency,
             part.kb_payment_id, part.hs_dispute_id)


def _reverse(env: TenantEnv, part: DisputePart) -> None:
    payment_id = UUID(part.kb_payment_id)
    if part.kb_invoice_id:
        env.killbill.invoice_payments.chargeback_reversal(payment_id, part.chargeback_key,
                                                          reason="hyperswitch dispute won")
    else:
        env.killbill.payments.chargeback_reversal(payment_id, part.chargeback_key, reason="hyperswitch dispute won")
    log.info("chargeback %s reversed on Kill Bill payment %s", part.chargeback_key, part.kb_payment_id)


def _mark_part(env: TenantEnv, part: DisputePart, **flags: bool) -> None:
    with session_scope(env.sessions) as session:
        session.execute(update(DisputePart).where(
            DisputePart.kb_tenant_id == part.kb_tenant_id, DisputePart.hs_dispute_id == part.hs_dispute_id,
            DisputePart.position == part.position).values(updated_at=env.now(), **flags))


def _mark(env: TenantEnv, hs_dispute_id: str, **flags: bool) -> None:
    with session_scope(env.sessions) as session:
        row = session.get(Dispute, (env.tenant_id, hs_dispute_id))
        for name, value in flags.items():
            setattr(row, name, value)
