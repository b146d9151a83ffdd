"""Hyperswitch webhooks: verify and store on the request path; reconcile in the worker.

Receiving trusts nothing before the signature: the payload names its merchant (and profile), which
picks the tenant whose ``payment_response_hash_key`` must have signed the exact body. No Hyperswitch or
Kill Bill call happens on the request path. Processing re-reads the object from Hyperswitch (the body is
only a hint), moves transactions forward and schedules telling Kill Bill.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.db.engine import session_scope
from bridge.db.payments import PaymentMethod, PaymentMethodState, TransitionSource
from bridge.db.tenancy import Tenant
from bridge.db.webhooks import EventSource, InboundEvent
from bridge.jobs import RetryLater
from bridge.payments import ids
from bridge.payments.disputes import apply_dispute
from bridge.payments.killbill_sync import schedule_sync
from bridge.payments.payouts import reconcile_payout
from bridge.payments.reconcile import reconcile_payment, reconcile_refund
from bridge.tenancy.env import TenantEnv
from bridge.web.requests import nul_location
from bridge.webhooks import inbox
from bridge.webhooks.inbox import EventResult
from hyperswitch_client import NotFoundError, verify_signature

log = logging.getLogger(__name__)

WEBHOOKS_RECEIVED = Counter("bridge_webhooks_received_total", "Inbound webhooks by source and outcome",
                            ["source", "outcome"])


class Refused(Exception):
    """The webhook is not from a tenant's Hyperswitch profile: 401, nothing stored."""


@dataclass(frozen=True)
class Envelope:
    merchant_id: str
    profile_id: str | None
    event_id: str
    event_type: str
    object_type: str | None
    object_id: str | None


# A payment object also names its mandate, a refund its payment: the content type says which id it is.
_OBJECT_ID_FIELD = {"payment_details": "payment_id", "refund_details": "refund_id",
                    "dispute_details": "dispute_id", "mandate_details": "mandate_id",
                    "payout_details": "payout_id"}


class HyperswitchWebhook(BaseModel):
    """Hyperswitch's ``OutgoingWebhook`` envelope, as documented; other fields are kept as received."""

    merchant_id: str
    event_id: str = Field(description="stable across Hyperswitch's retries: duplicates are acknowledged once")
    event_type: str = Field(description="e.g. payment_succeeded, refund_failed, dispute_lost, mandate_revoked")
    content: dict[str, Any] = Field(description='{"type": "payment_details" | "refund_details" | '
                                                '"dispute_details" | "mandate_details" | "payout_details", '
                                                '"object": the object as its GET returns it}')
    timestamp: str | None = None


def _envelope(body: bytes) -> Envelope:
    try:
        data = json.loads(body)
        if nul_location(data) is not None:  # PostgreSQL text cannot hold it; no real envelope has one
            raise ValueError("NUL character")
        content = data["content"]
        obj: dict[str, Any] = content.get("object") or {}
        object_type = content.get("type")
        object_id = obj.get(_OBJECT_ID_FIELD.get(object_type, ""))
        return Envelope(str(data["merchant_id"]), obj.get("profile_id"), str(data["event_id"]),
                        str(data["event_type"]), object_type, object_id and str(object_id))
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise Refused("not a Hyperswitch webhook envelope") from None


def _candidates(session: Session, envelope: Envelope) -> list[str]:
    query = select(Tenant.kb_tenant_id).where(Tenant.hs_merchant_id == envelope.merchant_id)
    if envelope.profile_id:
        query = query.where(Tenant.hs_profile_id == envelope.profile_id)
    return list(session.scalars(query))


def receive(runtime: Any, body: bytes, signature: str | None) -> tuple[inbox.Stored, str]:
    """Verify and store one delivery; returns where it is stored and the tenant. Raises Refused."""
    envelope = _envelope(body)
    with session_scope(runtime.sessions) as session:
        tenants = _candidates(session, envelope)
    # Several Kill Bill tenants may share a merchant; without a profile, the signature tells them apart.
    tenant_id = next((t for t in tenants
                      if verify_signature(body, signature, runtime.tenant_env(t).creds.hs_webhook_secret)), None)
    if tenant_id is None:
        reason = "unknown merchant" if not tenants else "bad signature"
        WEBHOOKS_RECEIVED.labels("hyperswitch", reason.replace(" ", "_")).inc()
        log.warning("hyperswitch webhook refused (%s): merchant %s event %s", reason, envelope.merchant_id,
                    envelope.event_id)
        raise Refused(reason)
    with session_scope(runtime.sessions) as session:
        stored = inbox.store(session, source=EventSource.HYPERSWITCH, kb_tenant_id=tenant_id,
                             event_key=envelope.event_id, event_type=envelope.event_type,
                             object_type=envelope.object_type, object_id=envelope.object_id,
                             body=body.decode("utf-8", errors="replace"), now=runtime.clock())
    WEBHOOKS_RECEIVED.labels("hyperswitch", "duplicate" if stored.duplicate else "stored").inc()
    return stored, tenant_id


# -- processing (in the worker) ----------------------------------------------------------------------
def process(env: TenantEnv, event: InboundEvent) -> EventResult:
    envelope = _envelope(event.body.encode())
    if envelope.object_id is None:
        return EventResult.skipped(f"{envelope.event_type}: the event names no object")
    handler = {"payment_details": _payment, "refund_details": _refund, "dispute_details": _dispute,
               "mandate_details": _mandate, "payout_details": _payout}.get(envelope.object_type or "")
    if handler is None:
        return EventResult.skipped(f"{envelope.object_type} events are not used by the bridge")
    return handler(env, envelope.object_id)


def _ours(hs_id: str, kind: ids.IdKind) -> bool:
    parsed = ids.parse(hs_id)
    return parsed is not None and parsed[0] is kind


def _reconciled(env: TenantEnv, what: str, hs_id: str, transactions: list[Any], kind: ids.IdKind) -> EventResult:
    """The outcome for a payment, refund or payout event, once its transactions were reconciled."""
    if transactions:
        schedule_sync(env, transactions)
        return EventResult.processed(", ".join(f"{t.kb_transaction_id} {t.status.value}" for t in transactions))
    if _ours(hs_id, kind):
        # The plugin's own answer may still be on its way: try again later rather than drop it.
        raise RetryLater(f"{what} {hs_id} is not known to the bridge yet")
    return EventResult.skipped(f"{what} {hs_id} was not made for Kill Bill")


def _payment(env: TenantEnv, hs_payment_id: str) -> EventResult:
    pay_link = _pay_link_payment(env, hs_payment_id)
    if pay_link is not None:
        return pay_link
    touched = reconcile_payment(env, hs_payment_id, TransitionSource.WEBHOOK)
    return _reconciled(env, "payment", hs_payment_id, touched, ids.IdKind.PAYMENT)


def _pay_link_payment(env: TenantEnv, hs_payment_id: str) -> EventResult | None:
    """Pay-by-link (bridge/invoices): a payment the payor made on a link is recorded against its invoice.

    None for every other payment, which the reconciliation above handles.
    """
    from bridge.invoices.handlers import on_hyperswitch_payment  # imported here: it imports this package

    return on_hyperswitch_payment(env, hs_payment_id)


def _refund(env: TenantEnv, hs_refund_id: str) -> EventResult:
    touched = reconcile_refund(env, hs_refund_id, TransitionSource.WEBHOOK)
    return _reconciled(env, "refund", hs_refund_id, touched, ids.IdKind.REFUND)


def _payout(env: TenantEnv, hs_payout_id: str) -> EventResult:
    """A payout carries a credit (bridge/payments/payouts.py): re-read it and move the credit forward."""
    touched = reconcile_payout(env, hs_payout_id, TransitionSource.WEBHOOK)
    return _reconciled(env, "payout", hs_payout_id, touched, ids.IdKind.PAYOUT)


def _dispute(env: TenantEnv, hs_dispute_id: str) -> EventResult:
    return apply_dispute(env, hs_dispute_id)


def _mandate(env: TenantEnv, hs_mandate_id: str) -> EventResult:
    try:
        mandate = env.hyperswitch.mandates.retrieve(hs_mandate_id)
    except NotFoundError:
        return EventResult.skipped(f"Hyperswitch has no mandate {hs_mandate_id}")
    status = str(mandate.status)
    with session_scope(env.sessions) as session:
        methods = list(session.scalars(select(PaymentMethod).where(
            PaymentMethod.kb_tenant_id == env.tenant_id, PaymentMethod.hs_mandate_id == hs_mandate_id)))
        for method in methods:
            method.mandate_status = status
            if status in ("revoked", "inactive") and method.state is PaymentMethodState.ACTIVE:
                method.state = PaymentMethodState.UNUSABLE
    if not methods:
        return EventResult.skipped(f"mandate {hs_mandate_id} backs no Kill Bill payment method")
    return EventResult.processed(f"mandate {hs_mandate_id} is {status}: "
                                 f"{len(methods)} payment method(s) updated")
