"""Invoice payments: paying an invoice, and the invoice-aware refund, completion and chargeback calls.

These go through Kill Bill's invoice payment control plugin, so the invoice balance follows the payment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from killbill_client.models import (
    InvoicePayment,
    InvoicePaymentTransaction,
    PaymentTransaction,
    TransactionType,
)
from killbill_client.models.base import PluginProperties, properties_to_query
from killbill_client.service import Service
from killbill_client.transport import paths

_READ_BACK = {"withPluginInfo": False, "withAttempts": True}


class InvoicePaymentService(Service):
    def pay_invoice(self, invoice_id: UUID, account_id: UUID, *, amount: Decimal | None = None,
                    payment_method_id: UUID | None = None, payment_external_key: str | None = None,
                    external_payment: bool = False, plugin_properties: PluginProperties = None,
                    control_plugin_names: Iterable[str] = (), reason: str | None = None,
                    comment: str | None = None) -> InvoicePayment | None:
        """``POST /invoices/{id}/payments``; None when Kill Bill answers 204 (nothing to pay, or aborted).

        ``amount`` None pays the balance; ``payment_method_id`` None uses the account default.
        ``plugin_properties`` (e.g. ``{"hsPaymentId": ...}``) reach the payment plugin's ``props``.
        A declined invoice payment still answers 201: read the transaction status.
        """
        body = InvoicePayment(account_id=account_id, purchased_amount=amount, payment_method_id=payment_method_id,
                              payment_external_key=payment_external_key, target_invoice_id=invoice_id).to_wire()
        query = {"externalPayment": external_payment, "controlPluginName": list(control_plugin_names),
                 "pluginProperty": properties_to_query(plugin_properties)}
        response, data = self._transport.create("POST", paths("invoices", invoice_id, "payments"), query=query,
                                                body=body, reason=reason, comment=comment, follow_query=_READ_BACK)
        return None if response.status_code == 204 else self._parse(InvoicePayment, data)

    def get(self, payment_id: UUID, *, with_plugin_info: bool = False, with_attempts: bool = False,
            plugin_properties: PluginProperties = None) -> InvoicePayment:
        query = {"withPluginInfo": with_plugin_info, "withAttempts": with_attempts,
                 "pluginProperty": properties_to_query(plugin_properties)}
        return self._parse(InvoicePayment, self._transport.get_json(paths("invoicePayments", payment_id), query))

    def list_for_invoice(self, invoice_id: UUID, *, with_plugin_info: bool = False,
                         with_attempts: bool = False) -> list[InvoicePayment]:
        query = {"withPluginInfo": with_plugin_info, "withAttempts": with_attempts}
        data = self._transport.get_json(paths("invoices", invoice_id, "payments"), query)
        return self._parse_list(InvoicePayment, data)

    def list_for_account(self, account_id: UUID, *, with_plugin_info: bool = False,
                         with_attempts: bool = False) -> list[InvoicePayment]:
        query = {"withPluginInfo": with_plugin_info, "withAttempts": with_attempts}
        data = self._transport.get_json(paths("accounts", account_id, "invoicePayments"), query)
        return self._parse_list(InvoicePayment, data)

    def refund(self, payment_id: UUID, amount: Decimal, *, is_adjusted: bool = False,
               adjustments: Mapping[UUID, Decimal] | None = None, transaction_external_key: str | None = None,
               plugin_properties: PluginProperties = None, reason: str | None = None,
               comment: str | None = None) -> InvoicePayment:
        """Refund, optionally adjusting invoice items (``{invoiceItemId: amount}``) so the balance stays 0."""
        body = {**InvoicePaymentTransaction(amount=amount, is_adjusted=is_adjusted,
                                            transaction_external_key=transaction_external_key).to_wire()}
        if adjustments:
            body["adjustments"] = [{"invoiceItemId": item_id, "accountId": None, "amount": value}
                                   for item_id, value in adjustments.items()]
        query = {"pluginProperty": properties_to_query(plugin_properties)}
        _, data = self._transport.create("POST", paths("invoicePayments", payment_id, "refunds"), query=query,
                                         body=body, reason=reason, comment=comment)
        return self._parse(InvoicePayment, data)

    def complete(self, payment_id: UUID, *, transaction_id: UUID | None = None,
                 transaction_external_key: str | None = None, amount: Decimal | None = None,
                 plugin_properties: PluginProperties = None, control_plugin_names: Iterable[str] = (),
                 reason: str | None = None, comment: str | None = None) -> None:
        """Re-run a PENDING invoice purchase: Kill Bill calls the plugin again with the same transaction id."""
        body = PaymentTransaction(transaction_id=transaction_id, transaction_external_key=transaction_external_key,
                                  transaction_type=TransactionType.PURCHASE, amount=amount).to_wire()
        query = {"controlPluginName": list(control_plugin_names),
                 "pluginProperty": properties_to_query(plugin_properties)}
        self._transport.write("PUT", paths("invoicePayments", payment_id), query=query, body=body, reason=reason,
                              comment=comment)

    def chargeback(self, payment_id: UUID, amount: Decimal, *, currency: str | None = None,
                   transaction_external_key: str | None = None, effective_date: datetime | None = None,
                   reason: str | None = None, comment: str | None = None) -> InvoicePayment:
        """Record a chargeback; the invoice balance reopens. The payment plugin is not called."""
        body = InvoicePaymentTransaction(amount=amount, currency=currency, effective_date=effective_date,
                                         transaction_external_key=transaction_external_key).to_wire()
        _, data = self._transport.create("POST", paths("invoicePayments", payment_id, "chargebacks"), body=body,
                                         reason=reason, comment=comment)
        return self._parse(InvoicePayment, data)

    def chargeback_reversal(self, payment_id: UUID, chargeback_external_key: str, *,
                            effective_date: datetime | None = None, reason: str | None = None,
                            comment: str | None = None) -> InvoicePayment:
        """Reverse the chargeback with that transaction external key; the invoice is paid again."""
        body = InvoicePaymentTransaction(transaction_external_key=chargeback_external_key,
                                         effective_date=effective_date).to_wire()
        _, data = self._transport.create("POST", paths("invoicePayments", payment_id, "chargebackReversals"),
                                         body=body, reason=reason, comment=comment)
        return self._parse(InvoicePayment, data)
