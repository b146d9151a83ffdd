"""The sweeper: transactions still PENDING or UNDEFINED past the tenant's age are re-read from
Hyperswitch and reconciled, so a lost webhook, or a Kill Bill janitor that gave up after its last
retry, never leaves a payment stuck."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bridge.db.engine import session_scope
from bridge.db.payments import Transaction, TransitionSource
from bridge.db.tenancy import Tenant
from bridge.jobs import JobContext
from bridge.payments import service
from bridge.payments.killbill_sync import schedule_sync
from bridge.payments.status import PluginStatus

log = logging.getLogger(__name__)

SWEEP_JOB = "reconcile.sweep"
SWEEP_EVERY_SECONDS = 300
BATCH = 500


def stale_transactions(env: Any, older_than: timedelta) -> list[int]:
    now = env.now()
    with session_scope(env.sessions) as session:
        return list(session.scalars(select(Transaction.id).where(
            Transaction.kb_tenant_id == env.tenant_id,
            Transaction.status.in_((PluginStatus.PENDING, PluginStatus.UNDEFINED)),
            Transaction.updated_at < now - older_than,
            (Transaction.in_flight_until.is_(None)) | (Transaction.in_flight_until < now),
        ).order_by(Transaction.updated_at).limit(BATCH)))


def sweep_tenant(env: Any) -> int:
    """Reconcile one tenant's stale transactions; returns how many were re-read."""
    older_than = timedelta(minutes=env.settings.reconciliation.stale_after_minutes)
    stale = stale_transactions(env, older_than)
    for txn_id in stale:
        txn = service.refresh(env, txn_id, TransitionSource.SWEEPER)
        schedule_sync(env, [txn])
    return len(stale)


def sweep(ctx: JobContext, payload: dict[str, Any]) -> None:
    runtime = ctx.services
    with session_scope(runtime.sessions) as session:
        tenant_ids = list(session.scalars(select(Tenant.kb_tenant_id)))
    for tenant_id in tenant_ids:
        count = sweep_tenant(runtime.tenant_env(tenant_id))
        if count:
            log.info("sweeper: re-read %d stale transaction(s) of tenant %s", count, tenant_id)
