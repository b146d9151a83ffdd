"""The ``payment_methods`` rows: every read scoped to the tenant, every write one short transaction.

Writes for one account are serialized by locking its ``hs_customers`` row (SQLite's BEGIN IMMEDIATE
already serializes every write), so "one default per account" and "one Kill Bill payment method per
Hyperswitch payment method" hold under concurrent calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bridge.db.engine import session_scope
from bridge.db.payments import HsCustomer, PaymentMethod, PaymentMethodState
from bridge.payment_methods import errors
from bridge.payment_methods.sources import Card, Saved, listed_card
from bridge.tenancy.env import TenantEnv
from hyperswitch_client.mandates import Mandate
from hyperswitch_client.payment_methods import CustomerPaymentMethod

# Mandate statuses that can never be charged again; "pending" may still become active.
_DEAD_MANDATE = frozenset({"revoked", "inactive"})


@dataclass(frozen=True)
class NewMethod:
    kb_payment_method_id: str
    saved: Saved


def find(env: TenantEnv, kb_payment_method_id: UUID | str) -> PaymentMethod | None:
    with session_scope(env.sessions) as session:
        return session.get(PaymentMethod, (env.tenant_id, str(kb_payment_method_id)))


def account_rows(env: TenantEnv, kb_account_id: UUID | str) -> list[PaymentMethod]:
    """The account's payment methods that are not deleted, oldest first."""
    with session_scope(env.sessions) as session:
        return list(session.scalars(_account_query(env, kb_account_id)))


def _account_query(env: TenantEnv, kb_account_id: UUID | str) -> Select[tuple[PaymentMethod]]:
    return select(PaymentMethod).where(
        PaymentMethod.kb_tenant_id == env.tenant_id, PaymentMethod.kb_account_id == str(kb_account_id),
        PaymentMethod.state != PaymentMethodState.DELETED,
    ).order_by(PaymentMethod.created_at, PaymentMethod.kb_payment_method_id)


def _lock_account(session: Session, env: TenantEnv, kb_account_id: str) -> None:
    session.get(HsCustomer, (env.tenant_id, kb_account_id), with_for_update=True)


def insert(env: TenantEnv, kb_account_id: UUID | str, methods: Sequence[NewMethod], *,
           make_default: bool = False) -> list[PaymentMethod]:
    """Store new payment methods, all or none; one that a concurrent call stored first is returned as stored.

    ``make_default`` makes the first of them the account's one default.
    """
    account = str(kb_account_id)
    try:
        with session_scope(env.sessions) as session:
            _lock_account(session, env, account)
            rows = [_insert_one(session, env, account, method) for method in methods]
            if make_default and rows:
                _make_default(session, env, rows[0])
            return rows
    except IntegrityError:
        # The same kbPaymentMethodId was inserted concurrently before the account's row existed to
        # lock: what that call stored is what this one must be compared with.
        stored = [find(env, method.kb_payment_method_id) for method in methods]
        if any(row is None for row in stored):
            raise errors.refused(errors.CONFLICT, "a concurrent change to these payment methods won; "
                                                  "call again", 409) from None
        return [row for row in stored if row is not None]


def _insert_one(session: Session, env: TenantEnv, account: str, method: NewMethod) -> PaymentMethod:
    existing = session.get(PaymentMethod, (env.tenant_id, method.kb_payment_method_id))
    if existing is not None:
        return existing
    saved = method.saved
    holder = session.scalars(select(PaymentMethod.kb_payment_method_id).where(
        PaymentMethod.kb_tenant_id == env.tenant_id, PaymentMethod.state != PaymentMethodState.DELETED,
        PaymentMethod.hs_payment_method_id == saved.payment_method_id)).first()
    if holder is not None:
        raise errors.refused(errors.ALREADY_ADDED, f"Hyperswitch payment method {saved.payment_method_id} is "
                                                   f"already Kill Bill payment method {holder}", 409)
    row = PaymentMethod(kb_tenant_id=env.tenant_id, kb_payment_method_id=method.kb_payment_method_id,
                        kb_account_id=account, hs_customer_id=saved.customer_id,
                        hs_payment_method_id=saved.payment_method_id, hs_mandate_id=saved.mandate_id,
                        is_default=False, state=PaymentMethodState.ACTIVE, payment_method=_short(saved.payment_method),
                        mandate_status=saved.mandate_status, created_at=env.now(), updated_at=env.now())
    _set_card(row, saved.card)
    session.add(row)
    session.flush()
    return row


def _short(value: str | None) -> str | None:
    return value[:32] if value else None


def _set_card(row: PaymentMethod, card: Card | None) -> None:
    if card is None:
        return
    row.card_network, row.card_last4 = card.network, card.last4
    row.card_exp_month, row.card_exp_year = card.exp_month, card.exp_year


def _make_default(session: Session, env: TenantEnv, row: PaymentMethod) -> None:
    session.execute(update(PaymentMethod).where(
        PaymentMethod.kb_tenant_id == env.tenant_id, PaymentMethod.kb_account_id == row.kb_account_id,
        PaymentMethod.kb_payment_method_id != row.kb_payment_method_id, PaymentMethod.is_default.is_(True),
    ).values(is_default=False, updated_at=env.now()))
    row.is_default = True
    row.updated_at = env.now()


def make_default(env: TenantEnv, kb_account_id: UUID | str, kb_payment_method_id: UUID | str) -> None:
    with session_scope(env.sessions) as session:
        _lock_account(session, env, str(kb_account_id))
        row = session.get(PaymentMethod, (env.tenant_id, str(kb_payment_method_id)))
        if row is None or row.state is PaymentMethodState.DELETED:
            raise errors.refused(errors.DELETED, f"payment method {kb_payment_method_id} was deleted meanwhile", 409)
        _make_default(session, env, row)


def mark_deleted(env: TenantEnv, kb_payment_method_id: UUID | str, mandate_status: str | None) -> None:
    with session_scope(env.sessions) as session:
        row = session.get(PaymentMethod, (env.tenant_id, str(kb_payment_method_id)), with_for_update=True)
        row.state, row.is_default, row.updated_at = PaymentMethodState.DELETED, False, env.now()
        row.mandate_status = mandate_status or row.mandate_status


def apply_gateway_view(env: TenantEnv, kb_account_id: UUID | str, listed: Mapping[str, CustomerPaymentMethod],
                       mandates: Mapping[str, Mandate]) -> list[PaymentMethod]:
    """Bring the account's rows up to date with what Hyperswitch lists for the customer.

    Card facts are refreshed; a row whose mandate is dead, or (without a mandate) whose saved payment
    method is gone, becomes unusable. Nothing ever becomes usable again this way.
    """
    with session_scope(env.sessions) as session:
        _lock_account(session, env, str(kb_account_id))
        rows = list(session.scalars(_account_query(env, kb_account_id)))
        for row in rows:
            _apply_one(env, row, listed.get(row.hs_payment_method_id or ""), mandates)
        return rows


def _apply_one(env: TenantEnv, row: PaymentMethod, pm: CustomerPaymentMethod | None,
               mandates: Mapping[str, Mandate]) -> None:
    if pm is not None:
        _set_card(row, listed_card(pm))
    if row.hs_mandate_id:
        mandate = mandates.get(row.hs_mandate_id)
        row.mandate_status = str(mandate.status)[:16] if mandate else row.mandate_status
        usable = mandate is not None and row.mandate_status not in _DEAD_MANDATE
    else:
        usable = pm is not None
    if not usable and row.state is PaymentMethodState.ACTIVE:
        row.state = PaymentMethodState.UNUSABLE
    row.updated_at = env.now()


def search(env: TenantEnv, key: str, offset: int, limit: int) -> tuple[list[PaymentMethod], int]:
    """Payment methods (deleted ones included, as Kill Bill's search expects) whose id equals ``key``."""
    condition = or_(PaymentMethod.kb_payment_method_id == key, PaymentMethod.kb_account_id == key,
                    PaymentMethod.hs_payment_method_id == key, PaymentMethod.hs_mandate_id == key,
                    PaymentMethod.hs_customer_id == key)
    query = select(PaymentMethod).where(PaymentMethod.kb_tenant_id == env.tenant_id, condition)
    with session_scope(env.sessions) as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(PaymentMethod.created_at, PaymentMethod.kb_payment_method_id)
                               .offset(offset).limit(limit)).all()
    return list(rows), total
