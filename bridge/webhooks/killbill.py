"""Kill Bill push notifications: store on the request path, act in the worker.

Kill Bill signs nothing (reference/killbill.md §B3): the tenant is the one whose random callback token
is in the URL (``/webhooks/killbill/<token>``, found by the token's SHA-256). A wrong token is a 404
and nothing is stored. The body is stored exactly as received. No Kill Bill or Hyperswitch call happens
on the request path.

Deduplication: Kill Bill has no event id and a retry resends the same body, so the key is the body's
SHA-256. But two different notifications can have the same body too: every ACCOUNT_CHANGE of an
account is ``{"eventType":"ACCOUNT_CHANGE","accountId":A,"objectType":"ACCOUNT","objectId":A,
"metaData":null}``. So a body seen before is a duplicate only while the earlier event still waits for
its processing to start (that processing reads Kill Bill after both deliveries); once it has started or
finished, the same body is stored as a new event (key ``<sha256>:<id of the previous one>``) and
processed again, which is safe because processing re-reads everything it acts on.

Processing treats the payload as a hint and re-reads what it acts on (the account, its tags, the
payment's transactions). Event types dispatch through :data:`KILLBILL_HANDLERS`; other capabilities
add theirs with :func:`register_handler` (the invoice flow adds the ``INVOICE_*`` ones). A type with no
handler is recorded as skipped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import hyperswitch_client as hs
import killbill_client as kb
from bridge.db.engine import session_scope
from bridge.db.jobs import Job, JobState
from bridge.db.payments import HsCustomer, Transaction
from bridge.db.tenancy import Tenant
from bridge.db.webhooks import EventSource, EventState, InboundEvent
from bridge.errors import BadRequest, NotFound
from bridge.jobs import PermanentFailure
from bridge.logs import register_secret
from bridge.payments.killbill_sync import schedule_sync
from bridge.payments.service import payment_transactions
from bridge.tenancy.env import TenantEnv
from bridge.tenancy.service import callback_token_hash
from bridge.webhooks import inbox
from bridge.webhooks.hyperswitch import WEBHOOKS_RECEIVED
from bridge.webhooks.inbox import EventResult
from bridge.webhooks.process import register
from hyperswitch_client.customers import CustomerUpdateParams
from killbill_client.constants import AUTO_PAY_OFF, MANUAL_PAY

log = logging.getLogger(__name__)

SOURCE = "killbill"
# secrets.token_urlsafe(32) is 43 characters; anything much longer cannot be a callback token.
MAX_TOKEN_LENGTH = 128
_NULLABLE_TEXT_FIELDS = ("objectType", "objectId", "accountId", "metaData")
# Events whose metaData Kill Bill sends as a bare name, and what that name is.
_BARE_METADATA = {"TENANT_CONFIG_CHANGE": "key", "TENANT_CONFIG_DELETION": "key",
                  "TAG_CREATION": "tagDefinitionName", "TAG_DELETION": "tagDefinitionName"}
# Hyperswitch's limit on a customer's text fields.
_TEXT_LIMIT = 255
CONTROL_TAGS = {AUTO_PAY_OFF: "AUTO_PAY_OFF", MANUAL_PAY: "MANUAL_PAY"}


class UnknownCallback(NotFound):
    """No tenant has this callback token: 404, nothing stored."""

    error = "unknown_callback"


class MalformedNotification(BadRequest):
    """Not Kill Bill's NotificationJson: 400, nothing stored."""

    error = "malformed_notification"


@dataclass(frozen=True)
class Notification:
    """Kill Bill's ``NotificationJson``; ``metadata`` is its ``metaData`` string, decoded."""

    event_type: str
    object_type: str | None
    object_id: str | None
    account_id: str | None
    metadata: dict[str, Any] = field(default_factory=dict)


class NotificationJson(BaseModel):
    """Kill Bill's push notification body (``NotificationJson``), as documented; other fields are ignored."""

    eventType: str = Field(description="ExtBusEventType, e.g. PAYMENT_SUCCESS, ACCOUNT_CHANGE, TAG_CREATION")
    objectType: str | None = None
    objectId: str | None = None
    accountId: str | None = None
    metaData: str | None = Field(None, description="a string that itself holds a JSON object (the key of a "
                                                   "TENANT_CONFIG_CHANGE, a payment's status, a tag's name)")


class NotificationReceipt(BaseModel):
    status: Literal["accepted", "duplicate"] = Field(
        description="accepted: stored, to be processed; duplicate: the same body was stored before")
    id: int = Field(description="the stored event's id (`bridge webhooks show <id>`)")


def parse(body: bytes) -> Notification:
    """The notification in ``body``; raises MalformedNotification when it is not Kill Bill's shape."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise MalformedNotification("the body is not UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise MalformedNotification("the body is not a JSON object")
    event_type = data.get("eventType")
    if not isinstance(event_type, str) or not event_type.strip() or len(event_type) > 64:
        raise MalformedNotification("eventType must be a non-empty string")
    for name in _NULLABLE_TEXT_FIELDS:
        if data.get(name) is not None and not isinstance(data[name], str):
            raise MalformedNotification(f"{name} must be a string or null")
    metadata: dict[str, Any] = {}
    if data.get("metaData") is not None:
        # Kill Bill sends metaData as a string that itself holds a JSON object, except for tenant
        # configuration and tag events, whose metaData is a bare name (PUSH_NOTIFICATION_CB, AUTO_PAY_OFF).
        try:
            metadata = json.loads(data["metaData"])
        except ValueError:
            if event_type not in _BARE_METADATA:
                raise MalformedNotification("metaData must be a string holding JSON") from None
            metadata = {_BARE_METADATA[event_type]: data["metaData"]}
        if not isinstance(metadata, dict):
            raise MalformedNotification("metaData must hold a JSON object")
    return Notification(event_type, data.get("objectType"), data.get("objectId"), data.get("accountId"), metadata)


def event_key(body: bytes) -> str:
    """What a Kill Bill retry has in common with the first delivery: the digest of the body."""
    return hashlib.sha256(body).hexdigest()


def _tenant_for(session: Session, token: str) -> str | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return session.scalars(select(Tenant.kb_tenant_id).where(
        Tenant.kb_callback_token_hash == callback_token_hash(token))).one_or_none()


def _key_for(session: Session, tenant_id: str, notification: Notification, digest: str) -> str | int:
    """The key to store this delivery under, or the id of the waiting event it repeats (see the module)."""
    object_id = (notification.object_id or "")[:64] or None
    previous = session.execute(select(InboundEvent.id, InboundEvent.state, InboundEvent.job_id).where(
        InboundEvent.source == EventSource.KILLBILL, InboundEvent.kb_tenant_id == tenant_id,
        InboundEvent.object_id.is_(None) if object_id is None else InboundEvent.object_id == object_id,
        InboundEvent.event_type == notification.event_type[:64],
        or_(InboundEvent.event_key == digest, InboundEvent.event_key.like(f"{digest}:%")),
    ).order_by(InboundEvent.id.desc()).limit(1)).first()
    if previous is None:
        return digest
    if previous.state in (EventState.RECEIVED, EventState.FAILED):
        job_state = session.scalar(select(Job.state).where(Job.id == previous.job_id)) if previous.job_id else None
        if job_state is JobState.PENDING:
            return int(previous.id)
    return f"{digest}:{previous.id}"


def receive(runtime: Any, token: str, body: bytes) -> tuple[inbox.Stored, str]:
    """Store one delivery for the token's tenant; returns where it is stored and the tenant.

    Raises UnknownCallback (404) or MalformedNotification (400); nothing is stored then.
    """
    with session_scope(runtime.sessions) as session:
        tenant_id = _tenant_for(session, token)
        if tenant_id is None:
            WEBHOOKS_RECEIVED.labels(SOURCE, "unknown_token").inc()
            log.warning("kill bill notification refused: no tenant has this callback token")
            raise UnknownCallback("no such callback")
        register_secret(token)  # it is in this request's URL: keep it out of the log lines that follow
        try:
            notification = parse(body)
        except MalformedNotification as exc:
            WEBHOOKS_RECEIVED.labels(SOURCE, "malformed").inc()
            log.warning("kill bill notification for tenant %s refused: %s", tenant_id, exc.detail)
            raise
        key = _key_for(session, tenant_id, notification, event_key(body))
        if isinstance(key, int):
            stored = inbox.Stored(key, duplicate=True)
        else:
            stored = inbox.store(session, source=EventSource.KILLBILL, kb_tenant_id=tenant_id, event_key=key,
                                 event_type=notification.event_type, object_type=notification.object_type,
                                 object_id=notification.object_id, body=body.decode("utf-8"), now=runtime.clock())
    WEBHOOKS_RECEIVED.labels(SOURCE, "duplicate" if stored.duplicate else "stored").inc()
    return stored, tenant_id


# -- processing (in the worker) ----------------------------------------------------------------------
Handler = Callable[[TenantEnv, Notification], EventResult]


def process(env: TenantEnv, event: InboundEvent) -> EventResult:
    try:
        notification = parse(event.body.encode("utf-8"))
    except MalformedNotification as exc:  # stored bodies were checked; this is only a safety net
        return EventResult.skipped(f"not a Kill Bill notification: {exc.detail}")
    handler = KILLBILL_HANDLERS.get(notification.event_type)
    if handler is None:
        return EventResult.skipped(f"{notification.event_type} notifications are not used by the bridge")
    return handler(env, notification)


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


# -- PAYMENT_SUCCESS / PAYMENT_FAILED ------------------------------------------------------------------
# metaData.status is Kill Bill's TransactionStatus. PAYMENT_SUCCESS is also sent for PENDING, and
# PAYMENT_FAILED covers UNKNOWN: the event name alone says little (reference/killbill.md §B3).
_KB_STATUS_MEANING = {
    "SUCCESS": "succeeded",
    "PENDING": "pending, not a failure",
    "PAYMENT_FAILURE": "failed",
    "PLUGIN_FAILURE": "failed before reaching the gateway",
    "PAYMENT_SYSTEM_OFF": "failed: payment system off",
    "UNKNOWN": "outcome unknown to Kill Bill; its janitor asks getPaymentInfo",
}


def kb_status_meaning(status: str | None) -> str:
    return _KB_STATUS_MEANING.get(status or "", "status not given")


def _carried(env: TenantEnv, kb_payment_id: str) -> bool:
    with session_scope(env.sessions) as session:
        return session.scalars(select(Transaction.id).where(
            Transaction.kb_tenant_id == env.tenant_id, Transaction.kb_payment_id == kb_payment_id).limit(1)
        ).first() is not None


def _payment(env: TenantEnv, notification: Notification) -> EventResult:
    payment_id = _uuid(notification.object_id)
    if payment_id is None:
        return EventResult.skipped(f"{notification.event_type}: the notification names no payment")
    meta = notification.metadata
    status, txn_id = meta.get("status"), meta.get("paymentTransactionId")
    told = (f"Kill Bill: {meta.get('transactionType') or 'transaction'} {txn_id or '?'} "
            f"{status or '?'} ({kb_status_meaning(status)})")
    if not _carried(env, str(payment_id)):
        return EventResult.skipped(f"{told}; payment {payment_id} is not carried by the bridge "
                                   "(another payment plugin's)")
    # The payload is a hint: Hyperswitch is re-read for every transaction not final yet.
    transactions = payment_transactions(env, payment_id)
    schedule_sync(env, transactions)
    bridge_view = ", ".join(f"{t.transaction_type.value} {t.kb_transaction_id} {t.status.value}"
                            for t in transactions)
    note = ""
    if txn_id and all(t.kb_transaction_id != txn_id for t in transactions):
        note = f"; {txn_id} is Kill Bill's own (the plugin was not called for it)"
    return EventResult.processed(f"{told}; bridge: {bridge_view}{note}")


# -- ACCOUNT_CHANGE -------------------------------------------------------------------------------------
def _text(value: str | None) -> str | None:
    return value[:_TEXT_LIMIT] if value else None


def _account_change(env: TenantEnv, notification: Notification) -> EventResult:
    account_id = _uuid(notification.object_id) or _uuid(notification.account_id)
    if account_id is None:
        return EventResult.skipped("ACCOUNT_CHANGE: the notification names no account")
    with session_scope(env.sessions) as session:
        row = session.get(HsCustomer, (env.tenant_id, str(account_id)))
        customer_id = row.hs_customer_id if row else None
    if customer_id is None:
        return EventResult.skipped(f"account {account_id} has no Hyperswitch customer yet "
                                   "(one created later takes the account's details then)")
    try:
        account = env.killbill.accounts.get(account_id)
    except kb.NotFoundError:
        return EventResult.skipped(f"Kill Bill has no account {account_id} in this tenant")
    # Other Kill Bill failures propagate: the job retries with backoff.
    wanted = {"name": _text(account.name), "email": _text(account.email), "phone": _text(account.phone)}
    wanted = {name: value for name, value in wanted.items() if value is not None}
    if not wanted:
        return EventResult.skipped(f"account {account_id} has no name, email or phone to copy")
    try:
        current = env.hyperswitch.customers.retrieve(customer_id)
        changed = {name: value for name, value in wanted.items() if getattr(current, name) != value}
        if changed:
            env.hyperswitch.customers.update(customer_id, CustomerUpdateParams(**changed))
    except hs.NotFoundError:
        return EventResult.skipped(f"Hyperswitch has no customer {customer_id} (account {account_id})")
    except (hs.InvalidRequestError, hs.OperationRefusedError) as exc:
        # Retrying the same values cannot help; the event stays FAILED, replayable after a fix.
        raise PermanentFailure(f"Hyperswitch refused the details of account {account_id} for customer "
                               f"{customer_id}: {exc}") from None
    if not changed:
        return EventResult.processed(f"customer {customer_id} already matches account {account_id}")
    return EventResult.processed(f"customer {customer_id} updated from account {account_id}: "
                                 f"{', '.join(sorted(changed))}")


# -- TAG_CREATION / TAG_DELETION ---------------------------------------------------------------------------
def _tag_change(env: TenantEnv, notification: Notification) -> EventResult:
    name = notification.metadata.get("tagDefinitionName")
    if name is not None and name not in CONTROL_TAGS.values():
        return EventResult.skipped(f"tag {name} is not used by the bridge")
    account_id = _uuid(notification.account_id)
    if account_id is None:
        return EventResult.skipped(f"{notification.event_type}: the notification names no account")
    try:
        tags = env.killbill.tags.list_for_account(account_id)
    except kb.NotFoundError:
        return EventResult.skipped(f"Kill Bill has no account {account_id} in this tenant")
    control = sorted({CONTROL_TAGS[t.tag_definition_id] for t in tags if t.tag_definition_id in CONTROL_TAGS})
    verb = "added to" if notification.event_type == "TAG_CREATION" else "removed from"
    now = (f"it now has {' and '.join(control)}: Kill Bill will not pay its invoices automatically" if control
           else "it has neither AUTO_PAY_OFF nor MANUAL_PAY: Kill Bill pays its invoices automatically")
    return EventResult.processed(f"{name or 'a tag'} {verb} account {account_id}; {now}")


# -- TENANT_CONFIG_CHANGE ------------------------------------------------------------------------------------
def _tenant_config(env: TenantEnv, notification: Notification) -> EventResult:
    key = notification.metadata.get("key") or "(no key given)"
    return EventResult.processed(f"tenant configuration {key} changed")


KILLBILL_HANDLERS: dict[str, Handler] = {
    "PAYMENT_SUCCESS": _payment,
    "PAYMENT_FAILED": _payment,
    "ACCOUNT_CHANGE": _account_change,
    "TAG_CREATION": _tag_change,
    "TAG_DELETION": _tag_change,
    "TENANT_CONFIG_CHANGE": _tenant_config,
}


def register_handler(event_type: str, handler: Handler) -> None:
    """Handle ``event_type`` notifications with ``handler`` (one handler per type)."""
    current = KILLBILL_HANDLERS.get(event_type)
    if current is not None and current is not handler:
        raise ValueError(f"{event_type} notifications already go to {current.__module__}.{current.__qualname__}")
    KILLBILL_HANDLERS[event_type] = handler


register(EventSource.KILLBILL, process)
