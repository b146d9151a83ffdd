"""Channel tests: the local messaging provider (bridge.simulators.messaging) on loopback, and a tenant whose
SMS and WhatsApp go through it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from bridge.db.engine import session_scope
from bridge.db.invoices import Message
from bridge.db.jobs import Job
from bridge.invoices import messages
from bridge.simulators.messaging import MessagingState, create_app
from bridge.simulators.server import BackgroundServer

SMS_SENDER = "+14155550100"
WHATSAPP_SENDER = "+14155550199"
PAYOR_PHONE = "+14155552671"
AUTH_TOKEN = "msgtoken-c0ffee1234567890abcd"


@dataclass
class Provider:
    """The fake provider, its URL and the account the tenant sends as."""

    state: MessagingState
    url: str
    account_sid: str
    auth_token: str

    def credentials(self) -> dict[str, Any]:
        return {"messaging_base_url": self.url, "messaging_account_sid": self.account_sid,
                "messaging_auth_token": self.auth_token}

    def sent(self, channel: str | None = None) -> list[Any]:
        return [m for m in self.state.snapshot() if channel is None or m.channel == channel]


@pytest.fixture
def provider() -> Iterator[Provider]:
    state = MessagingState()
    account_sid, token = state.add_account("AC" + "0123456789abcdef" * 2, AUTH_TOKEN)
    with BackgroundServer(create_app(state)) as server:
        yield Provider(state, server.url, account_sid, token)


def text_settings(**channels: Any) -> dict[str, Any]:
    """The tenant's channel settings: both senders set, then ``channels`` over them."""
    return {"sms_sender": SMS_SENDER, "whatsapp_sender": WHATSAPP_SENDER, **channels}


def stored(runtime, message_id: int) -> Message:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return session.get(Message, message_id)


def send_job(runtime, message_id: int) -> Job:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return session.scalars(select(Job).where(Job.dedupe_key == messages.send_job_dedupe_key(message_id))).one()
