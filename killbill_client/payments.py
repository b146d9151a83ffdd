"""Payments not tied to an invoice: create, read (with plugin info), capture, refund, void, complete,
chargebacks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from killbill_client.errors import PaymentDeclinedError
from killbill_client.models import Payment, PaymentTransaction, TransactionType
from killbill_client.models.base import PluginProperties, properties_to_query
from killbill_client.pagination import Page
from killbill_client.service import Service
from killbill_client.transport import paths


def _write_query(plugin_properties: PluginProperties, control_plugin_names: Iterable[str]) -> dict:
    return {"controlPluginName": list(control_plugin_names),
            "pluginProperty": properties_to_query(plugin_properties)}


class PaymentService(Service):
    # -- reads --------------------------------------------------------------------------------
    def get(self, payment_id: UUID, *, with_plugin_info: bool = False, with_attempts: bool = False,
            plugin_properties: PluginProperties = None) -> Payment:
        """With ``with_plugin_info`` Kill Bill calls the plugin's getPaymentInfo and fixes PENDING/UNKNOWN
        transactions on the fly (the janitor's refresh)."""
        query = {"withPluginInfo": with_plugin_info, "withAttempts": with_attempts,
                 "pluginProperty": properties_to_query(plugin_properties)}
        return self._parse(Payment, self._transport.get_json(paths("payments", payment_id), query))

    def list_for_account(self, account_id: UUID, *, with_plugin_info: bool = False,
                         with_attempts: bool = False) -> list[Payment]:
        query = {"withPluginInfo": with_plugin_info, "withAttempts": with_attempts}
        return self._parse_list(Payment, self._transport.get_json(paths("accounts", account_id, "payments"), query))

    def list(self, *, offset: int = 0, limit: int = 100, with_plugin_info: bool = False) -> Page[Payment]:
        return self._page(Payment, paths("payments", "pagination"),
                          {"offset": offset, "limit": limit, "withPluginInfo": with_plugin_info})

    def iterate(self, *, page_size: int = 100) -> Iterator[Payment]:
        offset: int | None = 0
        while offset is not None:
            page = self.list(offset=offset, limit=page_size)
            yield from page.items
            offset = page.next_offset if page.items else None

    # -- transactions -------------------------------------------------------------------------
    def create(self, account_id: UUID, transaction_type: TransactionType, amount: Decimal, *,
               currency: str | None = None, payment_method_id: UUID | None = None,
               payment_external_key: str | None = None, transaction_external_key: str | None = None,
               plugin_properties: PluginProperties = None, control_plugin_names: Iterable[str] = (),
               reason: str | None = None, comment: str | None = None) -> Payment:
        """AUTHORIZE, PURCHASE or CREDIT on the account. Failed outcomes raise PaymentTransactionError."""
        body = PaymentTransaction(transaction_type=transaction_type, amount=amount, currency=currency,
                                  payment_external_key=payment_external_key,
                                  transaction_external_key=transaction_external_key).to_wire()
        query = {"paymentMethodId": payment_method_id, **_write_query(plugin_properties, control_plugin_names)}
        _, data = self._transport.create("POST", paths("accounts", account_id, "payments"), query=query, body=body,
                                         reason=reason, comment=comment)
        return self._parse(Payment, data)

    def capture(self, payment_id: UUID, amount: Decimal, *, currency: str | None = None,
                transaction_external_key: str | None = None, plugin_properties: PluginProperties = None,
                control_plugin_names: Iterable[str] = (), reason: str | None = None,
                comment: str | None = None) -> Payment:
        body = PaymentTransaction(amount=amount, currency=currency,
                                  transaction_external_key=transaction_external_key).to_wire()
        _, data = self._transport.create("POST", paths("payments", payment_id),
                                         query=_write_query(plugin_properties, control_plugin_names), body=body,
                                         reason=reason, comment=comment)
        return self._parse(Payment, data)

    def refund(self, payment_id: UUID, amount: Decimal, *, currency: str | None = None,
               transaction_external_key: str | None = None, plugin_properties: PluginProperties = None,
               control_plugin_names: Iterable[str] = (), reason: str | None = None,
               comment: str | None = None) -> Payment:
        body = PaymentTransaction(amount=amount, currency=currency,
                                  transaction_external_key=transaction_external_key).to_wire()
        _, data = self._transport.create("POST", paths("payments", payment_id, "refunds"),
                                         query=_write_query(plugin_properties, control_plugin_names), body=body,
                                         reason=reason, comment=comment)
        return self._parse(Payment, data)

    def void(self, payment_id: UUID, *, transaction_external_key: str | None = None,
             plugin_properties: PluginProperties = None, control_plugin_names: Iterable[str] = (),
             reason: str | None = None, comment: str | None = None) -> None:
        """Kill Bill answers 204; read the payment to see the VOID transaction."""
        body = PaymentTransaction(transaction_external_key=transaction_external_key).to_wire()
        self._transport.write("DELETE", paths("payments", payment_id),
                              query=_write_query(plugin_properties, control_plugin_names), body=body,
                              reason=reason, comment=comment)

    def complete(self, payment_id: UUID, *, transaction_id: UUID | None = None,
                 transaction_external_key: str | None = None, transaction_type: TransactionType | None = None,
                 amount: Decimal | None = None, plugin_properties: PluginProperties = None,
                 control_plugin_names: Iterable[str] = (), reason: str | None = None,
                 comment: str | None = None) -> None:
        """Complete a PENDING transaction: Kill Bill re-calls the plugin with the same transaction id."""
        body = PaymentTransaction(transaction_id=transaction_id, transaction_external_key=transaction_external_key,
                                  transaction_type=transaction_type, amount=amount).to_wire()
        self._transport.write("PUT", paths("payments", payment_id),
                              query=_write_query(plugin_properties, control_plugin_names), body=body,
                              reason=reason, comment=comment)

    # -- chargebacks (the payment plugin is never called) -----------------------------------------
    def chargeback(self, payment_id: UUID, amount: Decimal, *, currency: str | None = None,
                   transaction_external_key: str | None = None, effective_date: datetime | None = None,
                   control_plugin_names: Iterable[str] = (), reason: str | None = None,
                   comment: str | None = None) -> Payment:
        """Add ``INVOICE_PAYMENT_CONTROL_PLUGIN`` to ``control_plugin_names`` to reopen the invoice too."""
        body = PaymentTransaction(amount=amount, currency=currency, effective_date=effective_date,
                                  transaction_external_key=transaction_external_key).to_wire()
        _, data = self._transport.create("POST", paths("payments", payment_id, "chargebacks"),
                                         query=_write_query(None, control_plugin_names), body=body,
                                         reason=reason, comment=comment)
        return self._parse(Payment, data)

    def chargeback_reversal(self, payment_id: UUID, chargeback_external_key: str, *,
                            effective_date: datetime | None = None, control_plugin_names: Iterable[str] = (),
                            reason: str | None = None, comment: str | None = None) -> Payment:
        """Reverse a chargeback. Kill Bill answers 402 here by design: the reversal is recorded as a
        failed CHARGEBACK transaction, which its payment response maps to "declined"; that answer is
        the success path, so the payment is read from its Location."""
        body = PaymentTransaction(transaction_external_key=chargeback_external_key,
                                  effective_date=effective_date).to_wire()
        try:
            _, data = self._transport.create("POST", paths("payments", payment_id, "chargebackReversals"),
                                             query=_write_query(None, control_plugin_names), body=body,
                                             reason=reason, comment=comment)
        except PaymentDeclinedError as declined:
            if declined.payment_id != payment_id:
                raise
            data = self._transport.get_json(paths("payments", payment_id))
        return self._parse(Payment, data)
