"""Payment methods driven by the Kill Bill simulator through the contract, as a real Kill Bill drives them:
add (then getPaymentMethodDetail for the external key), a refused add, refresh + reset, default, delete."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import pytest

from bridge.payments import ids
from bridge.simulators.server import BackgroundServer
from killbill_client import BadRequestError
from tests.plugin.conftest import PLUGIN_SECRET, new_account, save_card
from tests.plugin.test_payment_methods import MASTERCARD

PLUGIN = "hyperswitch-bridge"


@pytest.fixture
def bridge_server(app) -> Iterator[BackgroundServer]:  # type: ignore[no-untyped-def]
    with BackgroundServer(app) as server:
        yield server


@pytest.fixture
def wired(kb_state, bridge_server, tenant_id) -> str:  # type: ignore[no-untyped-def]
    """The Kill Bill tenant's payments go to the bridge's /plugin/v1."""
    kb_state.configure_plugin(UUID(tenant_id), PLUGIN, bridge_server.url, PLUGIN_SECRET)
    return tenant_id


@pytest.fixture
def account_id(kb, wired) -> UUID:  # type: ignore[no-untyped-def]
    return new_account(kb).account_id


def test_kill_bill_adds_a_payment_method_and_keeps_the_mandate_as_external_key(kb, hs, account_id) -> None:
    pm_id, mandate_id = save_card(hs, ids.customer_id(account_id))

    added = kb.payment_methods.add(account_id, PLUGIN, is_default=True, plugin_info_properties={
        "hsMandateId": mandate_id})

    assert added.external_key == mandate_id
    assert kb.accounts.get(account_id).payment_method_id == added.payment_method_id
    read = kb.payment_methods.get(added.payment_method_id, with_plugin_info=True)
    assert read.property("cardLast4") == "4242" and read.property("hsPaymentMethodId") == pm_id
    assert read.plugin_info.is_default_payment_method is True


def test_a_refused_add_creates_nothing_in_kill_bill(kb, hs, kb_state, account_id) -> None:
    stranger = new_account(kb).account_id
    foreign_pm, _ = save_card(hs, ids.customer_id(stranger), mandate=False)

    with pytest.raises(BadRequestError) as refused:
        kb.payment_methods.add(account_id, PLUGIN, plugin_info_properties={"hsPaymentMethodId": foreign_pm})

    assert "another Hyperswitch customer" in refused.value.message
    assert kb.payment_methods.list_for_account(account_id) == []
    assert [c["errorType"] for c in kb_state.plugin_calls("addPaymentMethod")] == ["FOREIGN_PAYMENT_METHOD"]


def test_refresh_brings_hyperswitch_only_methods_into_kill_bill(kb, hs, account_id) -> None:
    customer_id = ids.customer_id(account_id)
    first_pm, _ = save_card(hs, customer_id, mandate=False)
    first = kb.payment_methods.add(account_id, PLUGIN, is_default=True,
                                   plugin_info_properties={"hsPaymentMethodId": first_pm})
    second_pm, _ = save_card(hs, customer_id, MASTERCARD, mandate=False)

    kb.payment_methods.refresh(account_id, plugin_name=PLUGIN)

    methods = {m.external_key: m for m in kb.payment_methods.list_for_account(account_id, with_plugin_info=True)}
    assert set(methods) == {first_pm, second_pm}
    assert methods[first_pm].payment_method_id == first.payment_method_id
    assert methods[second_pm].property("cardLast4") == "4444"  # the bridge stored Kill Bill's new id
    assert kb.accounts.get(account_id).payment_method_id == first.payment_method_id


def test_default_and_delete_through_kill_bill(kb, hs, account_id) -> None:
    customer_id = ids.customer_id(account_id)
    first = kb.payment_methods.add(account_id, PLUGIN, is_default=True, plugin_info_properties={
        "hsPaymentMethodId": save_card(hs, customer_id, mandate=False)[0]})
    second_pm, _ = save_card(hs, customer_id, MASTERCARD, mandate=False)
    second = kb.payment_methods.add(account_id, PLUGIN, plugin_info_properties={"hsPaymentMethodId": second_pm})

    kb.payment_methods.set_default(account_id, second.payment_method_id)
    kb.payment_methods.delete(first.payment_method_id)

    assert hs.customers.retrieve(customer_id).default_payment_method_id == second_pm
    remaining = kb.payment_methods.list_for_account(account_id, with_plugin_info=True)
    assert [(m.payment_method_id, m.plugin_info.is_default_payment_method) for m in remaining] == [
        (second.payment_method_id, True)]
    gone = kb.payment_methods.get(first.payment_method_id, with_plugin_info=True, included_deleted=True)
    assert gone.property("state") == "deleted"
