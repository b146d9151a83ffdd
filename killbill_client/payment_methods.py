"""Payment methods: add (forwarded to the plugin), list, get, delete, set default, refresh."""

from __future__ import annotations

from uuid import UUID

from killbill_client.models import PaymentMethod, PaymentMethodPluginDetail
from killbill_client.models.base import (
    PluginProperties,
    properties_to_list,
    properties_to_query,
)
from killbill_client.service import Service
from killbill_client.transport import paths


class PaymentMethodService(Service):
    def add(self, account_id: UUID, plugin_name: str, *, external_key: str | None = None,
            is_default: bool = False, external_payment_method_id: str | None = None,
            plugin_info_properties: PluginProperties = None, plugin_properties: PluginProperties = None,
            pay_all_unpaid_invoices: bool = False, reason: str | None = None,
            comment: str | None = None) -> PaymentMethod:
        """``POST /accounts/{id}/paymentMethods``.

        ``plugin_info_properties`` reach the plugin as ``PaymentMethodPlugin.properties``;
        ``plugin_properties`` as the call's ``props``. Only the ``isDefault`` query parameter makes
        the method the account default (Kill Bill ignores the body's flag).
        """
        plugin_info = PaymentMethodPluginDetail(external_payment_method_id=external_payment_method_id,
                                                is_default_payment_method=is_default,
                                                properties=properties_to_list(plugin_info_properties))
        body = PaymentMethod(account_id=account_id, plugin_name=plugin_name, external_key=external_key,
                             is_default=is_default, plugin_info=plugin_info).to_wire()
        query = {"isDefault": is_default, "payAllUnpaidInvoices": pay_all_unpaid_invoices,
                 "pluginProperty": properties_to_query(plugin_properties)}
        _, data = self._transport.create("POST", paths("accounts", account_id, "paymentMethods"), query=query,
                                         body=body, reason=reason, comment=comment,
                                         follow_query={"withPluginInfo": True})
        return self._parse(PaymentMethod, data)

    def list_for_account(self, account_id: UUID, *, with_plugin_info: bool = False,
                         included_deleted: bool = False,
                         plugin_properties: PluginProperties = None) -> list[PaymentMethod]:
        query = {"withPluginInfo": with_plugin_info, "includedDeleted": included_deleted,
                 "pluginProperty": properties_to_query(plugin_properties)}
        data = self._transport.get_json(paths("accounts", account_id, "paymentMethods"), query)
        return self._parse_list(PaymentMethod, data)

    def get(self, payment_method_id: UUID, *, with_plugin_info: bool = False, included_deleted: bool = False,
            plugin_properties: PluginProperties = None) -> PaymentMethod:
        query = {"withPluginInfo": with_plugin_info, "includedDeleted": included_deleted,
                 "pluginProperty": properties_to_query(plugin_properties)}
        return self._parse(PaymentMethod, self._transport.get_json(paths("paymentMethods", payment_method_id), query))

    def delete(self, payment_method_id: UUID, *, delete_default_pm_with_auto_pay_off: bool = False,
               force_default_pm_deletion: bool = False, plugin_properties: PluginProperties = None,
               reason: str | None = None, comment: str | None = None) -> None:
        """Deleting the default method fails unless one of the two flags says what to do instead."""
        query = {"deleteDefaultPmWithAutoPayOff": delete_default_pm_with_auto_pay_off,
                 "forceDefaultPmDeletion": force_default_pm_deletion,
                 "pluginProperty": properties_to_query(plugin_properties)}
        self._transport.write("DELETE", paths("paymentMethods", payment_method_id), query=query, reason=reason,
                              comment=comment)

    def set_default(self, account_id: UUID, payment_method_id: UUID, *, pay_all_unpaid_invoices: bool = False,
                    plugin_properties: PluginProperties = None, reason: str | None = None,
                    comment: str | None = None) -> None:
        query = {"payAllUnpaidInvoices": pay_all_unpaid_invoices,
                 "pluginProperty": properties_to_query(plugin_properties)}
        self._transport.write("PUT", paths("accounts", account_id, "paymentMethods", payment_method_id,
                                           "setDefault"), query=query, reason=reason, comment=comment)

    def refresh(self, account_id: UUID, *, plugin_name: str | None = None,
                plugin_properties: PluginProperties = None, reason: str | None = None,
                comment: str | None = None) -> None:
        """Re-sync Kill Bill's methods with the plugin's ``getPaymentMethods(refreshFromGateway=true)``."""
        query = {"pluginName": plugin_name, "pluginProperty": properties_to_query(plugin_properties)}
        self._transport.write("PUT", paths("accounts", account_id, "paymentMethods", "refresh"), query=query,
                              reason=reason, comment=comment)
