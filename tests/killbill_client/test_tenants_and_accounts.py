"""Tenants, plugin configuration, push callback and accounts, client ⇄ simulator over HTTP."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from killbill_client import (
    ConflictError,
    KillBillClient,
    NotFoundError,
    UnauthorizedError,
)
from killbill_client.models import Account, ExternalCharge, Tenant
from tests.simulators.killbill.support import (
    Exchange,
    RecordingSession,
    check_exchanges,
)


def test_create_tenant_reads_it_back_without_the_secret(admin: KillBillClient, tenant: Tenant,
                                                        tenant_keys: tuple[str, str]) -> None:
    assert tenant.api_key == tenant_keys[0]
    assert tenant.api_secret is None
    assert tenant.external_key == f"ext-{tenant_keys[0]}"
    assert admin.tenants.get_by_api_key(tenant_keys[0]).tenant_id == tenant.tenant_id


def test_tenant_by_id_needs_tenant_headers(admin: KillBillClient, kb: KillBillClient, tenant: Tenant) -> None:
    assert kb.tenants.get(tenant.tenant_id).api_key == tenant.api_key  # type: ignore[arg-type]
    with pytest.raises(UnauthorizedError) as caught:
        admin.tenants.get(tenant.tenant_id)  # type: ignore[arg-type]
    assert caught.value.status == 401


def test_duplicate_api_key_is_a_conflict(admin: KillBillClient, tenant: Tenant,
                                         tenant_keys: tuple[str, str]) -> None:
    with pytest.raises(ConflictError) as caught:
        admin.tenants.create(*tenant_keys)
    assert caught.value.code == 20000
    assert caught.value.class_name == "org.killbill.billing.tenant.api.TenantApiException"


def test_unknown_api_key_is_not_found(admin: KillBillClient) -> None:
    with pytest.raises(NotFoundError, match="Tenant does not exist for api key nobody"):
        admin.tenants.get_by_api_key("nobody")


def test_plugin_config_upload_replaces_and_deletes(kb: KillBillClient) -> None:
    first = kb.tenants.upload_plugin_config("killbill-hyperswitch", "bridge.url=http://a\n")
    assert first.key == "PLUGIN_CONFIG_killbill-hyperswitch"
    assert first.values == ["bridge.url=http://a\n"]
    kb.tenants.upload_plugin_config("killbill-hyperswitch", "bridge.url=http://b\n")
    assert kb.tenants.get_plugin_config("killbill-hyperswitch").value == "bridge.url=http://b\n"
    kb.tenants.delete_plugin_config("killbill-hyperswitch")
    assert kb.tenants.get_plugin_config("killbill-hyperswitch").values == []


def test_push_callback_is_single_valued(kb: KillBillClient) -> None:
    assert kb.tenants.get_push_callback() is None
    kb.tenants.register_push_callback("http://127.0.0.1:1/first")
    registered = kb.tenants.register_push_callback("http://127.0.0.1:1/second?token=abc")
    assert registered.values == ["http://127.0.0.1:1/second?token=abc"]
    assert kb.tenants.get_push_callback() == "http://127.0.0.1:1/second?token=abc"
    kb.tenants.delete_push_callback()
    assert kb.tenants.get_push_callback() is None


def test_tenants_do_not_see_each_other(admin: KillBillClient, kb: KillBillClient, account: Account) -> None:
    key = "other-" + uuid4().hex[:8]
    admin.tenants.create(key, "other-secret")
    other = admin.for_tenant(key, "other-secret")
    with pytest.raises(NotFoundError):
        other.accounts.get(account.account_id)  # type: ignore[arg-type]
    stranger = KillBillClient(kb.base_url, username="admin", password="password", api_key=key,
                              api_secret="wrong-secret")
    with pytest.raises(UnauthorizedError):
        stranger.accounts.get(account.account_id)  # type: ignore[arg-type]


def test_account_round_trip_with_defaults(kb: KillBillClient) -> None:
    created = kb.accounts.create(Account(name="Grace Hopper", email="grace@example.com", currency="EUR",
                                         company="Navy", notes="first", locale="en_US"))
    assert created.account_id is not None
    assert created.external_key == str(created.account_id)  # Kill Bill defaults the key to the id
    assert (created.name, created.currency, created.company, created.locale) == (
        "Grace Hopper", "EUR", "Navy", "en_US")
    assert created.reference_time is not None and created.reference_time.tzinfo is not None
    assert created.account_balance is None
    assert kb.accounts.get_by_external_key(created.external_key).account_id == created.account_id


def test_account_balance_only_when_asked(kb: KillBillClient, account: Account) -> None:
    kb.invoices.create_external_charges(account.account_id, [ExternalCharge(amount=Decimal("12.34"))])  # type: ignore[arg-type]
    plain = kb.accounts.get(account.account_id)  # type: ignore[arg-type]
    with_balance = kb.accounts.get(account.account_id, with_balance=True)  # type: ignore[arg-type]
    with_cba = kb.accounts.get(account.account_id, with_balance_and_cba=True)  # type: ignore[arg-type]
    assert plain.account_balance is None
    assert with_balance.account_balance == Decimal("12.34") and with_balance.account_cba is None
    assert with_cba.account_cba == Decimal("0")


def test_duplicate_external_key_and_unknown_account(kb: KillBillClient, account: Account) -> None:
    with pytest.raises(ConflictError) as conflict:
        kb.accounts.create(Account(name="Copy", currency="USD", external_key=account.external_key))
    assert conflict.value.code == 3000
    with pytest.raises(NotFoundError) as missing:
        kb.accounts.get(uuid4())
    assert missing.value.code == 3002
    with pytest.raises(NotFoundError) as missing_key:
        kb.accounts.get_by_external_key("no-such-key")
    assert missing_key.value.code == 3003


def test_accounts_pagination_reads_the_headers(kb: KillBillClient) -> None:
    for index in range(5):
        kb.accounts.create(Account(name=f"A{index}", currency="USD"))
    first = kb.accounts.list(offset=0, limit=2)
    assert len(first.items) == 2
    assert (first.current_offset, first.next_offset, first.total_nb_records) == (0, 2, 5)
    assert first.has_next and first.next_page_uri
    last = kb.accounts.list(offset=4, limit=2)
    assert len(last.items) == 1 and not last.has_next
    assert len({a.account_id for a in kb.accounts.iterate(page_size=2)}) == 5


def test_recorder_catches_a_violation() -> None:
    """The contract check itself can fail: a request body the swagger forbids."""
    session = RecordingSession()
    session.exchanges.append(Exchange("POST", "/1.0/kb/accounts", {}, "application/json", b'{"name": 42}', 201,
                                      "", b"", None))
    with pytest.raises(AssertionError):
        check_exchanges(session.exchanges)
