"""A local messaging provider in Twilio's shape, for the SMS and WhatsApp channels (tests, demos).

Serve :func:`create_app` with :class:`~bridge.simulators.server.BackgroundServer`; give a tenant its URL as
``messaging_base_url`` and an account of :class:`MessagingState` as ``messaging_account_sid`` /
``messaging_auth_token``. It answers like the real API:

* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (form ``To``, ``From``, ``Body``; HTTP Basic
  ``AccountSid:AuthToken``) → ``201`` with the Message resource (``sid`` ``SM…``, ``status`` ``queued``);
* ``GET …/Messages.json`` (the account's messages, newest first) and ``GET …/Messages/{Sid}.json``;
* errors as ``{"code", "message", "more_info", "status"}``: 401 (code 20003) for wrong credentials, 404
  (20404) for an unknown account, 400 for a missing or invalid ``To`` (21604, 21211), ``From`` (21603,
  21212), body (21602, over 1,600 characters 21617), SMS and WhatsApp addresses mixed (21910), a recipient
  who replied STOP (21610, :meth:`MessagingState.opt_out`).

Faults for tests: :meth:`MessagingState.rate_limit` answers the next requests ``429`` (code 20429) with a
``Retry-After``, unprocessed; :meth:`MessagingState.fail_next` answers the next requests with any status.
Only accepted messages are recorded in :attr:`MessagingState.received`; every request's outcome is counted
in :attr:`MessagingState.answers`. Nothing is logged: bodies carry ``/pay`` links.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from flask import Flask, Response, jsonify, request

from bridge.channels.phones import is_e164

API_VERSION = "2010-04-01"
MAX_BODY = 1600
WHATSAPP = "whatsapp:"


@dataclass(frozen=True)
class SentMessage:
    """One accepted message, as the provider keeps it."""

    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    date_created: datetime

    @property
    def channel(self) -> str:
        return "whatsapp" if self.to.startswith(WHATSAPP) else "sms"

    def resource(self) -> dict[str, Any]:
        created = format_datetime(self.date_created, usegmt=True)
        return {
            "sid": self.sid, "account_sid": self.account_sid, "api_version": API_VERSION, "to": self.to,
            "from": self.from_, "body": self.body, "status": "queued", "direction": "outbound-api",
            "num_segments": str(max(1, -(-len(self.body) // 153))), "num_media": "0", "price": None,
            "price_unit": "USD", "error_code": None, "error_message": None, "messaging_service_sid": None,
            "date_created": created, "date_updated": created, "date_sent": None,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json", "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}/Media.json"}}


@dataclass
class _Fault:
    status: int
    code: int | None
    message: str
    retry_after: int | str | None = None  # seconds, or an HTTP date


@dataclass
class MessagingState:
    """Accounts, what they sent, and the faults queued for the next requests. Safe across threads."""

    accounts: dict[str, str] = field(default_factory=dict)  # account SID → auth token
    received: list[SentMessage] = field(default_factory=list)
    answers: Counter[int] = field(default_factory=Counter)  # HTTP status → how many requests got it
    opted_out: set[str] = field(default_factory=set)
    _faults: list[_Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_account(self, account_sid: str | None = None, auth_token: str | None = None) -> tuple[str, str]:
        account_sid = account_sid or "AC" + secrets.token_hex(16)
        auth_token = auth_token or secrets.token_hex(16)
        with self._lock:
            self.accounts[account_sid] = auth_token
        return account_sid, auth_token

    def rate_limit(self, requests: int = 1, retry_after: int = 1) -> None:
        """The next ``requests`` requests get 429 Too Many Requests with ``Retry-After`` (not processed)."""
        self._queue([_Fault(429, 20429, "Too Many Requests", retry_after)] * requests)

    def fail_next(self, status: int, code: int | None = None, message: str = "", *, requests: int = 1,
                  retry_after: int | str | None = None) -> None:
        """The next ``requests`` requests get ``status`` with this error (not processed); ``retry_after`` is
        the header's value, seconds or an HTTP date."""
        self._queue([_Fault(status, code, message or f"simulated HTTP {status}", retry_after)] * requests)

    def opt_out(self, number: str) -> None:
        """The payor at ``number`` (E.164) replied STOP: sending to them is refused (21610)."""
        with self._lock:
            self.opted_out.add(number)

    def snapshot(self) -> list[SentMessage]:
        with self._lock:
            return list(self.received)

    def _queue(self, faults: list[_Fault]) -> None:
        with self._lock:
            self._faults.extend(faults)

    def _next_fault(self) -> _Fault | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def _record(self, message: SentMessage) -> None:
        with self._lock:
            self.received.append(message)

    def _count(self, status: int) -> None:
        with self._lock:
            self.answers[status] += 1


class _Refused(Exception):
    def __init__(self, status: int, code: int | None, message: str, retry_after: int | str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


def _error(exc: _Refused) -> Response:
    body: dict[str, Any] = {"code": exc.code, "message": exc.message, "status": exc.status,
                            "more_info": f"https://www.twilio.com/docs/errors/{exc.code}" if exc.code else None}
    response = jsonify(body)
    response.status_code = exc.status
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _basic_credentials() -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return None
    try:
        user, colon, token = base64.b64decode(header[6:], validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (user, token) if colon else None


def _authenticate(state: MessagingState, account_sid: str) -> None:
    """401 unless the request carries an account's SID and token; 404 for another account's resources."""
    credentials = _basic_credentials()
    with state._lock:
        expected = state.accounts.get(credentials[0]) if credentials else None
    if credentials is None or expected is None or not secrets.compare_digest(credentials[1].encode(),
                                                                             expected.encode()):
        raise _Refused(401, 20003, "Authenticate")
    if credentials[0] != account_sid:
        raise _Refused(404, 20404, f"The requested resource /{API_VERSION}/Accounts/{account_sid}/Messages.json "
                                   "was not found")


def _address(value: str | None, field_name: str, missing: int, invalid: int) -> str:
    if not value:
        raise _Refused(400, missing, f"A '{field_name}' phone number is required.")
    number = value.removeprefix(WHATSAPP)
    if not is_e164(number):
        raise _Refused(400, invalid, f"Invalid '{field_name}' Phone Number: {value}")
    return value


def _new_message(state: MessagingState, account_sid: str) -> SentMessage:
    form = request.form
    to = _address(form.get("To"), "To", 21604, 21211)
    sender = _address(form.get("From"), "From", 21603, 21212)
    body = form.get("Body") or ""
    if to.startswith(WHATSAPP) != sender.startswith(WHATSAPP):
        raise _Refused(400, 21910, "Invalid From and To pair. From and To should be of the same channel")
    if not body.strip():
        raise _Refused(400, 21602, "Message body is required.")
    if len(body) > MAX_BODY:
        raise _Refused(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
    if to.removeprefix(WHATSAPP) in state.opted_out:
        raise _Refused(400, 21610, "Attempt to send to unsubscribed recipient")
    return SentMessage(sid="SM" + secrets.token_hex(16), account_sid=account_sid, to=to, from_=sender, body=body,
                       date_created=datetime.now(UTC))


def create_app(state: MessagingState) -> Flask:
    app = Flask(__name__)
    app.extensions["messaging_simulator"] = state
    base = f"/{API_VERSION}/Accounts/<account_sid>"

    def answer(status: int, body: Any) -> Response:
        response = jsonify(body)
        response.status_code = status
        state._count(status)
        return response

    def refused(exc: _Refused) -> Response:
        state._count(exc.status)
        return _error(exc)

    @app.post(f"{base}/Messages.json")
    def send(account_sid: str) -> Response:
        try:
            _authenticate(state, account_sid)
            fault = state._next_fault()
            if fault is not None:
                raise _Refused(fault.status, fault.code, fault.message, fault.retry_after)
            message = _new_message(state, account_sid)
        except _Refused as exc:
            return refused(exc)
        state._record(message)
        return answer(201, message.resource())

    @app.get(f"{base}/Messages.json")
    def list_messages(account_sid: str) -> Response:
        try:
            _authenticate(state, account_sid)
        except _Refused as exc:
            return refused(exc)
        mine = [m.resource() for m in reversed(state.snapshot()) if m.account_sid == account_sid]
        uri = f"/{API_VERSION}/Accounts/{account_sid}/Messages.json"
        return answer(200, {"messages": mine, "page": 0, "page_size": len(mine), "start": 0,
                            "end": max(len(mine) - 1, 0), "first_page_uri": uri, "uri": uri,
                            "next_page_uri": None, "previous_page_uri": None})

    @app.get(f"{base}/Messages/<sid>.json")
    def fetch(account_sid: str, sid: str) -> Response:
        try:
            _authenticate(state, account_sid)
            found = next((m for m in state.snapshot() if m.sid == sid and m.account_sid == account_sid), None)
            if found is None:
                raise _Refused(404, 20404, f"The requested resource /{API_VERSION}/Accounts/{account_sid}/"
                                           f"Messages/{sid}.json was not found")
        except _Refused as exc:
            return refused(exc)
        return answer(200, found.resource())

    @app.errorhandler(404)
    def unknown(_: Any) -> Response:
        return refused(_Refused(404, 20404, "The requested resource was not found"))

    @app.errorhandler(405)
    def wrong_method(_: Any) -> Response:
        return refused(_Refused(405, 20004, "Method not allowed"))

    return app
