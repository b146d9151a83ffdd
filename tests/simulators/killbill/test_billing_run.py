"""The billing-run controls: accounts loaded at once with their tags and no pushes, then one invoice per
account committed in one go, each announced by INVOICE_CREATION and auto-paid as a single commit is."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import requests

from bridge.simulators.killbill import KillBillState
from bridge.simulators.server import BackgroundServer
from killbill_client import KillBillClient
from killbill_client.models import Account, ExternalCharge, Tenant
from tests.simulators.killbill.support import PLUGIN_NAME, PushReceiver, StubPlugin


def _load(kb_server: BackgroundServer, tenant: Tenant, accounts: list[dict[str, object]],
          tags: list[str] | None = None) -> requests.Response:
    return requests.post(f"{kb_server.url}/__sim/tenants/{tenant.tenant_id}/accounts",
                         json={"accounts": accounts, "tags": tags or []}, timeout=10)


def test_loaded_accounts_carry_their_fields_and_tags_and_send_no_push(
        kb_server: BackgroundServer, kb: KillBillClient, kb_state: KillBillState, tenant: Tenant,
        push_receiver: tuple[PushReceiver, str]) -> None:
    receiver, url = push_receiver
    kb.tenants.register_push_callback(url)
    receiver.wait_for(1)  # TENANT_CONFIG_CHANGE of the registration itself
    response = _load(kb_server, tenant, [{"name": f"Payor {n}", "email": f"payor-{n}@example.com", "currency": "EUR",
                                          "externalKey": f"payor-{n}", "notAField": "dropped"} for n in range(3)],
                     ["AUTO_PAY_OFF"])
    assert response.status_code == 201
    loaded = response.json()
    assert [row["externalKey"] for row in loaded] == ["payor-0", "payor-1", "payor-2"]
    account = kb.accounts.get(loaded[1]["accountId"])
    assert (account.name, account.email, account.currency) == ("Payor 1", "payor-1@example.com", "EUR")
    assert kb.tags.is_manual_pay(account.account_id)  # type: ignore[arg-type]
    assert kb_state.wait_idle()
    assert len(receiver.received) == 1

    again = _load(kb_server, tenant, [{"externalKey": "new"}, {"externalKey": "payor-0"}])
    assert again.status_code == 409  # Kill Bill's "account already exists"; nothing of the call is stored
    assert all(a.fields["externalKey"] != "new" for a in kb_state.accounts.values())
    assert _load(kb_server, tenant, [{"name": "x"}], ["WRITTEN_OFF"]).status_code == 400  # an invoice tag


def test_billing_run_commits_one_invoice_per_account_and_announces_each(
        kb_server: BackgroundServer, kb: KillBillClient, kb_state: KillBillState, tenant: Tenant,
        push_receiver: tuple[PushReceiver, str], stub_plugin: StubPlugin) -> None:
    receiver, url = push_receiver
    kb.tenants.register_push_callback(url)
    receiver.wait_for(1)
    manual = [row["accountId"] for row in _load(kb_server, tenant, [
        {"name": f"Manual {n}", "currency": "USD"} for n in range(4)], ["AUTO_PAY_OFF"]).json()]
    # An account that pays automatically, already invoiced once.
    auto = kb.accounts.create(Account(name="Auto", currency="USD"))
    kb.payment_methods.add(auto.account_id, PLUGIN_NAME, is_default=True)  # type: ignore[arg-type]
    kb.invoices.create_external_charges(auto.account_id, [ExternalCharge(amount=Decimal(5))])  # type: ignore[arg-type]
    assert kb_state.wait_idle()
    earlier_pushes = len(receiver.received)

    before = datetime.now(UTC)
    response = requests.post(f"{kb_server.url}/__sim/billing-run", json={
        "tenantId": str(tenant.tenant_id), "amount": "19.99", "description": "Pro plan, monthly"}, timeout=10)
    assert response.status_code == 200, response.text
    run = response.json()
    assert before <= datetime.fromisoformat(run["committedAt"]) <= datetime.now(UTC)
    invoices = {row["accountId"]: row for row in run["invoices"]}
    assert set(invoices) == {*manual, str(auto.account_id)}
    assert len({row["invoiceNumber"] for row in run["invoices"]}) == 5
    for account_id in manual:
        invoice = kb.invoices.get(invoices[account_id]["invoiceId"])
        assert (str(invoice.status), invoice.amount, invoice.balance) == ("COMMITTED", Decimal("19.99"),
                                                                          Decimal("19.99"))
        assert invoice.items[0].description == "Pro plan, monthly"  # type: ignore[index]
    assert kb_state.wait_idle()
    pushed = [json.loads(r["body"]) for r in receiver.received[earlier_pushes:]]
    created = [b["objectId"] for b in pushed if b["eventType"] == "INVOICE_CREATION"]
    assert sorted(created) == sorted(row["invoiceId"] for row in run["invoices"])
    # Auto-pay ran as after any commit: the AUTO_PAY_OFF accounts were skipped, the other one charged.
    purchases = [c["body"] for c in stub_plugin.calls if c["operation"] == "purchasePayment"]
    assert [c["kbAccountId"] for c in purchases] == [str(auto.account_id)] * 2
    assert kb.invoices.get(invoices[str(auto.account_id)]["invoiceId"]).balance == 0


def test_billing_run_of_named_accounts_only(kb_server: BackgroundServer, kb: KillBillClient, tenant: Tenant) -> None:
    ids = [row["accountId"] for row in _load(kb_server, tenant, [{"currency": "USD"} for _ in range(3)]).json()]
    url = f"{kb_server.url}/__sim/billing-run"
    run = requests.post(url, json={"tenantId": str(tenant.tenant_id), "amount": 3, "accountIds": ids[:2]},
                        timeout=10).json()
    assert sorted(row["accountId"] for row in run["invoices"]) == sorted(ids[:2])
    assert kb.invoices.list_for_account(ids[2]) == []  # type: ignore[arg-type]
    assert requests.post(url, json={"tenantId": str(tenant.tenant_id), "amount": 0}, timeout=10).status_code == 400
    assert requests.post(url, json={"tenantId": str(tenant.tenant_id), "amount": 1, "accountIds": [ids[0], ids[0]]},
                         timeout=10).status_code == 400

