"""Payment reminders: each tenant's schedule of emails about an unpaid invoice, and payors' opt-outs.

When the bridge first asks a payor to pay an invoice (the ``pay_link`` or ``payment_failed`` email), it
queues the invoice's reminders in the same transaction, each a message whose send job runs at its own
time: ``reminders.days_after_invoice`` days after the invoice date and ``reminders.days_before_due`` days
before its due date (:func:`bridge.invoices.policy.due_date`), at ``reminders.send_hour`` in the
account's time zone. Reminders falling on the same day are one; they are numbered in date order over the
whole schedule, so the n-th reminder of an invoice keeps its number (and its send key
``<invoice>:reminder:<n>``) however often the schedule is made. Only times still ahead, and before the
pay link expires, are queued. The queue's ``run_at`` follows the runtime clock, so tests move time.

Before a reminder goes out, :mod:`bridge.invoices.resolvers` re-reads the invoice from Kill Bill: paid,
voided or adjusted to zero → the reminder is SKIPPED with the reason and the rest of the schedule stopped.

Payors can opt out (List-Unsubscribe, one click per RFC 8058: :mod:`bridge.invoices.unsubscribe`). The
opt-out is kept per Kill Bill account; recording it skips the account's pending reminders, later
schedules queue none, and every reminder checks it again just before sending. Other emails (the invoice
itself, a failed payment, receipts) are transactional and still go out. Operators can see it and undo it
(:func:`opt_out_of`, :func:`resubscribe`: the admin API and ``bridge reminders``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bridge.db.engine import session_scope
from bridge.db.invoices import Message, PayLink, ReminderOptOut
from bridge.invoices import messages, notices
from bridge.tenancy.env import TenantEnv
from bridge.tenancy.schemas import ReminderSettings
from killbill_client.models import Account, Invoice

log = logging.getLogger(__name__)

UNSUBSCRIBED = "the payor unsubscribed from payment reminders"


@dataclass(frozen=True)
class Slot:
    """One reminder of an invoice's schedule."""

    number: int
    day: date
    at: datetime  # UTC


def account_zone(account: Account) -> ZoneInfo:
    """The account's time zone (Kill Bill keeps an IANA id, ``UTC`` by default); UTC when unknown."""
    try:
        return ZoneInfo(account.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def slots(settings: ReminderSettings, invoice_date: date, due: date | None, zone: ZoneInfo) -> list[Slot]:
    """The whole schedule of an invoice, numbered from 1 in date order (past times included)."""
    days = {invoice_date + timedelta(days=n) for n in settings.days_after_invoice}
    if due is not None:
        days |= {due - timedelta(days=n) for n in settings.days_before_due if due - timedelta(days=n) >= invoice_date}
    send_at = time(settings.send_hour)
    return [Slot(number, day, datetime.combine(day, send_at, zone).astimezone(UTC))
            for number, day in enumerate(sorted(days), start=1)]


def schedule(session: Session, env: TenantEnv, *, link: PayLink, invoice: Invoice, account: Account,
             due: date | None, context: dict[str, Any]) -> list[Slot]:
    """Queue the invoice's reminders still ahead, in the caller's transaction; the ones newly queued.

    ``context`` is the invoice's email context (:func:`notices.invoice_context`); the amount and the
    recipient are read again when each reminder is sent.
    """
    if invoice.invoice_date is None:
        return []
    if opted_out(session, env.tenant_id, str(account.account_id)):
        log.info("invoice %s: no reminders, the payor of account %s unsubscribed", invoice.invoice_id,
                 account.account_id)
        return []
    now, expires = env.now(), link.expires_at
    queued = []
    for slot in slots(env.settings.reminders, invoice.invoice_date, due, account_zone(account)):
        if not now < slot.at < expires:
            continue
        if notices.queue(session, env, kind=notices.REMINDER, sequence=slot.number, account=account,
                         invoice=invoice, context={**context, "reminder_number": slot.number}, run_at=slot.at):
            queued.append(slot)
    if queued:
        log.info("invoice %s: %s reminder(s) scheduled, the first at %s", invoice.invoice_id, len(queued),
                 queued[0].at.isoformat())
    return queued


# -- opting out --------------------------------------------------------------------------------------------
def opted_out(session: Session, kb_tenant_id: str, kb_account_id: str | None) -> bool:
    if kb_account_id is None:
        return False
    return session.get(ReminderOptOut, (kb_tenant_id, kb_account_id)) is not None


def opt_out(env: TenantEnv, kb_account_id: UUID | str, source: str) -> bool:
    """Record the payor's "no more reminders" and skip the account's pending ones; True when new."""
    account = str(kb_account_id)
    with session_scope(env.sessions) as session:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        created = session.execute(insert(ReminderOptOut).values(
            kb_tenant_id=env.tenant_id, kb_account_id=account, source=source[:16], created_at=env.now(),
        ).on_conflict_do_nothing(index_elements=["kb_tenant_id", "kb_account_id"])
            .returning(ReminderOptOut.kb_account_id)).scalar_one_or_none()
        skipped = messages.skip_pending(session, kb_tenant_id=env.tenant_id, kinds=(notices.REMINDER,),
                                        reason=UNSUBSCRIBED, kb_account_id=account)
    log.info("account %s of tenant %s: unsubscribed from reminders (%s%s); %s pending reminder(s) skipped",
             account, env.tenant_id, source, "" if created else ", again", skipped)
    return created is not None


def opt_out_of(env: TenantEnv, kb_account_id: UUID | str) -> ReminderOptOut | None:
    """The account's opt-out (since when, and how), or None while its payor gets reminders."""
    with session_scope(env.sessions) as session:
        return session.get(ReminderOptOut, (env.tenant_id, str(kb_account_id)))


def resubscribe(env: TenantEnv, kb_account_id: UUID | str) -> bool:
    """Undo the account's opt-out (an operator, at the payor's request); True when there was one. Invoices
    asked for from now on get their reminders; those skipped while opted out stay skipped."""
    account = str(kb_account_id)
    with session_scope(env.sessions) as session:
        removed = session.execute(delete(ReminderOptOut).where(
            ReminderOptOut.kb_tenant_id == env.tenant_id, ReminderOptOut.kb_account_id == account)).rowcount
    log.info("account %s of tenant %s: %s", account, env.tenant_id,
             "resubscribed to reminders" if removed else "was not opted out of reminders")
    return removed == 1


def _unsubscribed(env: TenantEnv, message: Message) -> str | None:
    with session_scope(env.sessions) as session:
        return UNSUBSCRIBED if opted_out(session, env.tenant_id, message.kb_account_id) else None


messages.register_precheck(notices.REMINDER, _unsubscribed)
