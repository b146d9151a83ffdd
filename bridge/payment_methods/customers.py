"""A Kill Bill account's Hyperswitch customer, created on first use.

The customer_id derives from the account id (``ids.customer_id``), so a retried or concurrent create
can never make two customers: Hyperswitch answers the second one "already exists" and it is read back.
The mapping row is inserted tolerating a concurrent insert of the same row.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.exc import IntegrityError

import hyperswitch_client as hs
from bridge.db.engine import session_scope
from bridge.db.payments import HsCustomer
from bridge.payment_methods.errors import hyperswitch_failure, killbill_failure
from bridge.payments import ids
from bridge.plugin_api.errors import unknown
from bridge.tenancy.env import TenantEnv
from hyperswitch_client.customers import CustomerCreateParams
from killbill_client import KillBillError, NotFoundError
from killbill_client.models import Account

_TEXT_LIMIT = 255  # Hyperswitch's limit on the customer's text fields


def mapped_customer(env: TenantEnv, kb_account_id: UUID | str) -> str | None:
    with session_scope(env.sessions) as session:
        row = session.get(HsCustomer, (env.tenant_id, str(kb_account_id)))
        return row.hs_customer_id if row else None


def customer_id_of(env: TenantEnv, kb_account_id: UUID | str) -> str:
    """The account's customer_id without creating anything: the mapped one, else the derived one."""
    return mapped_customer(env, kb_account_id) or ids.customer_id(kb_account_id)


def kb_account(env: TenantEnv, kb_account_id: UUID | str) -> Account:
    try:
        return env.killbill.accounts.get(UUID(str(kb_account_id)))
    except NotFoundError:
        raise unknown("account", f"no account {kb_account_id} in this Kill Bill tenant") from None
    except KillBillError as error:
        raise killbill_failure(f"reading account {kb_account_id}", error) from None


def ensure_customer(env: TenantEnv, kb_account_id: UUID | str) -> str:
    """The account's Hyperswitch customer_id, creating the customer (and its mapping) on first use."""
    mapped = mapped_customer(env, kb_account_id)
    if mapped:
        return mapped
    account = kb_account(env, kb_account_id)
    customer_id = ids.customer_id(kb_account_id)
    _create_or_find(env, customer_id, account)
    remember(env, kb_account_id, customer_id)
    return mapped_customer(env, kb_account_id) or customer_id


def _create_or_find(env: TenantEnv, customer_id: str, account: Account) -> None:
    params = CustomerCreateParams(
        customer_id=customer_id, name=_text(account.name), email=_text(account.email), phone=_text(account.phone),
        metadata={"kb_tenant_id": env.tenant_id, "kb_account_id": str(account.account_id)})
    try:
        env.hyperswitch.customers.create(params)
    except hs.DuplicateResourceError:
        # It exists already (an earlier attempt, a concurrent call, or a payment that named it).
        _retrieve(env, customer_id)
    except hs.HyperswitchError as error:
        raise hyperswitch_failure(f"creating customer {customer_id}", error) from None


def _retrieve(env: TenantEnv, customer_id: str) -> None:
    try:
        env.hyperswitch.customers.retrieve(customer_id)
    except hs.HyperswitchError as error:
        raise hyperswitch_failure(f"reading customer {customer_id}", error) from None


def remember(env: TenantEnv, kb_account_id: UUID | str, customer_id: str) -> None:
    """Store the mapping; a concurrent call that stored it first stored the same derived id."""
    try:
        with session_scope(env.sessions) as session:
            session.add(HsCustomer(kb_tenant_id=env.tenant_id, kb_account_id=str(kb_account_id),
                                   hs_customer_id=customer_id, created_at=env.now()))
    except IntegrityError:
        pass


def _text(value: str | None) -> str | None:
    return value[:_TEXT_LIMIT] if value else None
