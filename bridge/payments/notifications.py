"""processNotification: a Hyperswitch webhook relayed by Kill Bill, treated as a hint.

Kill Bill drops the signature header on the way, so nothing in the body is trusted: the objects it
names are re-read from Hyperswitch with the tenant's own key and reconciled like any webhook.
"""

from __future__ import annotations

import logging

from bridge.db.payments import TransitionSource
from bridge.payments.killbill_sync import schedule_sync
from bridge.payments.reconcile import reconcile_payment, reconcile_refund
from bridge.plugin_api import models as m
from bridge.tenancy.env import TenantEnv
from hyperswitch_client import InvalidWebhookError, parse_event

log = logging.getLogger(__name__)


def _answer(status: int, entity: str, kb_payment_id: str | None = None) -> m.GatewayNotification:
    return m.GatewayNotification(kbPaymentId=kb_payment_id, status=status, entity=entity,
                                 headers={"Content-Type": ["text/plain"]})


def process_notification(env: TenantEnv, call: m.ProcessNotificationCall) -> m.GatewayNotification:
    try:
        event = parse_event(call.notification.encode())
    except InvalidWebhookError as exc:
        return _answer(400, f"not a Hyperswitch webhook: {exc}")
    if event.merchant_id != env.creds.hs_merchant_id:
        log.warning("notification for merchant %s reached tenant %s", event.merchant_id, env.tenant_id)
        return _answer(400, "the notification belongs to another merchant")
    if event.refund_id:
        touched = reconcile_refund(env, event.refund_id, TransitionSource.NOTIFICATION)
    elif event.payment_id:
        touched = reconcile_payment(env, event.payment_id, TransitionSource.NOTIFICATION)
    elif event.payout_id:  # a credit paid out (bridge/payments/payouts.py)
        from bridge.payments.payouts import reconcile_payout

        touched = reconcile_payout(env, event.payout_id, TransitionSource.NOTIFICATION)
    else:
        touched = []
    if not touched:
        return _answer(200, f"event {event.event_id}: no Kill Bill transaction is carried by it")
    schedule_sync(env, touched)
    return _answer(200, f"event {event.event_id}: reconciled", touched[0].kb_payment_id)
