"""An SMTP sink on a loopback port that keeps every message it receives (tests and `bridge demo`).

A real SMTP server (aiosmtpd), so the bridge's mailer is exercised end to end: plain SMTP by default,
STARTTLS, implicit TLS and AUTH through aiosmtpd's ``Controller`` options. ``stop()`` then ``start()``
again on the same port simulates an outage. Recipients in ``refuse`` are refused for good (550).
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import LoginPassword

HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A port nobody listens on right now (aiosmtpd, unlike a socket server, cannot bind port 0)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    """One message as the SMTP server took it: the envelope, the raw content and how the session went."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes
    authenticated_as: str | None
    tls: bool
    # When the server took the message (end of DATA): the benchmarks time deliveries by it.
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def email(self) -> EmailMessage:
        return message_from_bytes(self.content, policy=policy.default)  # type: ignore[return-value]


@dataclass
class RecordingHandler:
    """aiosmtpd handler: accepts every recipient except those in ``refuse`` and keeps every message."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        message = Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content,
                           login, _encrypted(server, session))
        with self._lock:
            self.received.append(message)
        return "250 Message accepted for delivery"

    def snapshot(self) -> list[Received]:
        """The messages so far, safe to read from another thread than the server's."""
        with self._lock:
            return list(self.received)


def _encrypted(server, session) -> bool:  # type: ignore[no-untyped-def]
    """STARTTLS sets session.ssl; an implicit-TLS connection shows in the transport."""
    return session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None


class SmtpSink:
    """aiosmtpd on ``host:port`` (a free port when none is given), in a thread of its own."""

    def __init__(self, port: int | None = None, host: str = HOST, **smtp_options: Any) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.handler = RecordingHandler()
        self.options = smtp_options
        self.controller: Controller | None = None

    @property
    def received(self) -> list[Received]:
        return self.handler.snapshot()

    def start(self) -> Self:
        controller = Controller(self.handler, hostname=self.host, port=self.port, **self.options)
        controller.start()  # raises when the port is taken; nothing is left running then
        self.controller = controller
        return self

    def stop(self) -> None:
        """Close the port and end the server's thread (joined)."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
