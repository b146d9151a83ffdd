"""Tenants, per-tenant plugin configuration and the push notification callback."""

from __future__ import annotations

from uuid import UUID

from killbill_client.models import Tenant, TenantKeyValue
from killbill_client.service import Service
from killbill_client.transport import paths


class TenantService(Service):
    def create(self, api_key: str, api_secret: str, *, external_key: str | None = None,
               use_global_default: bool = False, reason: str | None = None,
               comment: str | None = None) -> Tenant:
        """``POST /1.0/kb/tenants`` (basic auth only). Without ``use_global_default`` KB makes an empty catalog."""
        body = Tenant(api_key=api_key, api_secret=api_secret, external_key=external_key).to_wire()
        response = self._transport.write("POST", paths("tenants"), query={"useGlobalDefault": use_global_default},
                                         body=body, reason=reason, comment=comment)
        # The Location is a tenant-scoped read: it needs the new tenant's own headers.
        return self._parse(Tenant, self._transport.with_tenant(api_key, api_secret).follow(response))

    def get(self, tenant_id: UUID) -> Tenant:
        return self._parse(Tenant, self._transport.get_json(paths("tenants", tenant_id)))

    def get_by_api_key(self, api_key: str) -> Tenant:
        return self._parse(Tenant, self._transport.get_json(paths("tenants"), {"apiKey": api_key}))

    # -- per-tenant plugin configuration (tenant KV key PLUGIN_CONFIG_<pluginName>) -------------------
    def upload_plugin_config(self, plugin_name: str, config: str, *, reason: str | None = None,
                             comment: str | None = None) -> TenantKeyValue:
        """Replaces the previous configuration; Kill Bill fires TENANT_CONFIG_CHANGE."""
        _, data = self._transport.create("POST", paths("tenants", "uploadPluginConfig", plugin_name), text=config,
                                         reason=reason, comment=comment)
        return self._parse(TenantKeyValue, data)

    def get_plugin_config(self, plugin_name: str) -> TenantKeyValue:
        return self._parse(TenantKeyValue,
                           self._transport.get_json(paths("tenants", "uploadPluginConfig", plugin_name)))

    def delete_plugin_config(self, plugin_name: str, *, reason: str | None = None,
                             comment: str | None = None) -> None:
        self._transport.write("DELETE", paths("tenants", "uploadPluginConfig", plugin_name), reason=reason,
                              comment=comment)

    # -- push notification callback (single-valued: registering replaces) ------------------------------
    def register_push_callback(self, url: str, *, reason: str | None = None,
                               comment: str | None = None) -> TenantKeyValue:
        _, data = self._transport.create("POST", paths("tenants", "registerNotificationCallback"),
                                         query={"cb": url}, reason=reason, comment=comment)
        return self._parse(TenantKeyValue, data)

    def get_push_callback(self) -> str | None:
        data = self._transport.get_json(paths("tenants", "registerNotificationCallback"))
        return self._parse(TenantKeyValue, data).value

    def delete_push_callback(self, *, reason: str | None = None, comment: str | None = None) -> None:
        self._transport.write("DELETE", paths("tenants", "registerNotificationCallback"), reason=reason,
                              comment=comment)
