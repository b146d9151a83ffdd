"""Who pays by link: the tenant's ``pay_by_link`` settings, overridable per account.

The Kill Bill custom field ``PAY_BY_LINK`` on the account (``always`` / ``never``) wins over the tenant's
policy. Otherwise an account pays by link when it is tagged AUTO_PAY_OFF or MANUAL_PAY (Kill Bill will
not charge it), when its default payment method in the bridge has no usable mandate or saved payment
method (Kill Bill would fail to charge it), and after a final failure of an automatic payment. An account
whose default payment method belongs to another plugin is that plugin's business: no link.

**Due dates.** Kill Bill 0.24 invoices have an invoice date and a target date (the date billing ran up
to) but no due date, and accounts have no payment terms. The bridge takes them from the tenant setting
``pay_by_link.payment_terms_days`` (net days after the invoice date), overridable per account with the
custom field ``PAYMENT_TERMS_DAYS``; without either, an invoice has no due date (and no reminders "before
the due date").

The account's custom fields are read once per invoice event (:func:`account_fields`) and handed to every
decision that needs one of them (this module's, and the payor's channels in :mod:`bridge.channels.choice`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, timedelta
from uuid import UUID

from sqlalchemy import select

from bridge.db.engine import session_scope
from bridge.db.payments import PaymentMethod, PaymentMethodState
from bridge.tenancy.env import TenantEnv
from killbill_client.models import Account, Invoice

log = logging.getLogger(__name__)

OVERRIDE_FIELD = "PAY_BY_LINK"
TERMS_FIELD = "PAYMENT_TERMS_DAYS"
MAX_TERMS_DAYS = 365
MANUAL_PAY, NO_MANDATE, FAILED_PAYMENT, ALWAYS = "manual_pay", "no_mandate", "failed_payment", "account_override"


def account_fields(env: TenantEnv, account_id: UUID) -> dict[str, str]:
    """The account's custom fields by name (the first of a name, as Kill Bill lists them, like ``get_value``)."""
    fields: dict[str, str] = {}
    for field in env.killbill.custom_fields.list_for_account(account_id):
        if field.name is not None and field.value is not None:
            fields.setdefault(field.name, field.value)
    return fields


def _field(env: TenantEnv, account_id: UUID, name: str, fields: Mapping[str, str] | None) -> str | None:
    return fields.get(name) if fields is not None else env.killbill.custom_fields.get_value(account_id, name)


def account_override(env: TenantEnv, account_id: UUID, fields: Mapping[str, str] | None = None) -> str | None:
    """``always``, ``never`` or None (any other value is ignored). ``fields``: :func:`account_fields`, when
    the caller has read them already."""
    value = (_field(env, account_id, OVERRIDE_FIELD, fields) or "").strip().lower()
    return value if value in ("always", "never") else None


def has_usable_method(env: TenantEnv, account: Account) -> bool | None:
    """True/False for a default payment method of the bridge; None when the default is another plugin's."""
    if account.payment_method_id is None:
        return False
    with session_scope(env.sessions) as session:
        row = session.scalars(select(PaymentMethod).where(
            PaymentMethod.kb_tenant_id == env.tenant_id,
            PaymentMethod.kb_payment_method_id == str(account.payment_method_id))).one_or_none()
        if row is None:
            # Not carried by the bridge: another plugin's (or one the bridge never saw).
            return None
        return row.state is PaymentMethodState.ACTIVE and bool(row.hs_mandate_id or row.hs_payment_method_id)


def pay_by_link_reason(env: TenantEnv, account: Account, *, after_failure: bool = False,
                       fields: Mapping[str, str] | None = None) -> str | None:
    """Why this account's invoice is paid by link now, or None when it is not."""
    assert account.account_id is not None
    override = account_override(env, account.account_id, fields)
    if override == "never":
        return None
    if override == "always":
        return ALWAYS
    policy = env.settings.pay_by_link
    if after_failure:
        return FAILED_PAYMENT if policy.after_failed_payment else None
    if policy.manual_pay_accounts and env.killbill.tags.is_manual_pay(account.account_id):
        return MANUAL_PAY
    if policy.accounts_without_mandate and has_usable_method(env, account) is False:
        return NO_MANDATE
    return None


def payment_terms_days(env: TenantEnv, account: Account, fields: Mapping[str, str] | None = None) -> int | None:
    """Net days the account has to pay an invoice: its custom field, else the tenant's, else None."""
    assert account.account_id is not None
    value = (_field(env, account.account_id, TERMS_FIELD, fields) or "").strip()
    if value:
        if value.isdigit() and int(value) <= MAX_TERMS_DAYS:
            return int(value)
        log.warning("account %s: custom field %s=%r is not a number of days (0-%s); the tenant's terms apply",
                    account.account_id, TERMS_FIELD, value[:20], MAX_TERMS_DAYS)
    return env.settings.pay_by_link.payment_terms_days


def due_date(env: TenantEnv, invoice: Invoice, account: Account,
             fields: Mapping[str, str] | None = None) -> date | None:
    """When the invoice is due (see the module), or None."""
    terms = payment_terms_days(env, account, fields)
    if terms is None or invoice.invoice_date is None:
        return None
    return invoice.invoice_date + timedelta(days=terms)
