"""What operators do about a payor's Kill Bill account, shared by ``/admin/v1/tenants/<id>/accounts/…`` and
`bridge links` / `bridge reminders`:

* issue the account's pay link (``/pay/account/<token>``: every open invoice, paid in one payment), and
  optionally send it to the payor as the notice "pay your open invoices" (once per issued link);
* see whether the payor opted out of payment reminders, and undo it at their request.

Each call first reads the account from the tenant's own Kill Bill: an account that tenant does not have
(another tenant's, or none) is :class:`UnknownAccount`, so nothing tells one tenant about another's accounts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

import killbill_client as kb
from bridge.db.engine import session_scope
from bridge.errors import BridgeError, Conflict, NotFound
from bridge.invoices import lump_sums, notices, reminders
from bridge.tenancy.env import TenantEnv
from killbill_client.models import Account


class UnknownAccount(NotFound):
    error = "unknown_account"


class NothingOpen(Conflict):
    error = "no_open_invoice"


class KillBillFailed(BridgeError):
    status = 502
    error = "killbill_error"


# -- what the API and the command line show ---------------------------------------------------------------
class PayLinkRequest(BaseModel):
    """The optional body of an issue: whether to send the link to the payor too."""

    model_config = ConfigDict(extra="forbid")

    send: bool = Field(False, description="also send it to the payor on the account's channels, as the notice "
                                          "\"pay your open invoices\" (once per issued link)")


class OpenInvoice(BaseModel):
    kb_invoice_id: str
    invoice_number: str | None
    invoice_date: date | None
    balance: Decimal = Field(description="what is left to pay, in major units (a decimal string)")
    currency: str | None


class AccountPayLinkIssued(BaseModel):
    """The account page link, what it lists now, and whether this request queued the notice."""

    kb_account_id: str
    url: str = Field(description="<BRIDGE_PUBLIC_URL>/pay/account/<token>: a bearer link, give it to the payor only")
    expires_at: datetime
    open_invoices: list[OpenInvoice] = Field(description="oldest first, the order a payment is allocated in")
    total: Decimal = Field(description="the sum of the balances, in major units (a decimal string)")
    currency: str
    sent: bool = Field(description="true when this request queued the notice; false when not asked, or when it "
                                   "was already sent for this link")


class ReminderOptOutView(BaseModel):
    kb_account_id: str
    opted_out: bool
    since: datetime | None = Field(description="when the payor opted out; null while reminders go out")
    source: str | None = Field(description="how: `one_click` (the mailbox's List-Unsubscribe POST) or `page`")


# -- the operations ---------------------------------------------------------------------------------------
@contextmanager
def _killbill(env: TenantEnv) -> Iterator[None]:
    """Kill Bill unreachable or refusing the tenant's credentials is the operator's to fix or retry, not a bug
    of the bridge: said as such (502), not as an internal error."""
    try:
        yield
    except kb.NotFoundError:
        raise
    except kb.KillBillError as exc:
        raise KillBillFailed(f"the Kill Bill of tenant {env.tenant_id} failed the call: {exc.message} (try again; "
                             "`bridge tenants verify` checks its settings)") from exc


def read_account(env: TenantEnv, kb_account_id: str | UUID) -> Account:
    """The account in the tenant's Kill Bill; raises UnknownAccount."""
    unknown = UnknownAccount(f"tenant {env.tenant_id} has no account {kb_account_id}")
    try:
        account_id = UUID(str(kb_account_id))
    except ValueError:
        raise unknown from None
    with _killbill(env):
        try:
            return env.killbill.accounts.get(account_id)
        except kb.NotFoundError:
            raise unknown from None


def issue_account_link(env: TenantEnv, kb_account_id: str | UUID, *, send: bool) -> AccountPayLinkIssued:
    """The account page link (the one the payor may already have, renewed once ended); with ``send``, the
    notice queued on the account's channels. Raises UnknownAccount, or NothingOpen when nothing is due."""
    account = read_account(env, kb_account_id)
    assert account.account_id is not None
    with _killbill(env):
        invoices = lump_sums.open_invoices(env, account.account_id)
        if not invoices:
            raise NothingOpen(f"account {account.account_id} has no open invoice: there is nothing to pay")
        row, url = lump_sums.open_account_link(env, account.account_id)
        sent = False
        if send:
            with session_scope(env.sessions) as session:
                sent = notices.queue_account_pay_link(session, env, account=account, account_link_id=row.id,
                                                      expires_at=row.expires_at, invoices=invoices)
    currency = account.currency or next((i.currency for i in invoices if i.currency), None) or "USD"
    return AccountPayLinkIssued(
        kb_account_id=str(account.account_id), url=url, expires_at=row.expires_at, currency=currency,
        open_invoices=[OpenInvoice(kb_invoice_id=str(i.invoice_id), invoice_number=i.invoice_number,
                                   invoice_date=i.invoice_date, balance=i.balance or Decimal(0), currency=i.currency)
                       for i in invoices],
        total=sum((i.balance or Decimal(0) for i in invoices), Decimal(0)), sent=sent)


def reminder_opt_out(env: TenantEnv, kb_account_id: str | UUID) -> ReminderOptOutView:
    account = read_account(env, kb_account_id)
    opt_out = reminders.opt_out_of(env, str(account.account_id))
    return ReminderOptOutView(kb_account_id=str(account.account_id), opted_out=opt_out is not None,
                              since=opt_out.created_at if opt_out else None, source=opt_out.source if opt_out else None)


def resubscribe(env: TenantEnv, kb_account_id: str | UUID) -> bool:
    """Payment reminders for the account again; True when it had opted out (idempotent)."""
    return reminders.resubscribe(env, str(read_account(env, kb_account_id).account_id))
