"""A biller's setup on a real Kill Bill: its tenant, the plugin's per-tenant configuration, the push callback
to the bridge, and the Java plugin forwarding payment-method calls for that tenant."""

from __future__ import annotations

from bridge.payments import ids
from tests.killbill_server.conftest import plugin_config
from tests.killbill_server.harness import Biller
from tests.stack import PLUGIN_NAME


def test_tenant_has_the_plugin_config_and_the_push_callback_to_the_bridge(biller: Biller) -> None:
    assert biller.kb.tenants.get_plugin_config(PLUGIN_NAME).value == plugin_config(biller.sidecar)
    callback = biller.kb.tenants.get_push_callback()
    assert callback is not None and callback.startswith(f"{biller.sidecar.url}/webhooks/killbill/")

    # The operator's command re-registers it and checks both peers, against the real Kill Bill.
    biller.kb.tenants.delete_push_callback()
    verify = biller.sidecar.cli("tenants", "verify", biller.tenant_id, "--register-callback", "--json")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert biller.kb.tenants.get_push_callback() == callback


def test_payment_method_added_through_kill_bill_reaches_the_bridge(biller: Biller) -> None:
    payor = biller.payor()

    method = biller.kb.payment_methods.get(payor.kb_payment_method_id, with_plugin_info=True)
    assert method.plugin_name == PLUGIN_NAME and method.is_default
    assert method.plugin_info is not None
    # getPaymentMethodDetail answered through the plugin: the Hyperswitch instrument behind the method.
    assert method.plugin_info.external_payment_method_id in (payor.hs_payment_method_id, payor.mandate_id)
    assert payor.biller.hs.customers.retrieve(ids.customer_id(payor.account_id)).customer_id
