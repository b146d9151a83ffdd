"""Payment methods, forwarded to the plugin as Kill Bill's PaymentMethodProcessor does."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from uuid import UUID

from bridge.simulators.killbill import errors, plugin
from bridge.simulators.killbill.model import (
    AUTO_PAY_OFF_ID,
    CONTROL_TAGS,
    EXTERNAL_PAYMENT_PLUGIN,
    Account,
    PaymentMethod,
    Tag,
    new_id,
)
from bridge.simulators.killbill.plugin import CallContext, PluginOutcome

if TYPE_CHECKING:
    from bridge.simulators.killbill.state import KillBillState

ErrorFactory = Callable[[UUID, str], errors.KillBillApiError]


class PaymentMethodEngine:
    def __init__(self, state: KillBillState) -> None:
        self.state = state

    def _call(self, account: Account, plugin_name: str, operation: str, params: dict[str, Any],
              fail: ErrorFactory) -> Any:
        """One plugin call; any failure becomes the Kill Bill error ``fail`` builds."""
        if plugin_name == EXTERNAL_PAYMENT_PLUGIN:
            return None
        endpoint = self.state.tenants[account.tenant_id].plugins.get(plugin_name)
        if endpoint is None:
            raise errors.no_such_plugin(plugin_name)
        outcome: PluginOutcome = self.state.plugins.call(endpoint, plugin_name, operation,
                                                         {"kbAccountId": account.id, **params},
                                                         self.state.config.plugin_timeout)
        if outcome.kind != plugin.OK:
            raise fail(account.id, outcome.error_message or outcome.kind)
        return outcome.value

    def check_plugin(self, tenant_id: UUID, plugin_name: str) -> None:
        if plugin_name != EXTERNAL_PAYMENT_PLUGIN and plugin_name not in self.state.tenants[tenant_id].plugins:
            raise errors.no_such_plugin(plugin_name)

    # -- add ----------------------------------------------------------------------------------------
    def add(self, account: Account, plugin_name: str, external_key: str | None, is_default: bool,
            plugin_info: dict[str, Any], properties: list[dict[str, Any]], context: CallContext) -> PaymentMethod:
        """The id exists before the plugin call; the row only if the plugin returns normally (§A1)."""
        self.check_plugin(account.tenant_id, plugin_name)
        pm_id = new_id()
        detail = {"kbPaymentMethodId": pm_id, "externalPaymentMethodId": plugin_info.get("externalPaymentMethodId"),
                  "isDefaultPaymentMethod": is_default, "properties": plugin_info.get("properties") or []}
        self._call(account, plugin_name, "addPaymentMethod",
                   {"kbPaymentMethodId": pm_id, "paymentMethodProps": detail, "setDefault": is_default,
                    "properties": properties, "context": context.to_json()}, errors.add_payment_method_failed)
        if external_key is None:
            external_key = self._external_key(account, plugin_name, pm_id, properties, context)
        pm = PaymentMethod(pm_id, account.tenant_id, account.id, plugin_name, external_key, detail)
        with self.state.lock:
            self.state.payment_methods[pm.id] = pm
        if is_default:
            self._make_default(account, pm.id)
        return pm

    def _external_key(self, account: Account, plugin_name: str, pm_id: UUID, properties: list[dict[str, Any]],
                      context: CallContext) -> str:
        """Without an external key Kill Bill asks getPaymentMethodDetail for the externalPaymentMethodId."""
        detail = self.detail_from_plugin(account, plugin_name, pm_id, properties, context)
        return str((detail or {}).get("externalPaymentMethodId") or pm_id)

    def detail_from_plugin(self, account: Account, plugin_name: str, pm_id: UUID,
                           properties: list[dict[str, Any]], context: CallContext) -> dict[str, Any] | None:
        value = self._call(account, plugin_name, "getPaymentMethodDetail",
                           {"kbPaymentMethodId": pm_id, "properties": properties,
                            "context": context.to_json(tenant_only=True)}, errors.get_payment_methods_failed)
        return value if isinstance(value, dict) else None

    def plugin_info(self, pm: PaymentMethod, context: CallContext) -> dict[str, Any]:
        """``pluginInfo`` of a GET withPluginInfo=true."""
        if pm.plugin_name == EXTERNAL_PAYMENT_PLUGIN:
            return {"externalPaymentMethodId": None, "isDefaultPaymentMethod": self._is_default(pm),
                    "properties": []}
        detail = self.detail_from_plugin(self.state.accounts[pm.account_id], pm.plugin_name, pm.id, [], context) or {}
        return {"externalPaymentMethodId": detail.get("externalPaymentMethodId"),
                "isDefaultPaymentMethod": detail.get("isDefaultPaymentMethod", self._is_default(pm)),
                "properties": detail.get("properties") or []}

    def _is_default(self, pm: PaymentMethod) -> bool:
        return self.state.accounts[pm.account_id].payment_method_id == pm.id

    # -- default, delete ----------------------------------------------------------------------------------
    def set_default(self, account: Account, pm: PaymentMethod, properties: list[dict[str, Any]],
                    context: CallContext) -> None:
        if pm.account_id != account.id:
            raise errors.no_payment_method(pm.id)
        self._call(account, pm.plugin_name, "setDefaultPaymentMethod",
                   {"kbPaymentMethodId": pm.id, "properties": properties, "context": context.to_json()},
                   errors.update_payment_method_failed)
        self._make_default(account, pm.id)

    def _make_default(self, account: Account, pm_id: UUID | None) -> None:
        with self.state.lock:
            account.payment_method_id = pm_id
        self.state.post_event(account.tenant_id, "ACCOUNT_CHANGE", "ACCOUNT", account.id, account.id)

    def delete(self, pm: PaymentMethod, with_auto_pay_off: bool, force: bool, properties: list[dict[str, Any]],
               context: CallContext) -> None:
        account = self.state.accounts[pm.account_id]
        is_default = account.payment_method_id == pm.id
        if is_default and not (with_auto_pay_off or force):
            raise errors.delete_default_payment_method(account.id)
        self._call(account, pm.plugin_name, "deletePaymentMethod",
                   {"kbPaymentMethodId": pm.id, "properties": properties, "context": context.to_json()},
                   errors.delete_payment_method_failed)
        with self.state.lock:
            pm.active = False
        if is_default:
            if with_auto_pay_off:
                self.add_control_tag(account, AUTO_PAY_OFF_ID)
            self._make_default(account, None)

    def add_control_tag(self, account: Account, definition_id: UUID) -> Tag | None:
        definition = CONTROL_TAGS[definition_id]
        with self.state.lock:
            if any(t.definition_id == definition_id for t in self.state.account_tags(account.id)):
                return None
            tag = Tag(new_id(), account.tenant_id, account.id, "ACCOUNT", definition_id, definition.name)
            self.state.tags[tag.id] = tag
        self.state.post_event(account.tenant_id, "TAG_CREATION", "TAG", tag.id, account.id, definition.name)
        return tag

    # -- refresh -----------------------------------------------------------------------------------------
    def refresh(self, account: Account, plugin_name: str | None, properties: list[dict[str, Any]],
                context: CallContext) -> None:
        names = [plugin_name] if plugin_name else sorted(self.state.tenants[account.tenant_id].plugins)
        for name in names:
            self._refresh_plugin(account, name, properties, context)

    def _refresh_plugin(self, account: Account, plugin_name: str, properties: list[dict[str, Any]],
                        context: CallContext) -> None:
        """getPaymentMethods(refreshFromGateway=true), then align Kill Bill's rows, then resetPaymentMethods."""
        infos = self._call(account, plugin_name, "getPaymentMethods",
                           {"refreshFromGateway": True, "properties": properties, "context": context.to_json()},
                           errors.refresh_payment_methods_failed)
        rows = [info for info in infos or [] if isinstance(info, dict)]
        final, default = self._align(account, plugin_name, rows)
        self._call(account, plugin_name, "resetPaymentMethods",
                   {"paymentMethods": final, "properties": properties, "context": context.to_json()},
                   errors.refresh_payment_methods_failed)
        if default is not None and account.payment_method_id != default:
            self._make_default(account, default)

    def _align(self, account: Account, plugin_name: str,
               rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], UUID | None]:
        final: list[dict[str, Any]] = []
        default: UUID | None = None
        with self.state.lock:
            existing = {pm.id: pm for pm in self.state.payment_methods.values()
                        if pm.account_id == account.id and pm.plugin_name == plugin_name and pm.active}
            for row in rows:
                pm = self._pm_for_row(account, plugin_name, row, existing)
                final.append({"accountId": account.id, "paymentMethodId": pm.id,
                              "isDefault": bool(row.get("isDefault")),
                              "externalPaymentMethodId": row.get("externalPaymentMethodId")})
                default = pm.id if row.get("isDefault") else default
            kept = {row["paymentMethodId"] for row in final}
            for pm_id, pm in existing.items():
                if pm_id not in kept:
                    pm.active = False
                    if account.payment_method_id == pm_id:
                        account.payment_method_id = None
        return final, default

    def _pm_for_row(self, account: Account, plugin_name: str, row: dict[str, Any],
                    existing: dict[UUID, PaymentMethod]) -> PaymentMethod:
        try:
            pm_id = UUID(str(row["paymentMethodId"])) if row.get("paymentMethodId") else None
        except ValueError:
            pm_id = None
        if pm_id in existing:
            return existing[pm_id]  # type: ignore[index]
        pm_id = pm_id if pm_id is not None and pm_id not in self.state.payment_methods else new_id()
        pm = PaymentMethod(pm_id, account.tenant_id, account.id, plugin_name,
                           str(row.get("externalPaymentMethodId") or pm_id))
        self.state.payment_methods[pm.id] = pm
        return pm
