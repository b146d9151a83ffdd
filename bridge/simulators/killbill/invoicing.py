"""Invoices and the invoice payment control plugin (``__INVOICE_PAYMENT_CONTROL_PLUGIN__``).

External charges make invoices; a COMMITTED invoice with a balance is auto-paid with the account's
default payment method (reference/killbill.md §B5) unless AUTO_PAY_OFF/MANUAL_PAY; payment outcomes
move the invoice balance (SUCCESS only), refunds and chargebacks reopen it. A failed automatic payment is
retried on Kill Bill's schedules (§A4). Invoices can be voided and their items adjusted; an overpaid
invoice turns the excess into account credit, which unpaid invoices use (Kill Bill's CBA).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from bridge.simulators.killbill import errors
from bridge.simulators.killbill.model import (
    CONTROL_TAGS,
    EXTERNAL_PAYMENT_PLUGIN,
    INVOICE_PAYMENT_CONTROL_PLUGIN,
    IPCD_INVOICE_ID,
    Account,
    Attempt,
    Invoice,
    InvoiceItem,
    InvoicePaymentRecord,
    Payment,
    PaymentMethod,
    Transaction,
    TxnStatus,
    TxnType,
    new_id,
)
from bridge.simulators.killbill.payments import TxnRequest, TxnResult, prop
from bridge.simulators.killbill.plugin import CallContext

if TYPE_CHECKING:
    from bridge.simulators.killbill.state import KillBillState


class InvoiceEngine:
    def __init__(self, state: KillBillState) -> None:
        self.state = state
        self._refund_adjustments: dict[str, tuple[bool, dict[UUID, Decimal]]] = {}

    # -- invoices -------------------------------------------------------------------------------
    def create_external_charges(self, account: Account, charges: list[dict[str, Any]], auto_commit: bool,
                                requested: date | None) -> list[InvoiceItem]:
        currency = account.currency or ""
        for charge in charges:
            if charge["amount"] is None or charge["amount"] <= 0:
                raise errors.charge_amount_invalid(charge["amount"])
            if charge.get("currency") not in (None, currency):
                raise errors.currency_invalid(currency, charge["currency"])
        with self.state.lock:
            invoice = self._new_invoice(account, requested or self.state.clock.now().date())
            for charge in charges:
                invoice.items.append(InvoiceItem(new_id(), invoice.id, account.id, "EXTERNAL_CHARGE", charge["amount"],
                                                 currency, charge.get("description"),
                                                 charge.get("startDate") or invoice.invoice_date, charge.get("endDate"),
                                                 item_details=charge.get("itemDetails")))
            self.state.invoices[invoice.id] = invoice
        if auto_commit:
            self.commit(invoice)
        return list(invoice.items)

    def _new_invoice(self, account: Account, invoice_date: date) -> Invoice:
        tenant = self.state.tenants[account.tenant_id]
        tenant.invoice_numbers += 1
        return Invoice(new_id(), account.tenant_id, account.id, tenant.invoice_numbers, invoice_date, invoice_date,
                       account.currency or "", "DRAFT")

    def commit(self, invoice: Invoice) -> None:
        """DRAFT → COMMITTED; INVOICE_CREATION; auto-pay runs on the bus, as Kill Bill's payment module does."""
        with self.state.lock:
            if invoice.status != "DRAFT":
                raise errors.invoice_status_invalid(invoice.id, "COMMITTED", invoice.status)
            invoice.status = "COMMITTED"
            self._rebalance_credit(invoice.account_id)
        self._announce(invoice)

    def _announce(self, invoice: Invoice) -> None:
        """What follows a commit: INVOICE_CREATION, and auto-pay on the bus."""
        self.state.post_event(invoice.tenant_id, "INVOICE_CREATION", "INVOICE", invoice.id, invoice.account_id)
        self.state.bus.submit(lambda: self.auto_pay(invoice))

    def billing_run(self, accounts: list[Account], amount: Decimal,
                    description: str | None) -> tuple[datetime, list[Invoice]]:
        """One COMMITTED invoice per account, each with one external charge of ``amount`` in the account's
        currency, all committed under one hold of the lock (a bill-cycle day's invoices at once); then, for each
        in turn, what a commit does: INVOICE_CREATION and auto-pay. Returns when they were committed, and them.
        The accounts' committed invoices are grouped in one pass, not one pass per account."""
        if amount <= 0:
            raise errors.charge_amount_invalid(amount)
        invoices: list[Invoice] = []
        with self.state.lock:
            today = self.state.clock.now().date()
            committed: dict[UUID, list[Invoice]] = {account.id: [] for account in accounts}
            for invoice in sorted(self.state.invoices.values(), key=lambda i: i.number):
                if invoice.account_id in committed and invoice.status == "COMMITTED":
                    committed[invoice.account_id].append(invoice)
            for account in accounts:
                invoice = self._new_invoice(account, today)
                invoice.items.append(InvoiceItem(new_id(), invoice.id, account.id, "EXTERNAL_CHARGE", amount,
                                                 invoice.currency, description, today))
                invoice.status = "COMMITTED"
                self.state.invoices[invoice.id] = invoice
                committed[account.id].append(invoice)
                self._rebalance_credit(account.id, committed[account.id])
                invoices.append(invoice)
            committed_at = self.state.clock.now()
        for invoice in invoices:
            self._announce(invoice)
        return committed_at, invoices

    def account_balance(self, account_id: UUID) -> Decimal:
        """What the account's invoices still owe (before its credit)."""
        with self.state.lock:
            return sum((i.balance for i in self.state.invoices.values() if i.account_id == account_id), Decimal(0))

    def account_credit(self, account_id: UUID) -> Decimal:
        """The account's CBA: credit generated by overpaid invoices less what invoices used."""
        with self.state.lock:
            return sum((i.credit_adj for i in self._committed(account_id)), Decimal(0))

    def _committed(self, account_id: UUID) -> list[Invoice]:
        return sorted((i for i in self.state.invoices.values()
                       if i.account_id == account_id and i.status == "COMMITTED"), key=lambda i: i.number)

    def _rebalance_credit(self, account_id: UUID, committed: list[Invoice] | None = None) -> None:
        """CbaDao#doCBAComplexity (state lock held): an invoice paid beyond its amount gets a positive CBA_ADJ
        item, the account's credit then pays unpaid invoices, oldest first, with negative ones. ``committed``:
        the account's committed invoices in number order, when the caller has them at hand."""
        invoices = self._committed(account_id) if committed is None else committed
        for invoice in invoices:
            if invoice.balance < 0:
                self._credit_item(invoice, -invoice.balance)
        for invoice in invoices:
            credit = sum((i.credit_adj for i in invoices), Decimal(0))  # account_credit, without another scan
            if credit <= 0:
                break
            if invoice.balance > 0:
                self._credit_item(invoice, -min(credit, invoice.balance))

    def _credit_item(self, invoice: Invoice, amount: Decimal) -> None:
        today = self.state.clock.now().date()
        invoice.items.append(InvoiceItem(new_id(), invoice.id, invoice.account_id, "CBA_ADJ", amount, invoice.currency,
                                         "Adjustment (account credit)", today, today))

    # -- voids and item adjustments --------------------------------------------------------------------
    def void(self, invoice: Invoice) -> None:
        """InvoiceUserApi#voidInvoice: not twice, not with money paid on it (refunded in full is fine); Kill Bill
        posts INVOICE_ADJUSTMENT for a void (killbill#1448)."""
        with self.state.lock:
            if invoice.status == "VOID":
                raise errors.invoice_status_invalid(invoice.id, "VOID", invoice.status)
            if invoice.paid != 0:
                raise errors.cannot_void_paid_invoice(invoice.id)
            invoice.status = "VOID"
            self._rebalance_credit(invoice.account_id)
        self.state.post_event(invoice.tenant_id, "INVOICE_ADJUSTMENT", "INVOICE", invoice.id, invoice.account_id)

    def adjust_item(self, invoice: Invoice, item_id: UUID, amount: Decimal | None, currency: str | None,
                    effective: date, description: str | None, item_details: str | None) -> InvoiceItem | None:
        """InvoiceUserApi#insertInvoiceItemAdjustment: an ITEM_ADJ of ``amount`` (all that is left of the item
        when None); None when nothing is left. A committed invoice's change posts INVOICE_ADJUSTMENT."""
        if amount is not None and amount <= 0:
            raise errors.adjustment_amount_not_positive(amount)
        with self.state.lock:
            if invoice.status == "VOID":
                raise errors.void_invoice_updated(invoice.id)
            if currency is not None and currency != invoice.currency:
                raise errors.currency_invalid(currency, invoice.currency)
            item = next((i for i in invoice.items if i.id == item_id), None)
            if item is None:
                raise errors.no_invoice_item(item_id)
            left = invoice.adjustable(item)
            if amount is not None and amount > left:
                raise errors.adjustment_amount_invalid(amount, left)
            value = left if amount is None else amount
            if value <= 0:
                return None
            adjustment = InvoiceItem(new_id(), invoice.id, invoice.account_id, "ITEM_ADJ", -value, invoice.currency,
                                     description, effective, effective, linked_item_id=item.id,
                                     item_details=item_details)
            invoice.items.append(adjustment)
            self._rebalance_credit(invoice.account_id)
            committed = invoice.status == "COMMITTED"
        if committed:
            self.state.post_event(invoice.tenant_id, "INVOICE_ADJUSTMENT", "INVOICE", invoice.id, invoice.account_id)
        return adjustment

    # -- paying an invoice ------------------------------------------------------------------------
    def auto_pay(self, invoice: Invoice) -> TxnResult | None:
        """PaymentBusEventHandler: a PURCHASE with the default payment method, isApiPayment=false."""
        account = self.state.accounts[invoice.account_id]
        return self.pay(account, invoice, account.payment_method_id, None, [], None, self._system_context(account),
                        is_api=False)

    def _system_context(self, account: Account) -> CallContext:
        return CallContext(account.tenant_id, account.id, "PaymentRequestProcessor", "INTERNAL", "SYSTEM", None, None,
                           self.state.clock.now())

    # -- retries (InvoicePaymentControlPluginApi#onFailureCall, PluginControlPaymentProcessor#retryPayment…) --
    def retry_date(self, payment: Payment, txn: Transaction, is_api: bool) -> datetime | None:
        """computeNextRetryDate: only automatic purchases are retried, by the status of the last purchase and
        how many purchases ended so; UNKNOWN never (the janitor follows it up)."""
        if is_api or txn.type != TxnType.PURCHASE:
            return None
        config, now = self.state.config, self.state.clock.now()
        purchases = [t for t in payment.transactions if t.type == TxnType.PURCHASE]
        last = purchases[-1].status
        retry = max(sum(1 for t in purchases if t.status == last) - 1, 0)
        if last == TxnStatus.PAYMENT_FAILURE:
            return now + config.payment_retries[retry] if retry < len(config.payment_retries) else None
        if last == TxnStatus.PLUGIN_FAILURE and retry < config.plugin_failure_retry_max_attempts:
            # start, start, start×m, start×m², … (the Java loop multiplies retry-1 times)
            return now + config.plugin_failure_retry_start * config.plugin_failure_retry_multiplier ** max(retry - 1, 0)
        return None

    def retry(self, payment: Payment, attempt: Attempt) -> None:
        """The retry notification fired: the RETRIED attempt runs again on the same payment with the same
        transaction external key and amount, automatic (isApiPayment=false); the control plugin decides anew
        (a paid, voided or AUTO_PAY_OFF invoice aborts it)."""
        account = self.state.accounts[payment.account_id]
        with self.state.account_lock(account.id):
            with self.state.lock:
                if attempt.retry_at is None or attempt.retry_at > self.state.clock.now():
                    return
                attempt.retry_at = None
                invoice = self._ipcd_invoice(attempt.plugin_properties, payment.tenant_id)
            to_pay = None if invoice is None else self._prior_call(account, invoice, attempt.payment_method_id,
                                                                    attempt.amount, is_api=False)
            if invoice is None or to_pay is None:
                with self.state.lock:
                    attempt.state_name = "ABORTED"
                return
            try:
                pm = self.state.payment_method(payment.tenant_id, payment.payment_method_id, include_deleted=True)
                req = TxnRequest(payment.tenant_id, account.id, pm, TxnType.PURCHASE, to_pay, invoice.currency,
                                 self._system_context(account), payment=payment,
                                 transaction_external_key=attempt.transaction_external_key,
                                 properties=list(attempt.plugin_properties), control_plugins=list(attempt.plugin_names),
                                 is_api=False, attempt=attempt)
                self.state.payments_engine.process(req)
            except errors.KillBillApiError:
                # Kill Bill logs the failed retry; nothing is scheduled after it.
                with self.state.lock:
                    attempt.state_name = "ABORTED"

    def pay(self, account: Account, invoice: Invoice, pm_id: UUID | None, amount: Decimal | None,
            properties: list[dict[str, Any]], payment_external_key: str | None, context: CallContext, *,
            is_api: bool, control_plugins: list[str] | None = None) -> TxnResult | None:
        """None when the control plugin aborts (the API then answers 204)."""
        with self.state.account_lock(account.id):
            to_pay = self._prior_call(account, invoice, pm_id, amount, is_api)
            if to_pay is None:
                return None
            pm = self.state.payment_method(invoice.tenant_id, pm_id)  # type: ignore[arg-type]
            key = str(new_id())
            with self.state.lock:
                # The INIT row first (two-phase): a payment whose completion is lost is still linked.
                self._record(invoice, None, "ATTEMPT", to_pay, "INIT", key)
            names = [INVOICE_PAYMENT_CONTROL_PLUGIN,
                     *[n for n in control_plugins or [] if n != INVOICE_PAYMENT_CONTROL_PLUGIN]]
            req = TxnRequest(invoice.tenant_id, account.id, pm, TxnType.PURCHASE, to_pay, invoice.currency, context,
                             payment_external_key=payment_external_key, transaction_external_key=key,
                             properties=[*properties, prop(IPCD_INVOICE_ID, invoice.id)], control_plugins=names,
                             is_api=is_api)
            return self.state.payments_engine.process(req)

    def _prior_call(self, account: Account, invoice: Invoice, pm_id: UUID | None, amount: Decimal | None,
                    is_api: bool) -> Decimal | None:
        """InvoicePaymentControlPluginApi#getPluginPurchaseResult: the amount to charge, or None to abort."""
        with self.state.lock:
            balance = invoice.balance
            if invoice.status != "COMMITTED" or balance <= 0:
                return None
            if is_api and amount is not None and amount > balance:
                raise errors.plugin_exception(f"Invalid amount '{amount}' for invoice '{invoice.id}': "
                                              f"invoice balance is = '{balance}'")
            if not is_api and self._auto_pay_off(account.id):
                return None
            if pm_id is None:
                self._invoice_payment_event(invoice, None, "ATTEMPT", amount or balance, None, failed=True)
                return None
            if self._has_unknown_payment(invoice):
                return None
            return balance if amount is None else min(amount, balance)

    def _auto_pay_off(self, account_id: UUID) -> bool:
        return any(CONTROL_TAGS[t.definition_id].auto_payment_off for t in self.state.account_tags(account_id)
                   if t.definition_id in CONTROL_TAGS)

    def _has_unknown_payment(self, invoice: Invoice) -> bool:
        cookies = {r.cookie_id for r in invoice.payments if r.kind == "ATTEMPT"}
        return any(t.status == TxnStatus.UNKNOWN and t.external_key in cookies
                   for p in self.state.payments.values() if p.account_id == invoice.account_id for t in p.transactions)

    def external_payment_method(self, account: Account) -> PaymentMethod:
        """createOrGetExternalPaymentMethod."""
        with self.state.lock:
            for pm in self.state.payment_methods.values():
                if pm.account_id == account.id and pm.active and pm.plugin_name == EXTERNAL_PAYMENT_PLUGIN:
                    return pm
            pm = PaymentMethod(new_id(), account.tenant_id, account.id, EXTERNAL_PAYMENT_PLUGIN, str(new_id()))
            self.state.payment_methods[pm.id] = pm
            return pm

    # -- refunds -------------------------------------------------------------------------------------
    def refund(self, payment: Payment, amount: Decimal, is_adjusted: bool, adjustments: dict[UUID, Decimal],
               key: str | None, properties: list[dict[str, Any]], context: CallContext) -> TxnResult:
        key = key or str(new_id())
        with self.state.lock:
            self._refund_adjustments[key] = (is_adjusted, adjustments)
            pm = self.state.payment_methods[payment.payment_method_id]
        req = TxnRequest(payment.tenant_id, payment.account_id, pm, TxnType.REFUND, amount,
                         self.state.accounts[payment.account_id].currency, context, payment=payment,
                         transaction_external_key=key, properties=properties,
                         control_plugins=[INVOICE_PAYMENT_CONTROL_PLUGIN])
        return self.state.payments_engine.process(req)

    # -- onSuccessCall / onFailureCall -------------------------------------------------------------------
    def on_completion(self, payment: Payment, txn: Transaction) -> None:
        handler = {TxnType.PURCHASE: self._purchase_done, TxnType.REFUND: self._refund_done,
                   TxnType.CHARGEBACK: self._chargeback_done}.get(txn.type)
        if handler is not None:
            handler(payment, txn)

    def _purchase_done(self, payment: Payment, txn: Transaction) -> None:
        with self.state.lock:
            found = self._find_record(payment.tenant_id, "ATTEMPT", txn.external_key)
            if found is None:
                found = self._record_from_property(payment, txn)
            if found is None or found[1].status == "SUCCESS":
                return  # only one successful purchase per payment
            invoice, record = found
            payment.invoice_id = invoice.id
            record.payment_id, record.amount = payment.id, txn.processed_amount or record.amount
            success = txn.status == TxnStatus.SUCCESS
            record.status = "SUCCESS" if success else "INIT"
        # A PENDING payment is reported as INVOICE_PAYMENT_FAILED too (beatrix TestInvoicePayment).
        self._invoice_payment_event(invoice, payment, "ATTEMPT", record.amount, txn, failed=not success)

    def _record_from_property(self, payment: Payment, txn: Transaction) -> tuple[Invoice, InvoicePaymentRecord] | None:
        """A purchase sent through /payments with the control plugin names its invoice in IPCD_INVOICE_ID."""
        invoice = self._ipcd_invoice(txn.properties, payment.tenant_id)
        if invoice is None:
            return None
        return invoice, self._record(invoice, payment.id, "ATTEMPT", txn.amount or Decimal(0), "INIT",
                                     txn.external_key)

    def _ipcd_invoice(self, properties: list[dict[str, Any]], tenant_id: UUID) -> Invoice | None:
        value = next((p.get("value") for p in properties if p.get("key") == IPCD_INVOICE_ID), None)
        invoice = self.state.invoices.get(UUID(str(value))) if value else None
        return invoice if invoice is not None and invoice.tenant_id == tenant_id else None

    def _refund_done(self, payment: Payment, txn: Transaction) -> None:
        with self.state.lock:
            is_adjusted, adjustments = self._refund_adjustments.pop(txn.external_key, (False, {}))
            invoice = self.state.invoices.get(payment.invoice_id) if payment.invoice_id else None
            if invoice is None:
                return
            success = txn.status == TxnStatus.SUCCESS
            amount = -(txn.processed_amount if success else txn.amount or Decimal(0))
            self._record(invoice, payment.id, "REFUND", amount, "SUCCESS" if success else "INIT", txn.external_key)
            if success and is_adjusted:
                self._adjust_items(invoice, adjustments, txn.processed_amount)
        self._invoice_payment_event(invoice, payment, "REFUND", amount, txn, failed=not success)
        if success and is_adjusted:
            self.state.post_event(invoice.tenant_id, "INVOICE_ADJUSTMENT", "INVOICE", invoice.id, invoice.account_id)

    def _adjust_items(self, invoice: Invoice, adjustments: dict[UUID, Decimal], total: Decimal) -> None:
        """ITEM_ADJ items; without an explicit split, the refund is spread over the items in order."""
        if not adjustments:
            remaining = total
            for item in [i for i in invoice.items if i.item_type == "EXTERNAL_CHARGE"]:
                take = min(remaining, item.amount)
                if take > 0:
                    adjustments[item.id] = take
                    remaining -= take
        for item_id, value in adjustments.items():
            invoice.items.append(InvoiceItem(new_id(), invoice.id, invoice.account_id, "ITEM_ADJ", -value,
                                             invoice.currency, "Invoice item adjustment",
                                             self.state.clock.now().date(), linked_item_id=item_id))

    def _chargeback_done(self, payment: Payment, txn: Transaction) -> None:
        with self.state.lock:
            invoice = self.state.invoices.get(payment.invoice_id) if payment.invoice_id else None
            if invoice is None:
                return
            if txn.status == TxnStatus.SUCCESS:
                record = self._record(invoice, payment.id, "CHARGED_BACK", -txn.processed_amount, "SUCCESS",
                                      txn.external_key)
                failed = False
            else:
                record = next((r for r in invoice.payments if r.kind == "CHARGED_BACK"
                               and r.cookie_id == txn.external_key and r.status == "SUCCESS"), None)
                if record is None:
                    return
                record.status = "REVERSED"  # the chargeback no longer counts: the invoice is paid again
                failed = True
        self._invoice_payment_event(invoice, payment, "CHARGED_BACK", record.amount, txn, failed=failed)

    # -- records and events ------------------------------------------------------------------------------
    def _record(self, invoice: Invoice, payment_id: UUID | None, kind: str, amount: Decimal, status: str,
                cookie: str | None) -> InvoicePaymentRecord:
        linked = next((r.id for r in invoice.payments if r.kind == "ATTEMPT" and r.payment_id == payment_id
                       and payment_id is not None), None) if kind != "ATTEMPT" else None
        record = InvoicePaymentRecord(new_id(), invoice.id, payment_id, None, kind, amount, invoice.currency,
                                      status, cookie, self.state.clock.now(), linked)
        invoice.payments.append(record)
        return record

    def _find_record(self, tenant_id: UUID, kind: str, cookie: str) -> tuple[Invoice, InvoicePaymentRecord] | None:
        for invoice in self.state.invoices.values():
            if invoice.tenant_id != tenant_id:
                continue
            for record in invoice.payments:
                if record.kind == kind and record.cookie_id == cookie:
                    return invoice, record
        return None

    def _invoice_payment_event(self, invoice: Invoice, payment: Payment | None, kind: str, amount: Decimal,
                               txn: Transaction | None, *, failed: bool) -> None:
        attempt = next((a for a in payment.attempts if txn and a.transaction_id == txn.id), None) if payment else None
        metadata = {"paymentId": payment and payment.id, "paymentAttemptId": attempt and attempt.id,
                    "invoicePaymentType": kind, "paymentDate": txn.effective_date if txn else self.state.clock.now(),
                    "amount": amount, "currency": invoice.currency, "linkedInvoicePaymentId": None,
                    "paymentCookieId": txn and txn.external_key, "processedCurrency": invoice.currency}
        event = "INVOICE_PAYMENT_FAILED" if failed else "INVOICE_PAYMENT_SUCCESS"
        self.state.post_event(invoice.tenant_id, event, "INVOICE", invoice.id, invoice.account_id, metadata)
