"""Messages to payors: queued in the caller's transaction, sent by a job, at most one per send key and channel.

``queue_message`` inserts the :class:`~bridge.db.invoices.Message` row (unique per tenant, channel and
``send_key``, e.g. ``"<invoice>:reminder:2"`` by email and by SMS) and enqueues its ``message.send`` job in
the same transaction, so a message exists exactly when its job does. The job (:func:`send_message`) is the
same for every channel (:mod:`bridge.channels`: email, SMS, WhatsApp):

1. loads the message; SENT or SKIPPED → done (a replayed or repeated job sends nothing);
2. skips it, with the reason recorded, when the tenant is gone, a registered pre-send check says so (e.g.
   the payor unsubscribed), a context resolver raises :class:`SkipMessage` (e.g. the invoice was paid
   meanwhile), or the recipient is missing or not an address of the message's channel (an email address,
   an E.164 phone number);
3. has the channel render the tenant's templates for it with the stored context and what the resolvers add
   at send time (the ``/pay`` link, the current balance; a resolver may also give the payor's current
   ``recipient``), and deliver them (SMTP, the messaging provider);
4. records SENT, the carrier's id (Message-ID, provider sid) and the time **in the job's own transaction**,
   which also completes the job: either both commit or neither does.

When delivery fails (:mod:`bridge.channels.outcomes`), the message is marked FAILED with the error in a
separate short transaction (the job's transaction rolls back) and the error propagates, so the job retries
with backoff, or after the provider's ``Retry-After``; after the last attempt the job is dead and
``bridge jobs retry`` replays it. A recipient refused for good (an SMTP 5xx, a provider's 4xx) is
SKIPPED, not retried. A tenant that cannot send on the channel (no sender, no provider credentials, a
broken template) parks the job at once, FAILED with the reason, for ``bridge jobs retry`` once fixed.

**The window between the carrier accepting and the commit.** Neither SMTP nor the messaging API has an
idempotency key, so a process that dies after the carrier's "queued" and before the commit cannot know
whether the payor got the message. We choose *at least once* for that window: the job runs again after its
lease expires and sends again; an email carries the **same Message-ID** (derived from the message), which
mail stores and clients use to collapse duplicates, a text arrives twice. The window is one local commit
long. The other choice, committing "sending" before talking to the carrier, would turn the same crash into
a lost invoice message with no retry, which is worse for a payor who needs the link. Two workers never send
one message at the same time: the job's lease (renewed while it runs) gives it to one worker, and on
PostgreSQL the message row is also locked ``FOR UPDATE`` for the duration of the send, so a worker that
took over an expired lease waits and then sees SENT.

Nothing here logs a message body or its context: the ``/pay/<token>`` link is a bearer credential. Phone
numbers are logged masked.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bridge.channels import EMAIL, catalog
from bridge.channels.delivery import Outgoing
from bridge.channels.outcomes import DeliveryFailed, Misconfigured, Undeliverable
from bridge.db.base import utcnow
from bridge.db.engine import session_scope
from bridge.db.invoices import Message, MessageStatus
from bridge.invoices import tokens
from bridge.invoices.email import KINDS
from bridge.jobs import enqueue
from bridge.jobs.registry import JobContext, PermanentFailure, RetryLater
from bridge.tenancy.service import UnknownTenant

if TYPE_CHECKING:
    from bridge.runtime import Runtime
    from bridge.tenancy.env import TenantEnv

log = logging.getLogger(__name__)

SEND_JOB = "message.send"
_MAX_ERROR_CHARS = 2000

# A pre-send check: given the tenant and the message about to go out, a reason to skip it, or None.
Precheck = Callable[["TenantEnv", Message], "str | None"]
_prechecks: dict[str, list[Precheck]] = {}


# Values computed when the message is sent rather than stored with it (the /pay link is a bearer
# credential: the database keeps only the pay link's id, the URL with its signed token is made here).
# A resolver may raise SkipMessage; the key ``recipient`` in what it returns readdresses the message.
ContextResolver = Callable[["TenantEnv", Message, dict[str, Any]], dict[str, Any]]
_resolvers: list[ContextResolver] = []
RECIPIENT = "recipient"


class SkipMessage(Exception):
    """Raised by a context resolver: this message must not go out (the reason is recorded)."""


def register_context_resolver(resolver: ContextResolver) -> None:
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def register_precheck(kind: str, check: Precheck) -> None:
    """Run ``check`` before sending every message of ``kind``; registering the same function twice is a no-op."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    checks = _prechecks.setdefault(kind, [])
    if check not in checks:
        checks.append(check)


def unregister_precheck(kind: str, check: Precheck) -> None:
    checks = _prechecks.get(kind, [])
    if check in checks:
        checks.remove(check)


def send_job_dedupe_key(message_id: int) -> str:
    return f"{SEND_JOB}:{message_id}"


def skip_pending(session: Session, *, kb_tenant_id: str, kinds: Collection[str], reason: str,
                 kb_invoice_id: str | None = None, kb_account_id: str | None = None) -> int:
    """Mark the not-yet-sent messages of these kinds (for one invoice or account) SKIPPED with ``reason``.

    Their send jobs then find them skipped and send nothing. On PostgreSQL a message being sent right now
    (its row locked by its job) is left to that job, which decides for itself (SKIP LOCKED: no waiting).
    """
    if kb_invoice_id is None and kb_account_id is None:
        raise ValueError("name the invoice or the account whose messages to skip")
    match = select(Message.id).where(Message.kb_tenant_id == kb_tenant_id, Message.kind.in_(list(kinds)),
                                     Message.status.in_([MessageStatus.QUEUED, MessageStatus.FAILED]))
    if kb_invoice_id is not None:
        match = match.where(Message.kb_invoice_id == kb_invoice_id)
    if kb_account_id is not None:
        match = match.where(Message.kb_account_id == kb_account_id)
    if session.get_bind().dialect.name == "postgresql":
        match = match.with_for_update(skip_locked=True)
    ids = list(session.scalars(match))
    if not ids:
        return 0
    session.execute(update(Message).where(Message.id.in_(ids), Message.status != MessageStatus.SENT)
                    .values(status=MessageStatus.SKIPPED, last_error=reason[:_MAX_ERROR_CHARS], updated_at=utcnow()))
    log.info("%s pending message(s) of tenant %s skipped: %s", len(ids), kb_tenant_id, reason)
    return len(ids)


def queue_message(session: Session, *, kb_tenant_id: str, kind: str, send_key: str, recipient: str | None,
                  kb_account_id: str | None = None, kb_invoice_id: str | None = None,
                  context: dict[str, Any], run_at: datetime | None = None, channel: str = EMAIL) -> int | None:
    """Add a message and its send job in the caller's transaction; its id, or None if ``send_key`` was used
    on this channel.

    ``context`` is what the templates need, JSON-serialisable (amounts already formatted, see
    :func:`bridge.invoices.formatting.format_amount`). A second call with the same (tenant, channel, send key)
    changes nothing, whatever its arguments.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    carrier = catalog.get(channel)  # raises ValueError for an unknown channel
    if not send_key or len(send_key) > 200:
        raise ValueError("send_key must be 1 to 200 characters")
    try:
        context = json.loads(json.dumps(context))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"message context must be JSON-serialisable: {exc}") from None
    now = utcnow()
    values: dict[str, Any] = {
        "kb_tenant_id": kb_tenant_id, "kb_account_id": kb_account_id, "kb_invoice_id": kb_invoice_id,
        "channel": channel, "kind": kind, "send_key": send_key,
        "recipient": recipient.strip() if isinstance(recipient, str) else None,
        "status": MessageStatus.QUEUED, "attempts": 0, "context": context, "created_at": now, "updated_at": now}
    message_id = _insert(session, values)
    if message_id is None:
        log.info("message %s (%s) for tenant %s already queued", send_key, channel, kb_tenant_id)
        return None
    enqueue(session, SEND_JOB, {"message_id": message_id}, kb_tenant_id=kb_tenant_id,
            dedupe_key=send_job_dedupe_key(message_id), run_at=run_at)
    log.info("message %s (%s, %s) queued for %s", message_id, kind, channel,
             carrier.log_form(values["recipient"]) if values["recipient"] else "no recipient")
    return message_id


# One statement for every message: SQLAlchemy caches its compiled form, which it does not do for a dialect's
# INSERT … ON CONFLICT (compiled anew at each call: 1.5 ms of CPU per message instead of 1.0, measured on SQLite
# and PostgreSQL; a billing run queues four messages per invoice, the email and three reminders).
_INSERT = insert(Message).returning(Message.id)


def _insert(session: Session, values: dict[str, Any]) -> int | None:
    """The new message's id, or None when its (tenant, channel, send key) exists: the INSERT runs in a
    savepoint, so a duplicate key rolls back only itself."""
    try:
        with session.begin_nested():
            return session.execute(_INSERT, values).scalar_one()  # type: ignore[no-any-return]
    except IntegrityError:
        existing = session.scalar(select(Message.id).where(
            Message.kb_tenant_id == values["kb_tenant_id"], Message.channel == values["channel"],
            Message.send_key == values["send_key"]))
        if existing is None:
            raise  # another constraint: not a duplicate, a bug to see
        return None


# -- the send job ---------------------------------------------------------------------------------------
def _load(ctx: JobContext, message_id: int) -> Message | None:
    """On PostgreSQL, lock the row in the job's transaction for the whole send. SQLite locks the whole
    database for a writing transaction, so there the row is read in its own short transaction and the
    job's transaction is first used after SMTP (the job lease keeps other workers away)."""
    if ctx.session.get_bind().dialect.name == "postgresql":
        return ctx.session.scalars(select(Message).where(Message.id == message_id).with_for_update()).one_or_none()
    with session_scope(ctx.services.sessions) as session:
        return session.get(Message, message_id)


def _finish(session: Session, message: Message, status: MessageStatus, now: datetime, **values: Any) -> None:
    session.execute(update(Message).where(Message.id == message.id, Message.status != MessageStatus.SENT)
                    .values(status=status, updated_at=now, **values))
    recipient = values.get("recipient") or message.recipient
    shown = _log_form(message.channel, recipient) if recipient else "no recipient"
    log.info("message %s (%s, %s) to %s: %s%s", message.id, message.kind, message.channel, shown,
             status.value, f" ({values['last_error']})" if values.get("last_error") else "")


def _log_form(channel: str, recipient: str) -> str:
    try:
        return catalog.get(channel).log_form(recipient)
    except ValueError:
        return "a recipient of an unknown channel"


def _skip(ctx: JobContext, message: Message, reason: str) -> None:
    _finish(ctx.session, message, MessageStatus.SKIPPED, ctx.now, last_error=reason[:_MAX_ERROR_CHARS])


def _fail(ctx: JobContext, message: Message, error: str) -> None:
    """FAILED with the error, committed on its own: the job's transaction is about to roll back."""
    ctx.session.rollback()  # releases the PostgreSQL row lock; on SQLite nothing was written yet
    with session_scope(ctx.services.sessions) as session:
        _finish(session, message, MessageStatus.FAILED, ctx.now, last_error=error[:_MAX_ERROR_CHARS],
                attempts=Message.attempts + 1)


def send_message(ctx: JobContext, payload: dict[str, Any]) -> None:
    """The ``message.send`` job: render and send one message, once."""
    try:
        message_id = int(payload["message_id"])
    except (KeyError, TypeError, ValueError):
        raise PermanentFailure(f"bad {SEND_JOB} payload") from None
    runtime: Runtime = ctx.services
    message = _load(ctx, message_id)
    if message is None:
        raise PermanentFailure(f"no message {message_id}")
    if message.status in (MessageStatus.SENT, MessageStatus.SKIPPED):
        log.info("message %s (%s) already %s", message.id, message.kind, message.status.value)
        return

    try:
        env = runtime.tenant_env(message.kb_tenant_id)
    except UnknownTenant:
        return _skip(ctx, message, "tenant is no longer mapped")
    tokens.for_runtime(runtime)  # links in the message are signed with this runtime's master keys
    for check in _prechecks.get(message.kind, ()):
        reason = check(env, message)  # an exception here retries the job (e.g. Kill Bill unreachable)
        if reason:
            return _skip(ctx, message, reason)
    context = dict(message.context or {})
    try:
        for resolve in _resolvers:
            context.update(resolve(env, message, context))
    except SkipMessage as skip:
        return _skip(ctx, message, str(skip))
    try:
        channel = catalog.get(message.channel)
    except ValueError as unknown:
        return _skip(ctx, message, str(unknown))
    recipient = (context.pop(RECIPIENT, None) or message.recipient or "").strip()
    if not recipient:
        return _skip(ctx, message, channel.no_address)
    refusal = channel.refusal(recipient)
    if refusal:
        return _skip(ctx, message, refusal)

    context["brand_name"] = context.get("brand_name") or env.settings.email.brand_name or ""
    outgoing = Outgoing(message=message, recipient=recipient, context=context, env=env, runtime=runtime, now=ctx.now)
    try:
        delivered = channel.deliver(outgoing)
    except Undeliverable as refused:
        return _skip(ctx, message, str(refused))
    except Misconfigured as exc:
        _fail(ctx, message, str(exc))
        raise PermanentFailure(f"{exc}; {exc.remedy}") from exc
    except DeliveryFailed as exc:
        _fail(ctx, message, str(exc))
        if exc.retry_after is not None:
            raise RetryLater(str(exc), delay_seconds=exc.retry_after) from exc
        raise
    # Same transaction as the job's completion (see the module docstring for the crash window).
    _finish(ctx.session, message, MessageStatus.SENT, ctx.now, provider_message_id=delivered.provider_message_id,
            sent_at=ctx.now, subject=delivered.subject, last_error=None, attempts=Message.attempts + 1,
            recipient=recipient)
