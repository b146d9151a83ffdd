"""Which channels a payor gets: the tenant's ``channels.default``, overridable per account.

The Kill Bill custom field ``NOTIFICATION_CHANNELS`` on the account (e.g. ``sms``, ``email, whatsapp``) wins
over the tenant's default, the way ``PAY_BY_LINK`` overrides the pay-by-link policy
(:mod:`bridge.invoices.policy`). A value naming no known channel, or an unknown one, is ignored with a
warning and the tenant's default applies: a typo in Kill Bill must not silence a payor.

Each message goes to the account's address on its channel: its email, or its phone for SMS and WhatsApp.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from uuid import UUID

from bridge.channels import CHANNELS
from bridge.channels.catalog import get
from bridge.tenancy.env import TenantEnv
from killbill_client.models import Account

log = logging.getLogger(__name__)

OVERRIDE_FIELD = "NOTIFICATION_CHANNELS"
_SEPARATORS = re.compile(r"[\s,;]+")


def parse(value: str | None) -> tuple[str, ...] | None:
    """The channels a custom field value names, in its order; None when it is empty or names an unknown one."""
    names = [name for name in _SEPARATORS.split((value or "").strip().lower()) if name]
    if not names or any(name not in CHANNELS for name in names):
        return None
    return tuple(dict.fromkeys(names))


def account_override(env: TenantEnv, account_id: UUID,
                     fields: Mapping[str, str] | None = None) -> tuple[str, ...] | None:
    """The channels the account's custom field names; ``fields``: the account's custom fields when the caller
    has read them already (one Kill Bill call for all the decisions about an invoice)."""
    value = fields.get(OVERRIDE_FIELD) if fields is not None else \
        env.killbill.custom_fields.get_value(account_id, OVERRIDE_FIELD)
    channels = parse(value)
    if channels is None and (value or "").strip():
        log.warning("account %s: custom field %s=%r names no channels of %s; the tenant's default applies",
                    account_id, OVERRIDE_FIELD, value[:40] if value else value, ", ".join(CHANNELS))
    return channels


def for_account(env: TenantEnv, account: Account, fields: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The channels this account's payor gets, in order (``fields``: see :func:`account_override`)."""
    assert account.account_id is not None
    return account_override(env, account.account_id, fields) or tuple(env.settings.channels.default)


def address(channel: str, account: Account) -> str | None:
    """The account's address on ``channel`` (its email, its phone in E.164 when it is a valid number)."""
    return get(channel).address(account)
