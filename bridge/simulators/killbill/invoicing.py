"""Invoices and the invoice payment control plugin (``__INVOICE_PAYMENT_CONTROL_PLUGIN__``).

External charges make invoices; a COMMITTED invoice with a balance is auto-paid with the account's
default payment method (reference/killbill.md §B5) unless AUTO_PAY_OFF/MANUAL_PAY; payment outcomes
move the invoice balance (SUCCESS only), refunds and chargebacks reopen it.
"""

from __future__ import annotations

from datetime import date
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
        self.state.post_event(invoice.tenant_id, "INVOICE_CREATION", "INVOICE", invoice.id, invoice.account_id)
        self.state.bus.submit(lambda: self.auto_pay(invoice))

    def account_balance(self, account_id: UUID) -> Decimal:
        with self.state.lock:
            return sum((i.balance for i in self.state.invoices.values() if i.account_id == account_id), Decimal(0))

    # -- paying an invoice ------------------------------------------------------------------------
    def auto_pay(self, invoice: Invoice) -> TxnResult | None:
        """PaymentBusEventHandler: a PURCHASE with the default payment method, isApiPayment=false."""
        account = self.state.accounts[invoice.account_id]
        context = CallContext(invoice.tenant_id, account.id, "PaymentRequestProcessor", "INTERNAL", "SYSTEM",
                              None, None, self.state.clock.now())
        return self.pay(account, invoice, account.payment_method_id, None, [], None, context, is_api=False)

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
        value = next((p.get("value") for p in txn.properties if p.get("key") == IPCD_INVOICE_ID), None)
        invoice = self.state.invoices.get(UUID(value)) if value else None
        if invoice is None or invoice.tenant_id != payment.tenant_id:
            return None
        return invoice, self._record(invoice, payment.id, "ATTEMPT", txn.amount or Decimal(0), "INIT",
                                     txn.external_key)

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
