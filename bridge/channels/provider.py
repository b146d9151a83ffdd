"""The messaging provider of SMS and WhatsApp: an HTTP API in Twilio's shape, per tenant.

One call sends one message::

    POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json
    Authorization: Basic base64(AccountSid:AuthToken)
    To=+14155552671&From=+14155550100&Body=...         (form-encoded)
    To=whatsapp:+14155552671&From=whatsapp:+14155550100  (WhatsApp)

and is answered ``201`` with the Message resource (its ``sid``, ``status`` ``queued``/``accepted``), or an
error ``{"code", "message", "more_info", "status"}``. What the answer means for the payor's message:

* 2xx — accepted; its ``sid`` is the message's provider id. A ``failed``/``undelivered`` status already in
  the answer is a refusal.
* 429 — not processed (Twilio: "never processed and always safe to retry"): try again after its
  ``Retry-After``. 5xx, a timeout, a refused connection: try again with backoff.
* 401, 403, 404 — the tenant's credentials or account SID are wrong: nothing will go out until they are fixed.
* any other 4xx — this message or recipient is refused for good (an invalid or unreachable number, a payor
  who replied STOP): the error's code and message are the reason. Providers change their error codes
  (Twilio asks not to build logic on them), so the HTTP status decides and the code is only reported.

A timeout after the request was sent leaves the outcome unknown; the job sends again, as for SMTP (at least
once, see :mod:`bridge.invoices.messages`). Nothing here logs or reports the body (it holds the ``/pay``
link) or the auth token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from bridge.channels.outcomes import DeliveryFailed, Misconfigured, Undeliverable
from hyperswitch_client.errors import parse_retry_after

log = logging.getLogger(__name__)

API_VERSION = "2010-04-01"
MAX_BODY_CHARS = 1600  # the Message resource's limit
MAX_RETRY_AFTER_SECONDS = 3600.0  # a provider asking for more is waited on by the job's own backoff ceiling
_REFUSED_STATUSES = ("failed", "undelivered")
_CREDENTIAL_STATUSES = (401, 403, 404)
_MAX_REASON_CHARS = 300


@dataclass(frozen=True)
class Accepted:
    """The provider took the message: its id (``SM…``) and status (``queued``, ``accepted``, …)."""

    sid: str | None
    status: str | None


class MessagingProvider:
    """A client of one provider account (``base_url`` + ``account_sid`` + ``auth_token``)."""

    def __init__(self, base_url: str, account_sid: str, auth_token: str, *,
                 timeout: tuple[float, float] = (5.0, 20.0), session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.account_sid = account_sid
        self._auth = (account_sid, auth_token)
        self.timeout = timeout
        self._session = session or requests.Session()

    def __repr__(self) -> str:  # never shows the token
        return f"MessagingProvider({self.base_url!r}, {self.account_sid!r})"

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{API_VERSION}/Accounts/{quote(self.account_sid, safe='')}/Messages.json"

    def send(self, *, to: str, sender: str, body: str) -> Accepted:
        """Send one message; raises an outcome of :mod:`bridge.channels.outcomes` when it was not accepted."""
        if len(body) > MAX_BODY_CHARS:
            raise Undeliverable(f"the message is {len(body)} characters, over the provider's {MAX_BODY_CHARS}")
        try:
            response = self._session.post(self.messages_url, data={"To": to, "From": sender, "Body": body},
                                          auth=self._auth, timeout=self.timeout,
                                          headers={"Accept": "application/json"}, allow_redirects=False)
        except requests.ConnectionError as exc:
            raise DeliveryFailed(f"cannot reach the messaging provider {self.base_url}: {type(exc).__name__}") from exc
        except requests.Timeout as exc:
            raise DeliveryFailed(f"the messaging provider {self.base_url} did not answer in time "
                                 "(the message may have been sent; it is sent again)") from exc
        except requests.RequestException as exc:
            raise DeliveryFailed(f"messaging provider {self.base_url}: {type(exc).__name__}") from exc
        return _outcome(response, self.base_url)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error(status: int, data: dict[str, Any]) -> str:
    """``HTTP 400 (code 21211): Invalid 'To' Phone Number`` — what the provider said, trimmed."""
    code = data.get("code") or data.get("error_code")
    text = str(data.get("message") or data.get("error_message") or "").strip()
    described = f"HTTP {status}" + (f" (code {code})" if code else "") + (f": {text}" if text else "")
    return described[:_MAX_REASON_CHARS]


def _outcome(response: requests.Response, base_url: str) -> Accepted:
    status = response.status_code
    data = _json(response)
    if 200 <= status < 300:
        if str(data.get("status") or "") in _REFUSED_STATUSES:
            raise Undeliverable(f"refused by the messaging provider: {_error(status, data)}")
        sid = data.get("sid")
        return Accepted(sid=str(sid)[:255] if sid else None, status=str(data.get("status") or "") or None)
    if status == 429 or status >= 500:
        wait = parse_retry_after(response.headers.get("Retry-After"))
        wait = None if wait is None else min(wait, MAX_RETRY_AFTER_SECONDS)
        what = "rate limited by" if status == 429 else "unavailable:"
        raise DeliveryFailed(f"messaging provider {what} {_error(status, data)}", retry_after=wait)
    if status in _CREDENTIAL_STATUSES:
        raise Misconfigured(f"the messaging provider {base_url} refused the tenant's account: {_error(status, data)}",
                            "check messaging_base_url, messaging_account_sid and messaging_auth_token "
                            "(`bridge tenants update`), then `bridge jobs retry`")
    if 300 <= status < 400:
        raise Misconfigured(f"the messaging provider {base_url} answered a redirect (HTTP {status})",
                            "set messaging_base_url to the provider's API base URL, then `bridge jobs retry`")
    raise Undeliverable(f"refused by the messaging provider: {_error(status, data)}")
