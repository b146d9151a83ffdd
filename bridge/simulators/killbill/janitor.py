"""The janitor (reference/killbill.md §A5): ask the plugin's getPaymentInfo about PENDING/UNKNOWN
transactions and settle them; also the on-the-fly refresh behind ``withPluginInfo=true``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from bridge.simulators.killbill import errors, plugin
from bridge.simulators.killbill.model import (
    EXTERNAL_PAYMENT_PLUGIN,
    INCOMPLETE_STATUSES,
    PLUGIN_STATUS_TO_TXN_STATUS,
    Payment,
    Transaction,
    TxnStatus,
)
from bridge.simulators.killbill.payments import readable_ptip

if TYPE_CHECKING:
    from bridge.simulators.killbill.state import KillBillState


class PluginInfoError(Exception):
    """getPaymentInfo failed; ``api_error`` is what a GET withPluginInfo answers."""

    def __init__(self, api_error: errors.KillBillApiError) -> None:
        super().__init__(api_error.message)
        self.api_error = api_error


class Janitor:
    def __init__(self, state: KillBillState) -> None:
        self.state = state

    # -- scheduling (called with the state lock held) -------------------------------------------------
    def schedule(self, txn: Transaction) -> None:
        """Next check = time the status began + the schedule's delays so far; None once exhausted."""
        if txn.status not in INCOMPLETE_STATUSES:
            txn.next_janitor_at = None
            return
        config = self.state.config
        delays = config.janitor_pending_retries if txn.status == TxnStatus.PENDING else config.janitor_unknown_retries
        if txn.janitor_attempts >= len(delays):
            txn.next_janitor_at = None
            return
        since = txn.status_since or self.state.clock.now()
        txn.next_janitor_at = since + sum(delays[:txn.janitor_attempts + 1], timedelta(0))

    # -- the janitor run -------------------------------------------------------------------------------
    def run(self, *, due_only: bool = False) -> list[dict[str, Any]]:
        now = self.state.clock.now()
        with self.state.lock:
            work = [(p, t) for p in self.state.payments.values() for t in p.transactions
                    if t.status in INCOMPLETE_STATUSES and (not due_only or _is_due(t, now))]
        return [self.check(payment, txn) for payment, txn in work]

    def check(self, payment: Payment, txn: Transaction) -> dict[str, Any]:
        with self.state.account_lock(payment.account_id):
            before = txn.status
            if before not in INCOMPLETE_STATUSES:
                return _report(txn, before, changed=False)
            try:
                infos = self.fetch(payment)
            except PluginInfoError:
                infos = {}
            changed = self._settle(payment, txn, infos.get(txn.id, {"status": "UNDEFINED"}))
            if not changed:
                with self.state.lock:
                    txn.janitor_attempts += 1
                    self.schedule(txn)
            return _report(txn, before, changed)

    # -- the on-the-fly janitor ----------------------------------------------------------------------
    def refresh(self, payment: Payment, *, raise_errors: bool = False) -> dict[UUID, dict[str, Any]]:
        """getPaymentInfo for the payment; settle its incomplete transactions; return the plugin rows."""
        with self.state.account_lock(payment.account_id):
            try:
                infos = self.fetch(payment)
            except PluginInfoError:
                if raise_errors:
                    raise
                return {}
            for txn in list(payment.transactions):
                if txn.status in INCOMPLETE_STATUSES and txn.id in infos:
                    self._settle(payment, txn, infos[txn.id])
            return infos

    def _settle(self, payment: Payment, txn: Transaction, info: dict[str, Any]) -> bool:
        status = PLUGIN_STATUS_TO_TXN_STATUS.get(str(info.get("status")), TxnStatus.UNKNOWN)
        if status == TxnStatus.UNKNOWN or status == txn.status:
            return False
        engine = self.state.payments_engine
        engine.record_result(payment, txn, info)
        # The janitor carries the original call's isApiPayment, so an automatic payment can still be retried.
        engine.finish_attempt(payment, txn, engine.attempt_plugins(payment, txn),
                              is_api=engine.attempt_is_api(payment, txn))
        return True

    def fetch(self, payment: Payment) -> dict[UUID, dict[str, Any]]:
        """The plugin's PaymentTransactionInfoPlugin rows by kbTransactionPaymentId ({} for built-in plugins)."""
        with self.state.lock:
            pm = self.state.payment_methods[payment.payment_method_id]
            endpoint = self.state.tenants[payment.tenant_id].plugins.get(pm.plugin_name)
        if pm.plugin_name == EXTERNAL_PAYMENT_PLUGIN:
            return {}
        if endpoint is None:
            raise PluginInfoError(errors.no_such_plugin(pm.plugin_name))
        params = {"kbAccountId": payment.account_id, "kbPaymentId": payment.id, "properties": [],
                  "context": {"tenantId": str(payment.tenant_id), "accountId": str(payment.account_id)}}
        outcome = self.state.plugins.call(endpoint, pm.plugin_name, "getPaymentInfo", params,
                                          self.state.config.plugin_timeout)
        if outcome.kind == plugin.TIMEOUT:
            raise PluginInfoError(errors.plugin_timeout(payment.account_id, pm.plugin_name))
        if outcome.kind != plugin.OK or not isinstance(outcome.value, list):
            reason = outcome.error_message or "getPaymentInfo did not return a list"
            raise PluginInfoError(errors.plugin_get_payment_info(payment.id, reason))
        # A row the forwarding plugin could not read counts as missing: UNDEFINED.
        return {_uuid(row.get("kbTransactionPaymentId")): row for row in outcome.value
                if isinstance(row, dict) and _uuid(row.get("kbTransactionPaymentId")) is not None
                and readable_ptip(row)}


def _is_due(txn: Transaction, now: datetime) -> bool:
    return txn.next_janitor_at is not None and txn.next_janitor_at <= now


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


def _report(txn: Transaction, before: TxnStatus, changed: bool) -> dict[str, Any]:
    return {"paymentId": str(txn.payment_id), "transactionId": str(txn.id), "from": before.value,
            "to": txn.status.value, "changed": changed}
