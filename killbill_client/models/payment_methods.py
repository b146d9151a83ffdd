"""Payment method models (``PaymentMethodJson``, ``PaymentMethodPluginDetailJson``)."""

from __future__ import annotations

from uuid import UUID

from killbill_client.models.base import AuditLog, KillBillModel, PluginProperty


class PaymentMethodPluginDetail(KillBillModel):
    """What the plugin knows about the method; the plugin receives it as ``PaymentMethodPlugin``."""

    external_payment_method_id: str | None = None
    is_default_payment_method: bool | None = None
    properties: list[PluginProperty] | None = None


class PaymentMethod(KillBillModel):
    payment_method_id: UUID | None = None
    external_key: str | None = None
    account_id: UUID | None = None
    is_default: bool | None = None
    plugin_name: str | None = None
    plugin_info: PaymentMethodPluginDetail | None = None
    audit_logs: list[AuditLog] | None = None

    def property(self, key: str) -> str | None:
        """A plugin property value, or None (needs ``with_plugin_info=True``)."""
        for prop in (self.plugin_info.properties or []) if self.plugin_info else []:
            if prop.key == key:
                return prop.value
        return None
