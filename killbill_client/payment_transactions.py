"""Payment transactions: notifyStateChanged and lookups by transaction id."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from killbill_client.constants import INVOICE_PAYMENT_CONTROL_PLUGIN
from killbill_client.models import Payment, PaymentTransaction, TransactionStatus
from killbill_client.models.base import PluginProperties, properties_to_query
from killbill_client.service import Service
from killbill_client.transport import paths


class PaymentTransactionService(Service):
    def notify_state_changed(self, transaction_id: UUID, payment_id: UUID, status: TransactionStatus | str, *,
                             invoice_payment: bool = False, control_plugin_names: Iterable[str] = (),
                             reason: str | None = None, comment: str | None = None) -> Payment:
        """Resolve a PENDING transaction without calling the plugin (reference/killbill.md §B4).

        ``"SUCCESS"`` succeeds; any other status fails it. Kill Bill answers 404 (NotFoundError) if the
        transaction is not PENDING. ``invoice_payment`` adds the invoice control plugin so the invoice
        balance follows.
        """
        names = list(control_plugin_names)
        if invoice_payment and INVOICE_PAYMENT_CONTROL_PLUGIN not in names:
            names.append(INVOICE_PAYMENT_CONTROL_PLUGIN)
        body = PaymentTransaction(payment_id=payment_id, status=TransactionStatus(status)).to_wire()
        _, data = self._transport.create("POST", paths("paymentTransactions", transaction_id),
                                         query={"controlPluginName": names}, body=body, reason=reason,
                                         comment=comment)
        return self._parse(Payment, data)

    def get_payment(self, transaction_id: UUID, *, with_plugin_info: bool = False, with_attempts: bool = False,
                    plugin_properties: PluginProperties = None) -> Payment:
        query = {"withPluginInfo": with_plugin_info, "withAttempts": with_attempts,
                 "pluginProperty": properties_to_query(plugin_properties)}
        return self._parse(Payment, self._transport.get_json(paths("paymentTransactions", transaction_id), query))
