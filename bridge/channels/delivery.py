"""The one interface of every channel (the channels by name: :mod:`bridge.channels.catalog`).

A channel knows three things: an account's address on it (its email, its phone), whether a recipient is an
address it can use (and why not), and how to deliver one message — render the tenant's templates for the
channel and hand the result to its carrier (SMTP, the messaging provider). Everything around that —
queueing, prechecks, send-time context, sending once, the message log, retries — is the same for all of
them (:func:`bridge.invoices.messages.send_message`).

``deliver`` returns what was delivered or raises an outcome of :mod:`bridge.channels.outcomes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bridge.db.invoices import Message
    from bridge.runtime import Runtime
    from bridge.tenancy.env import TenantEnv
    from killbill_client.models import Account


@dataclass(frozen=True)
class Outgoing:
    """One message about to go out: its row, the checked recipient, and the full template context."""

    message: Message
    recipient: str
    context: dict[str, Any]
    env: TenantEnv
    runtime: Runtime
    now: datetime


@dataclass(frozen=True)
class Delivered:
    """What the carrier took: its id for this message (Message-ID, provider sid) and the subject, if any."""

    provider_message_id: str | None
    subject: str | None = None


class Channel(Protocol):
    name: str
    no_address: str  # the skip reason when the account has no address on this channel

    def address(self, account: Account) -> str | None:
        """The account's address on this channel, normalised when it can be; None when it has none."""

    def refusal(self, recipient: str) -> str | None:
        """Why ``recipient`` is not an address of this channel, or None when it is."""

    def log_form(self, recipient: str) -> str:
        """The recipient as logs show it."""

    def deliver(self, outgoing: Outgoing) -> Delivered:
        """Render and send; raises Undeliverable, Misconfigured or DeliveryFailed."""
