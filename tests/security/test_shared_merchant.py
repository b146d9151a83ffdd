"""Tenants that are business profiles of one Hyperswitch merchant share its id space: Hyperswitch ids derive
from Kill Bill transaction ids alone. A call naming another tenant's transaction id meets "already exists";
reading that object back must not make it the caller's (its metadata says whose it is)."""

from __future__ import annotations

import uuid

import pytest

from bridge.db.engine import session_scope
from bridge.payments import ids
from bridge.tenancy import service
from bridge.tenancy.schemas import TenantCreate
from hyperswitch_client import HyperswitchClient
from killbill_client import KillBillClient
from tests.foundation.factories import tenant_payload
from tests.plugin.conftest import MERCHANT, PluginClient, make_payor, payment_call
from tests.security.conftest import Side, snapshot

PROFILE_C = {"api_key": "snd_tenantC_apikey_2b6d0e9a1f", "profile_id": "pro_tenant_c",
             "payment_response_hash_key": "tenantC_hash_key_" + "5a1d" * 12}
KB_C_API_KEY, KB_C_API_SECRET = "tenant-c", "tenantC-kb-api-secret-0e5f77"
PLUGIN_SECRET_C = "tenantC-plugin-shared-secret-93b1f2"


@pytest.fixture
def tenant_c(runtime, client, hs_state, hs_server, kb_server) -> tuple[PluginClient, object]:  # type: ignore[no-untyped-def]
    """Tenant C: another business profile (and API key) of tenant A's Hyperswitch merchant."""
    hs_state.add_merchant(MERCHANT["merchant_id"], PROFILE_C["api_key"], PROFILE_C["profile_id"],
                          publishable_key=MERCHANT["publishable_key"],
                          payment_response_hash_key=PROFILE_C["payment_response_hash_key"])
    with KillBillClient(kb_server.url, username="admin", password="password") as admin:
        tenant_id = str(admin.tenants.create(KB_C_API_KEY, KB_C_API_SECRET).tenant_id)
    payload = tenant_payload(
        kb_tenant_id=tenant_id, killbill_url=kb_server.url, kb_api_key=KB_C_API_KEY, kb_api_secret=KB_C_API_SECRET,
        kb_username="admin", hs_base_url=hs_server.url, hs_merchant_id=MERCHANT["merchant_id"],
        hs_profile_id=PROFILE_C["profile_id"], hs_api_key=PROFILE_C["api_key"],
        hs_webhook_secret=PROFILE_C["payment_response_hash_key"], plugin_shared_secret=PLUGIN_SECRET_C)
    with session_scope(runtime.sessions) as session:
        service.create_tenant(session, TenantCreate.model_validate(payload), runtime.keyring)
    kb = KillBillClient(kb_server.url, username="admin", password="password", api_key=KB_C_API_KEY,
                        api_secret=KB_C_API_SECRET)
    hs = HyperswitchClient(hs_server.url, PROFILE_C["api_key"], profile_id=PROFILE_C["profile_id"])
    yield PluginClient(client, tenant_id, secret=PLUGIN_SECRET_C), make_payor(runtime, kb, hs, tenant_id)
    kb.close()
    hs.close()


def test_another_profiles_transaction_id_never_records_its_payment(tenant_a: Side, tenant_c, runtime, hs_state,  # type: ignore[no-untyped-def]
                                                                   kb_state) -> None:
    plugin_c, payor_c = tenant_c
    before = snapshot(runtime, hs_state, kb_state, tenant_a)
    stolen = tenant_a.purchase["kbTransactionId"]
    answer = plugin_c.ok("purchasePayment", **payment_call(
        payor_c.account_id, "40.00", kbPaymentMethodId=payor_c.kb_payment_method_id, kbTransactionId=stolen))
    assert answer["status"] == "CANCELED" and answer["gatewayErrorCode"] == "HS_ID_TAKEN", answer
    assert snapshot(runtime, hs_state, kb_state, tenant_a) == before  # A's payment is still A's alone
    paid = plugin_c.ok("purchasePayment", **payment_call(payor_c.account_id, "40.00",
                                                         kbPaymentMethodId=payor_c.kb_payment_method_id))
    assert paid["status"] == "PROCESSED"  # Kill Bill's retry (a new transaction id) charges C's own card


def test_another_profiles_refund_id_is_not_taken_for_ours(tenant_a: Side, tenant_c, runtime, hs_state,  # type: ignore[no-untyped-def]
                                                          kb_state) -> None:
    refund = payment_call(tenant_a.payor.account_id, "1.00", kbPaymentId=tenant_a.purchase["kbPaymentId"])
    assert tenant_a.plugin.ok("refundPayment", **refund)["status"] == "PROCESSED"
    plugin_c, payor_c = tenant_c
    charge = payment_call(payor_c.account_id, "9.00", kbPaymentMethodId=payor_c.kb_payment_method_id)
    assert plugin_c.ok("purchasePayment", **charge)["status"] == "PROCESSED"
    before = snapshot(runtime, hs_state, kb_state, tenant_a)
    answer = plugin_c.ok("refundPayment", **payment_call(payor_c.account_id, "1.00", kbPaymentId=charge["kbPaymentId"],
                                                          kbTransactionId=refund["kbTransactionId"]))
    assert answer["status"] == "CANCELED" and answer["gatewayErrorCode"] == "HS_ID_TAKEN", answer
    assert snapshot(runtime, hs_state, kb_state, tenant_a) == before
    assert ids.refund_id(refund["kbTransactionId"]) and uuid.UUID(charge["kbPaymentId"])
