"""Tenants never mix (DESIGN rule 9): tenant A's credentials or signatures aimed at tenant B's ids, through
every plugin operation, the admin API, both webhooks and the payor pages, are refused or find nothing;
nothing of B is read (no B id in any answer) or changed (B's rows, Hyperswitch and Kill Bill objects)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bridge.db.base import utcnow
from bridge.db.engine import session_scope
from bridge.db.invoices import AccountPayLink, Message, PayLink, PayLinkState
from bridge.invoices import reminders, tokens
from bridge.jobs.catalog import build_worker
from bridge.payments import ids
from bridge.plugin_api import signature
from bridge.plugin_api.operations import OPERATIONS
from hyperswitch_client import compute_signature
from killbill_client.models import ExternalCharge
from tests.security.conftest import Side, b_ids, snapshot


def context(tenant_id: str) -> dict[str, Any]:
    return {"tenantId": tenant_id, "userName": "attacker", "callOrigin": "EXTERNAL", "userType": "ADMIN"}


def calls_on_b(b: Side) -> dict[str, list[dict[str, Any]]]:
    """For every plugin operation, bodies naming B's objects (the tenant in the context is set by the caller)."""
    account, pm = b.payor.account_id, b.payor.kb_payment_method_id
    new = {"kbPaymentId": str(uuid.uuid4()), "kbTransactionId": str(uuid.uuid4())}
    money = {"amount": "5.00", "currency": "USD"}
    purchase, auth = b.purchase, b.authorization
    hs_payment = ids.payment_id(purchase["kbTransactionId"])
    return {
        "authorizePayment": [{"kbAccountId": account, "kbPaymentMethodId": pm, **new, **money}],
        "purchasePayment": [{"kbAccountId": account, "kbPaymentMethodId": pm, **new, **money},
                            {**purchase},  # B's own transaction, replayed under A
                            {"kbAccountId": account, **new, **money,
                             "properties": [{"key": "hsPaymentId", "value": hs_payment}]}],  # record B's payment
        "capturePayment": [{"kbAccountId": account, "kbPaymentId": auth["kbPaymentId"],
                            "kbTransactionId": str(uuid.uuid4()), **money}],
        "voidPayment": [{"kbAccountId": account, "kbPaymentId": auth["kbPaymentId"],
                         "kbTransactionId": str(uuid.uuid4())}],
        "creditPayment": [{"kbAccountId": account, "kbPaymentMethodId": pm, **new, **money}],
        "refundPayment": [{"kbAccountId": account, "kbPaymentId": purchase["kbPaymentId"],
                           "kbTransactionId": str(uuid.uuid4()), **money}],
        "getPaymentInfo": [{"kbAccountId": account, "kbPaymentId": purchase["kbPaymentId"]}],
        "searchPayments": [{"searchKey": key} for key in (purchase["kbPaymentId"], purchase["kbTransactionId"],
                                                          hs_payment, account)],
        "addPaymentMethod": [{"kbAccountId": account, "kbPaymentMethodId": str(uuid.uuid4()),
                              "properties": [{"key": key, "value": value}]}
                             for key, value in (("hsPaymentMethodId", b.payor.payment_method_id),
                                                ("hsMandateId", b.payor.mandate_id))],
        "deletePaymentMethod": [{"kbAccountId": account, "kbPaymentMethodId": pm}],
        "getPaymentMethodDetail": [{"kbAccountId": account, "kbPaymentMethodId": pm}],
        "setDefaultPaymentMethod": [{"kbAccountId": account, "kbPaymentMethodId": pm}],
        "getPaymentMethods": [{"kbAccountId": account, "refreshFromGateway": True}],
        "searchPaymentMethods": [{"searchKey": key} for key in (pm, b.payor.payment_method_id, account)],
        "resetPaymentMethods": [{"kbAccountId": account, "paymentMethods": [
            {"accountId": account, "paymentMethodId": pm, "isDefault": True}]}],
        "buildFormDescriptor": [{"kbAccountId": account}],
        "processNotification": [{"notification": json.dumps({
            "merchant_id": b.merchant["merchant_id"], "event_id": "evt_b_relayed", "event_type": "payment_failed",
            "content": {"type": "payment_details", "object": {"payment_id": hs_payment, "status": "failed"}}})}],
    }


def test_the_matrix_covers_every_plugin_operation(tenant_a: Side, tenant_b: Side) -> None:
    assert set(calls_on_b(tenant_b)) == set(OPERATIONS)


def test_a_signature_of_a_cannot_act_for_b(tenant_a: Side, tenant_b: Side, runtime, hs_state, kb_state) -> None:  # type: ignore[no-untyped-def]
    before = snapshot(runtime, hs_state, kb_state, tenant_b)
    for operation, bodies in calls_on_b(tenant_b).items():
        for body in bodies:
            raw = json.dumps({**body, "context": context(tenant_b.tenant_id)}).encode()
            response = tenant_a.plugin.raw(operation, raw, {signature.HEADER: signature.sign(raw, tenant_a.plugin_secret)})
            assert response.status_code == 401 and response.json["errorType"] == "UNAUTHORIZED", (operation, body)
    assert snapshot(runtime, hs_state, kb_state, tenant_b) == before


def test_a_own_tenant_with_b_ids_finds_and_changes_nothing_of_b(tenant_a: Side, tenant_b: Side, runtime, hs_state,  # type: ignore[no-untyped-def]
                                                                 kb_state) -> None:
    before = snapshot(runtime, hs_state, kb_state, tenant_b)
    secret_ids = b_ids(tenant_b)
    calls = calls_on_b(tenant_b)
    reads = ("getPaymentInfo", "searchPayments", "getPaymentMethodDetail", "getPaymentMethods", "searchPaymentMethods")
    # Reads first: once A's own calls have used B's ids (refused, but recorded for A), A would find those.
    for operation in [*reads, *(name for name in calls if name not in reads)]:
        for body in calls[operation]:
            response = tenant_a.plugin.call(operation, **body, context=context(tenant_a.tenant_id))
            text = response.get_data(as_text=True)
            assert response.status_code < 500, (operation, body, text)
            echoed = {value for value in json.dumps(body).split('"') if value in secret_ids}
            leaked = {value for value in secret_ids - echoed if value in text}
            assert not leaked, (operation, "answered with B's", leaked)  # nothing read beyond what was asked
            if response.status_code == 200:
                assert_found_nothing(operation, response.json, tenant_b)
    worker = build_worker(runtime)
    worker.run_until_idle()  # whatever A's calls queued (notifications) runs too
    assert snapshot(runtime, hs_state, kb_state, tenant_b) == before


def assert_found_nothing(operation: str, answer: Any, b: Side) -> None:
    """A 200 answer to A about B's ids: a refusal in the status, or empty."""
    if operation in ("authorizePayment", "purchasePayment", "capturePayment", "voidPayment", "creditPayment",
                     "refundPayment"):
        assert answer["status"] in ("ERROR", "CANCELED"), (operation, answer)
    elif operation in ("searchPayments", "searchPaymentMethods"):
        assert answer["totalNbRecords"] == 0 and answer["records"] == [], (operation, answer)
    elif operation in ("getPaymentInfo", "getPaymentMethods"):
        assert answer == [], (operation, answer)


# -- the admin API: tenants' credentials are not the admin token ----------------------------------------
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/admin/v1/tenants"), ("GET", "/admin/v1/tenants/{b}"), ("PATCH", "/admin/v1/tenants/{b}"),
    ("DELETE", "/admin/v1/tenants/{b}"), ("POST", "/admin/v1/tenants/{b}/verify"), ("GET", "/admin/v1/jobs"),
    ("GET", "/admin/v1/webhooks"), ("POST", "/admin/v1/tenants/{b}/accounts/{b_account}/pay-link"),
    ("GET", "/admin/v1/tenants/{b}/accounts/{b_account}/reminder-opt-out"),
    ("DELETE", "/admin/v1/tenants/{b}/accounts/{b_account}/reminder-opt-out"),
])
def test_tenant_credentials_open_no_admin_call(tenant_a: Side, tenant_b: Side, client, runtime, hs_state,  # type: ignore[no-untyped-def]
                                               kb_state, method: str, path: str) -> None:
    before = snapshot(runtime, hs_state, kb_state, tenant_b)
    for credential in (tenant_a.plugin_secret, tenant_a.merchant["api_key"], tenant_a.callback_token,
                       tenant_a.merchant["payment_response_hash_key"]):
        for header in (f"Bearer {credential}", credential):
            response = client.open(path.format(b=tenant_b.tenant_id, b_account=tenant_b.payor.account_id),
                                   method=method, json={"name": "Taken"},
                                   headers={"Authorization": header})
            assert response.status_code == 401 and response.json["error"] == "invalid_admin_token"
    assert snapshot(runtime, hs_state, kb_state, tenant_b) == before


ACCOUNT_ACTIONS = (("POST", "pay-link", {"send": True}), ("POST", "pay-link", None),
                   ("GET", "reminder-opt-out", None), ("DELETE", "reminder-opt-out", None))


def test_the_admin_api_finds_no_account_of_b_under_a(tenant_a: Side, tenant_b: Side, client, admin_headers,  # type: ignore[no-untyped-def]
                                                     runtime, hs_state, kb_state) -> None:
    """B's account, named under A's tenant: 404 as for an account that does not exist, whatever B's account
    holds (open invoices, an opt-out); nothing of B is read, issued, sent or resubscribed."""
    b_account = tenant_b.payor.account_id
    tenant_b.kb.invoices.create_external_charges(uuid.UUID(b_account), [ExternalCharge(amount=Decimal("20.00"))])
    assert kb_state.wait_idle(timeout=30)
    reminders.opt_out(runtime.tenant_env(tenant_b.tenant_id), b_account, "page")
    before = snapshot(runtime, hs_state, kb_state, tenant_b)
    secret_ids = b_ids(tenant_b) - {b_account}  # the account id is in the request: echoing it tells nothing
    for account in (b_account, str(uuid.uuid4())):  # B's account and no account answer alike
        for method, action, body in ACCOUNT_ACTIONS:
            response = client.open(f"/admin/v1/tenants/{tenant_a.tenant_id}/accounts/{account}/{action}",
                                   method=method, json=body, headers=admin_headers)
            assert (response.status_code, response.json["error"]) == (404, "unknown_account"), (method, action)
            assert not {value for value in secret_ids if value in response.get_data(as_text=True)}
    build_worker(runtime).run_until_idle()
    assert snapshot(runtime, hs_state, kb_state, tenant_b) == before
    with session_scope(runtime.sessions) as session:
        assert session.scalars(select(AccountPayLink)).all() == [] and session.scalars(select(Message).where(
            Message.kb_account_id == b_account)).all() == []
    # A's own account is found under A: the 404 above was the tenant boundary.
    own = f"/admin/v1/tenants/{tenant_a.tenant_id}/accounts/{tenant_a.payor.account_id}"
    assert client.get(f"{own}/reminder-opt-out", headers=admin_headers).json["opted_out"] is False
    assert client.post(f"{own}/pay-link", headers=admin_headers).json["error"] == "no_open_invoice"


# -- webhooks -------------------------------------------------------------------------------------------
def hyperswitch_event(merchant_id: str, payment_id: str, status: str = "failed") -> bytes:
    return json.dumps({"merchant_id": merchant_id, "event_id": f"evt_{uuid.uuid4().hex[:20]}",
                       "event_type": f"payment_{status}", "timestamp": "2026-11-22T10:00:00.000Z",
                       "content": {"type": "payment_details",
                                   "object": {"payment_id": payment_id, "status": status}}}).encode()


def test_hyperswitch_webhooks_signed_by_a_cannot_touch_b(tenant_a: Side, tenant_b: Side, client, runtime,  # type: ignore[no-untyped-def]
                                                         hs_state, kb_state) -> None:
    before = snapshot(runtime, hs_state, kb_state, tenant_b)
    b_payment = ids.payment_id(tenant_b.purchase["kbTransactionId"])
    a_key = tenant_a.merchant["payment_response_hash_key"]
    as_b = hyperswitch_event(tenant_b.merchant["merchant_id"], b_payment)
    refused = client.post("/webhooks/hyperswitch", data=as_b, content_type="application/json",
                          headers={"X-Webhook-Signature-512": compute_signature(as_b, a_key)})
    assert refused.status_code == 401  # B's merchant, A's key: refused, nothing stored
    about_b = hyperswitch_event(tenant_a.merchant["merchant_id"], b_payment)  # A's envelope, B's payment id
    stored = client.post("/webhooks/hyperswitch", data=about_b, content_type="application/json",
                         headers={"X-Webhook-Signature-512": compute_signature(about_b, a_key)})
    assert stored.status_code == 200  # a hint for A: processed as A, where no such payment exists
    build_worker(runtime).run_until_idle()
    assert snapshot(runtime, hs_state, kb_state, tenant_b) == before


def test_kill_bill_pushes_to_a_callback_cannot_touch_b(tenant_a: Side, tenant_b: Side, client, runtime, hs_state,  # type: ignore[no-untyped-def]
                                                       kb_state) -> None:
    before = snapshot(runtime, hs_state, kb_state, tenant_b)
    for event_type, object_type, object_id in (
            ("PAYMENT_SUCCESS", "PAYMENT", tenant_b.purchase["kbPaymentId"]),
            ("INVOICE_CREATION", "INVOICE", str(uuid.uuid4())),
            ("ACCOUNT_CHANGE", "ACCOUNT", tenant_b.payor.account_id)):
        body = json.dumps({"eventType": event_type, "objectType": object_type, "objectId": object_id,
                           "accountId": tenant_b.payor.account_id, "tenantId": tenant_b.tenant_id,
                           "userToken": str(uuid.uuid4()), "metaData": None}).encode()
        response = client.post(f"/webhooks/killbill/{tenant_a.callback_token}", data=body,
                               content_type="application/json")
        assert response.status_code in (200, 400)  # stored for A (or refused as malformed): never for B
    build_worker(runtime).run_until_idle()  # re-read from Kill Bill with A's credentials: B's objects are not A's
    assert snapshot(runtime, hs_state, kb_state, tenant_b) == before


# -- the payor pages --------------------------------------------------------------------------------------
def test_a_pay_token_of_a_cannot_open_b_links(tenant_a: Side, tenant_b: Side, client, runtime, hs_state,  # type: ignore[no-untyped-def]
                                              kb_state) -> None:
    with session_scope(runtime.sessions) as session:
        link = PayLink(kb_tenant_id=tenant_b.tenant_id, kb_account_id=tenant_b.payor.account_id,
                       kb_invoice_id=str(uuid.uuid4()), state=PayLinkState.OPEN,
                       expires_at=utcnow() + timedelta(days=30), created_at=utcnow(), updated_at=utcnow())
        session.add(link)
        session.flush()
        link_id = link.id
    before = snapshot(runtime, hs_state, kb_state, tenant_b)
    signer = tokens.for_runtime(runtime)
    forged = signer.sign(tenant_a.tenant_id, link_id, utcnow() + timedelta(days=1))  # A's tenant, B's link
    for method, path in (("GET", f"/pay/{forged}"), ("POST", f"/pay/{forged}"), ("GET", f"/pay/{forged}/return")):
        assert client.open(path, method=method).status_code == 404
    genuine = signer.sign(tenant_b.tenant_id, link_id, utcnow() + timedelta(days=1))
    payload, rest = genuine.split(".", 1)
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["t"] == tenant_b.tenant_id
    swapped = base64.urlsafe_b64encode(json.dumps({**claims, "t": tenant_a.tenant_id}, separators=(",", ":"))
                                       .encode()).decode().rstrip("=")
    assert client.get(f"/pay/{swapped}.{rest}").status_code == 404  # B's MAC, A's tenant: refused
    assert snapshot(runtime, hs_state, kb_state, tenant_b) == before
