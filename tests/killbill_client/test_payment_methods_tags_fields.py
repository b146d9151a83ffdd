"""Payment methods (through a plugin), control tags and custom fields, client ⇄ simulator over HTTP."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from killbill_client import BadRequestError, KillBillClient, NotFoundError
from killbill_client.constants import AUTO_PAY_OFF, EXTERNAL_PAYMENT_PLUGIN, MANUAL_PAY
from killbill_client.models import Account, CustomField, ExternalCharge
from tests.simulators.killbill.support import PLUGIN_NAME, StubPlugin


def test_add_payment_method_forwards_plugin_info_and_reads_the_detail(kb: KillBillClient, account: Account,
                                                                      stub_plugin: StubPlugin) -> None:
    pm = kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True,  # type: ignore[arg-type]
                                plugin_info_properties={"mandate_id": "man_123"},
                                plugin_properties={"customer_id": "cus_9"})
    added = stub_plugin.last("addPaymentMethod")
    assert added["kbAccountId"] == str(account.account_id) and added["setDefault"] is True
    assert added["paymentMethodProps"]["properties"] == [{"key": "mandate_id", "value": "man_123",
                                                          "isUpdatable": False}]
    assert added["properties"] == [{"key": "customer_id", "value": "cus_9", "isUpdatable": False}]
    # No external key given: Kill Bill takes the plugin's externalPaymentMethodId.
    assert pm.external_key == "pm_" + str(pm.payment_method_id)[:8]
    assert pm.is_default and pm.property("last4") == "4242"
    assert kb.accounts.get(account.account_id).payment_method_id == pm.payment_method_id  # type: ignore[arg-type]


def test_list_get_set_default_and_delete(kb: KillBillClient, account: Account, stub_plugin: StubPlugin) -> None:
    first = kb.payment_methods.add(account.account_id, PLUGIN_NAME, external_key="first",  # type: ignore[arg-type]
                                   is_default=True)
    second = kb.payment_methods.add(account.account_id, EXTERNAL_PAYMENT_PLUGIN, external_key="second")  # type: ignore[arg-type]
    listed = kb.payment_methods.list_for_account(account.account_id, with_plugin_info=True)  # type: ignore[arg-type]
    assert {(p.external_key, p.is_default) for p in listed} == {("first", True), ("second", False)}
    assert all(p.plugin_info is not None for p in listed)
    assert kb.payment_methods.get(first.payment_method_id).plugin_info is None  # type: ignore[arg-type]
    with pytest.raises(BadRequestError) as refused:
        kb.payment_methods.delete(first.payment_method_id)  # type: ignore[arg-type]
    assert refused.value.code == 7022
    kb.payment_methods.set_default(account.account_id, second.payment_method_id)  # type: ignore[arg-type]
    kb.payment_methods.delete(first.payment_method_id)  # type: ignore[arg-type]
    assert "deletePaymentMethod" in stub_plugin.operations()
    with pytest.raises(NotFoundError):
        kb.payment_methods.get(first.payment_method_id)  # type: ignore[arg-type]
    deleted = kb.payment_methods.get(first.payment_method_id, included_deleted=True)  # type: ignore[arg-type]
    assert deleted.external_key == "first"


def test_deleting_the_default_with_auto_pay_off_tags_the_account(kb: KillBillClient, account: Account) -> None:
    pm = kb.payment_methods.add(account.account_id, EXTERNAL_PAYMENT_PLUGIN, is_default=True)  # type: ignore[arg-type]
    kb.payment_methods.delete(pm.payment_method_id, delete_default_pm_with_auto_pay_off=True)  # type: ignore[arg-type]
    assert kb.accounts.get(account.account_id).payment_method_id is None  # type: ignore[arg-type]
    assert kb.tags.has_tag(account.account_id, AUTO_PAY_OFF)  # type: ignore[arg-type]


def test_refresh_aligns_kill_bills_methods_with_the_gateway(kb: KillBillClient, account: Account,
                                                            stub_plugin: StubPlugin) -> None:
    stale = kb.payment_methods.add(account.account_id, PLUGIN_NAME, external_key="stale")  # type: ignore[arg-type]
    stub_plugin.gateway_methods = [
        {"accountId": str(account.account_id), "paymentMethodId": None, "isDefault": True,
         "externalPaymentMethodId": "pm_gateway_1"}]
    kb.payment_methods.refresh(account.account_id, plugin_name=PLUGIN_NAME)  # type: ignore[arg-type]
    methods = kb.payment_methods.list_for_account(account.account_id)  # type: ignore[arg-type]
    assert [(m.external_key, m.is_default) for m in methods] == [("pm_gateway_1", True)]
    assert stale.payment_method_id not in {m.payment_method_id for m in methods}
    reset = stub_plugin.last("resetPaymentMethods")["paymentMethods"]
    assert reset == [{"accountId": str(account.account_id), "paymentMethodId": str(methods[0].payment_method_id),
                      "isDefault": True, "externalPaymentMethodId": "pm_gateway_1"}]
    assert stub_plugin.last("getPaymentMethods")["refreshFromGateway"] is True


def test_unregistered_plugin_is_refused(kb: KillBillClient, account: Account) -> None:
    with pytest.raises(BadRequestError) as caught:
        kb.payment_methods.add(account.account_id, "killbill-nowhere")  # type: ignore[arg-type]
    assert caught.value.code == 7028


def test_control_tags_and_auto_pay_off_removal_rule(kb: KillBillClient, account: Account) -> None:
    tags = kb.tags.add_to_account(account.account_id, [AUTO_PAY_OFF, MANUAL_PAY])  # type: ignore[arg-type]
    assert {t.tag_definition_name for t in tags} == {"AUTO_PAY_OFF", "MANUAL_PAY"}
    assert kb.tags.is_manual_pay(account.account_id)  # type: ignore[arg-type]
    with pytest.raises(BadRequestError) as caught:  # no default payment method yet
        kb.tags.remove_from_account(account.account_id, [AUTO_PAY_OFF])  # type: ignore[arg-type]
    assert caught.value.code == 3951
    kb.tags.remove_from_account(account.account_id, [MANUAL_PAY])  # type: ignore[arg-type]
    kb.payment_methods.add(account.account_id, EXTERNAL_PAYMENT_PLUGIN, is_default=True)  # type: ignore[arg-type]
    kb.tags.remove_from_account(account.account_id, [AUTO_PAY_OFF])  # type: ignore[arg-type]
    assert kb.tags.list_for_account(account.account_id) == []  # type: ignore[arg-type]
    with pytest.raises(NotFoundError) as unknown:
        kb.tags.add_to_account(account.account_id, [uuid4()])  # type: ignore[arg-type]
    assert unknown.value.code == 3902


def test_custom_fields_add_modify_remove(kb: KillBillClient, account: Account) -> None:
    fields = kb.custom_fields.add_to_account(account.account_id, {"hs_customer_id": "cus_1", "tier": "gold"})  # type: ignore[arg-type]
    assert {(f.name, f.value) for f in fields} == {("hs_customer_id", "cus_1"), ("tier", "gold")}
    tier = next(f for f in fields if f.name == "tier")
    kb.custom_fields.modify_on_account(account.account_id, [CustomField(custom_field_id=tier.custom_field_id,  # type: ignore[arg-type]
                                                                         name="tier", value="platinum")])
    assert kb.custom_fields.get_value(account.account_id, "tier") == "platinum"  # type: ignore[arg-type]
    kb.custom_fields.remove_from_account(account.account_id, [])  # type: ignore[arg-type]
    assert len(kb.custom_fields.list_for_account(account.account_id)) == 2  # type: ignore[arg-type]
    kb.custom_fields.remove_from_account(account.account_id, [tier.custom_field_id])  # type: ignore[arg-type,list-item]
    assert [f.name for f in kb.custom_fields.list_for_account(account.account_id)] == ["hs_customer_id"]  # type: ignore[arg-type]
    kb.custom_fields.remove_from_account(account.account_id)  # type: ignore[arg-type]
    assert kb.custom_fields.list_for_account(account.account_id) == []  # type: ignore[arg-type]


def test_amounts_stay_exact(kb: KillBillClient, account: Account) -> None:
    """0.1 + 0.2 is exact in Decimal all the way through JSON and back."""
    items = kb.invoices.create_external_charges(account.account_id,  # type: ignore[arg-type]
                                                [ExternalCharge(amount=Decimal("0.1")),
                                                 ExternalCharge(amount=Decimal("0.2"))])
    assert kb.invoices.get(items[0].invoice_id).amount == Decimal("0.3")  # type: ignore[arg-type]
