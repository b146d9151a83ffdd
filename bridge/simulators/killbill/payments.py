"""Payment transactions: the state machine, the plugin call and what Kill Bill does with its answer
(reference/killbill.md §A3), notifyStateChanged (§B4) and chargebacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from bridge.simulators.killbill import errors, plugin
from bridge.simulators.killbill.model import (
    ALLOWED_FROM_STATE,
    EXTERNAL_PAYMENT_PLUGIN,
    INCOMPLETE_STATUSES,
    INVOICE_PAYMENT_CONTROL_PLUGIN,
    PLUGIN_STATUS_TO_TXN_STATUS,
    Attempt,
    Payment,
    PaymentMethod,
    Transaction,
    TxnStatus,
    TxnType,
    new_id,
    state_name,
)
from bridge.simulators.killbill.plugin import CallContext, PluginOutcome
from bridge.simulators.killbill.wire import to_decimal

if TYPE_CHECKING:
    from bridge.simulators.killbill.state import KillBillState

PLUGIN_OPERATIONS = {TxnType.AUTHORIZE: "authorizePayment", TxnType.CAPTURE: "capturePayment",
                     TxnType.PURCHASE: "purchasePayment", TxnType.VOID: "voidPayment",
                     TxnType.CREDIT: "creditPayment", TxnType.REFUND: "refundPayment"}


@dataclass
class TxnRequest:
    tenant_id: UUID
    account_id: UUID
    payment_method: PaymentMethod
    txn_type: TxnType
    amount: Decimal | None
    currency: str | None
    context: CallContext
    payment: Payment | None = None
    payment_external_key: str | None = None
    transaction_external_key: str | None = None
    properties: list[dict[str, Any]] = field(default_factory=list)
    control_plugins: list[str] = field(default_factory=list)
    is_api: bool = True
    # A RETRIED attempt that runs again (a retry reuses its attempt row).
    attempt: Attempt | None = None


@dataclass
class TxnResult:
    payment: Payment
    transaction: Transaction
    # Set when Kill Bill's API call itself fails (plugin exception, plugin timeout).
    error: errors.KillBillApiError | None = None


def readable_ptip(info: dict[str, Any]) -> bool:
    """The forwarding plugin could not deserialise a PTIP whose amount is not a number."""
    try:
        to_decimal(info.get("amount"))
    except ValueError:
        return False
    return True


def prop(key: str, value: Any) -> dict[str, Any]:
    return {"key": key, "value": None if value is None else str(value), "isUpdatable": False}


class PaymentEngine:
    def __init__(self, state: KillBillState) -> None:
        self.state = state

    # -- new transactions -------------------------------------------------------------------------
    def process(self, req: TxnRequest) -> TxnResult:
        with self.state.account_lock(req.account_id):
            self._check_plugin(req.tenant_id, req.payment_method)
            if req.payment is not None and req.txn_type != TxnType.CHARGEBACK:
                self.state.janitor.refresh(req.payment)
            payment, txn, attempt = self._open(req)
            outcome = self._call_plugin(req.payment_method, payment, txn, req.properties, req.context)
            error = self._apply(payment, txn, outcome, req.payment_method.plugin_name)
            if attempt is not None:
                self.finish_attempt(payment, txn, attempt.plugin_names, is_api=req.is_api)
            return TxnResult(payment, txn, error)

    def _open(self, req: TxnRequest) -> tuple[Payment, Transaction, Attempt | None]:
        now = self.state.clock.now()
        with self.state.lock:
            payment = req.payment or self._by_external_key(req) or self._new_payment(req)
            if req.txn_type not in ALLOWED_FROM_STATE.get(payment.last_success_state, frozenset()):
                raise errors.invalid_operation(req.txn_type.value, payment.state_name or "BIG_BANG_INIT")
            txn_id = new_id()
            key = req.transaction_external_key or str(txn_id)
            self._check_key_free(req.tenant_id, key)
            txn = Transaction(txn_id, payment.id, key, req.txn_type, req.amount, req.currency, now,
                              properties=list(req.properties), status_since=now)
            payment.transactions.append(txn)
            self.state.payments[payment.id] = payment
            attempt = req.attempt or (self._new_attempt(req, payment, txn) if req.control_plugins else None)
            if attempt is not None:
                attempt.transaction_id, attempt.amount = txn.id, txn.amount
            return payment, txn, attempt

    def _by_external_key(self, req: TxnRequest) -> Payment | None:
        """Kill Bill continues the payment that has this external key (PaymentAutomatonRunner
        #retrievePaymentId): the state machine then decides, e.g. no second purchase on a paid one."""
        if req.payment_external_key is None:
            return None
        payment = next((p for p in self.state.payments.values() if p.tenant_id == req.tenant_id
                        and p.external_key == req.payment_external_key), None)
        if payment is not None and payment.account_id != req.account_id:
            raise errors.invalid_parameter("paymentExternalKey", req.payment_external_key)
        return payment

    def _new_payment(self, req: TxnRequest) -> Payment:
        tenant = self.state.tenants[req.tenant_id]
        tenant.payment_numbers += 1
        payment_id = new_id()
        return Payment(payment_id, req.tenant_id, req.account_id, req.payment_method.id, tenant.payment_numbers,
                       req.payment_external_key or str(payment_id))

    def _check_key_free(self, tenant_id: UUID, key: str) -> None:
        for payment in self.state.payments.values():
            if payment.tenant_id == tenant_id and any(
                    t.external_key == key and t.status == TxnStatus.SUCCESS for t in payment.transactions):
                raise errors.transaction_key_exists(key)

    def _new_attempt(self, req: TxnRequest, payment: Payment, txn: Transaction) -> Attempt:
        attempt = Attempt(new_id(), req.account_id, req.payment_method.id, payment.external_key, txn.id,
                          txn.external_key, txn.type, txn.effective_date, txn.amount, txn.currency,
                          list(req.control_plugins), list(req.properties), req.is_api)
        payment.attempts.append(attempt)
        return attempt

    def finish_attempt(self, payment: Payment, txn: Transaction, control_plugins: list[str], *,
                       is_api: bool = True) -> None:
        """The control plugins' onSuccessCall/onFailureCall: close the attempt (RETRIED when the invoice
        control plugin gives a retry date, the retry then queued), update the invoice. ``is_api`` is the
        nature of the call that settled the transaction (the janitor carries the original call's)."""
        if not control_plugins:
            return
        retry_at = None
        with self.state.lock:
            attempt = next((a for a in payment.attempts if a.transaction_id == txn.id), None)
            # UNKNOWN leaves the attempt as it is until the janitor settles the transaction.
            if attempt is not None and txn.status != TxnStatus.UNKNOWN:
                # RetryStates.xml: SUCCESS covers PENDING too; a failure with a retry date is RETRIED.
                ok = txn.status in (TxnStatus.SUCCESS, TxnStatus.PENDING)
                if not ok and INVOICE_PAYMENT_CONTROL_PLUGIN in control_plugins:
                    retry_at = self.state.invoices_engine.retry_date(payment, txn, is_api)
                attempt.state_name = "SUCCESS" if ok else "RETRIED" if retry_at else "ABORTED"
                attempt.retry_at = retry_at
        if attempt is not None and retry_at is not None:
            retried = attempt
            self.state.bus.submit(lambda: self.state.invoices_engine.retry(payment, retried), at=retry_at)
        if INVOICE_PAYMENT_CONTROL_PLUGIN in control_plugins:
            self.state.invoices_engine.on_completion(payment, txn)

    @staticmethod
    def attempt_is_api(payment: Payment, txn: Transaction) -> bool:
        attempt = next((a for a in payment.attempts if a.transaction_id == txn.id), None)
        return attempt.is_api if attempt is not None else True

    # -- completion of a PENDING transaction (same kbTransactionId, the plugin is called again) --------
    def complete(self, payment: Payment, txn: Transaction, payment_method: PaymentMethod,
                 properties: list[dict[str, Any]], context: CallContext) -> TxnResult:
        with self.state.account_lock(payment.account_id):
            self.state.janitor.refresh(payment)
            if txn.status == TxnStatus.SUCCESS:
                return TxnResult(payment, txn)
            outcome = self._call_plugin(payment_method, payment, txn, properties, context)
            error = self._apply(payment, txn, outcome, payment_method.plugin_name)
            self.finish_attempt(payment, txn, self.attempt_plugins(payment, txn))  # a completion is an API call
            return TxnResult(payment, txn, error)

    @staticmethod
    def attempt_plugins(payment: Payment, txn: Transaction) -> list[str]:
        attempt = next((a for a in payment.attempts if a.transaction_id == txn.id), None)
        return attempt.plugin_names if attempt is not None else []

    # -- the plugin call ----------------------------------------------------------------------------
    def _check_plugin(self, tenant_id: UUID, pm: PaymentMethod) -> None:
        """PAYMENT_NO_SUCH_PAYMENT_PLUGIN before any row is written."""
        if pm.plugin_name != EXTERNAL_PAYMENT_PLUGIN and pm.plugin_name not in self.state.tenants[tenant_id].plugins:
            raise errors.no_such_plugin(pm.plugin_name)

    def _call_plugin(self, pm: PaymentMethod, payment: Payment, txn: Transaction,
                     properties: list[dict[str, Any]], context: CallContext) -> PluginOutcome:
        if txn.type == TxnType.CHARGEBACK or pm.plugin_name == EXTERNAL_PAYMENT_PLUGIN:
            return PluginOutcome(plugin.OK, {"status": "PROCESSED"})
        endpoint = self.state.tenants[payment.tenant_id].plugins.get(pm.plugin_name)
        if endpoint is None:
            raise errors.no_such_plugin(pm.plugin_name)
        params: dict[str, Any] = {"kbAccountId": payment.account_id, "kbPaymentId": payment.id,
                                  "kbTransactionId": txn.id, "kbPaymentMethodId": pm.id}
        if txn.type != TxnType.VOID:
            params.update(amount=txn.amount, currency=txn.currency)
        params.update(properties=properties, context=context.to_json())
        return self.state.plugins.call(endpoint, pm.plugin_name, PLUGIN_OPERATIONS[txn.type], params,
                                       self.state.config.plugin_timeout)

    def _apply(self, payment: Payment, txn: Transaction, outcome: PluginOutcome,
               plugin_name: str) -> errors.KillBillApiError | None:
        """Turn the plugin's answer into the transaction status; return the API error, if any."""
        error: errors.KillBillApiError | None = None
        info: dict[str, Any] = {}
        if outcome.kind == plugin.OK and isinstance(outcome.value, dict) and readable_ptip(outcome.value):
            info = outcome.value
        elif outcome.kind == plugin.OK and isinstance(outcome.value, dict):
            error = errors.plugin_exception(f"unreadable PaymentTransactionInfoPlugin amount: "
                                            f"{outcome.value.get('amount')!r}")
        elif outcome.kind == plugin.UNREACHABLE:
            # The forwarding plugin knows the sidecar never got the request: CANCELED.
            info = {"status": "CANCELED", "gatewayError": outcome.error_message}
        elif outcome.kind == plugin.TIMEOUT:
            error = errors.plugin_timeout(payment.account_id, plugin_name)
        elif outcome.kind == plugin.PLUGIN_ERROR or outcome.kind == plugin.OK:
            error = errors.plugin_exception(outcome.error_message or "Payment plugin returned a null result")
        self.record_result(payment, txn, info)
        return error

    def record_result(self, payment: Payment, txn: Transaction, info: dict[str, Any]) -> None:
        """PaymentTransactionInfoPlugin → transaction row, payment state, bus event (reference §A3)."""
        status = PLUGIN_STATUS_TO_TXN_STATUS.get(str(info.get("status")), TxnStatus.UNKNOWN)
        with self.state.lock:
            self._set_status(payment, txn, status)
            if status in (TxnStatus.SUCCESS, TxnStatus.PENDING):
                amount = to_decimal(info.get("amount"))
                txn.processed_amount = amount if amount is not None else (txn.amount or Decimal(0))
                txn.processed_currency = info.get("currency") or txn.currency
            else:
                txn.processed_amount, txn.processed_currency = Decimal(0), txn.currency
            txn.gateway_error_code = info.get("gatewayErrorCode")
            txn.gateway_error_msg = info.get("gatewayError")
        self.post_payment_event(payment, txn)

    def _set_status(self, payment: Payment, txn: Transaction, status: TxnStatus) -> None:
        if status != txn.status or txn.next_janitor_at is None:
            txn.status_since = self.state.clock.now()
            txn.janitor_attempts = 0
        txn.status = status
        payment.state_name = state_name(txn.type, status)
        if status == TxnStatus.SUCCESS:
            payment.last_success_state = payment.state_name
        self.state.janitor.schedule(txn)

    def post_payment_event(self, payment: Payment, txn: Transaction) -> None:
        ok = txn.status in (TxnStatus.SUCCESS, TxnStatus.PENDING)
        metadata = {"paymentTransactionId": txn.id, "amount": txn.amount, "currency": txn.currency,
                    "status": txn.status.value, "transactionType": txn.type.value, "effectiveDate": txn.effective_date}
        self.state.post_event(payment.tenant_id, "PAYMENT_SUCCESS" if ok else "PAYMENT_FAILED", "PAYMENT",
                              payment.id, payment.account_id, metadata)

    # -- notifyStateChanged: only a PENDING transaction, the plugin is not called (reference §B4) ----------
    def notify_state_changed(self, payment: Payment, txn: Transaction, success: bool,
                             control_plugins: list[str]) -> None:
        """Without control plugins only the transaction changes; the invoice control plugin also pays
        (or fails) the invoice."""
        with self.state.account_lock(payment.account_id):
            with self.state.lock:
                if txn.status != TxnStatus.PENDING:
                    raise errors.not_pending(payment.id)
            info = {"status": "PROCESSED", "amount": txn.amount} if success else {"status": "ERROR"}
            self.record_result(payment, txn, info)
            self.finish_attempt(payment, txn, control_plugins)

    # -- chargebacks: the payment plugin is never called --------------------------------------------
    def chargeback_reversal(self, payment: Payment, key: str) -> Transaction:
        """A new CHARGEBACK transaction with the chargeback's key, amount null, status PAYMENT_FAILURE."""
        with self.state.account_lock(payment.account_id):
            with self.state.lock:
                if not any(t.type == TxnType.CHARGEBACK and t.external_key == key and t.status == TxnStatus.SUCCESS
                           for t in payment.transactions):
                    raise errors.invalid_parameter("chargebackTransactionExternalKey", key)
                txn = Transaction(new_id(), payment.id, key, TxnType.CHARGEBACK, None, None, self.state.clock.now())
                payment.transactions.append(txn)
                self._set_status(payment, txn, TxnStatus.PAYMENT_FAILURE)
                payment.last_success_state = "CHARGEBACK_FAILED"
            self.post_payment_event(payment, txn)
            return txn

    def is_incomplete(self, txn: Transaction) -> bool:
        return txn.status in INCOMPLETE_STATUSES
