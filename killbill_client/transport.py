"""One HTTP exchange with Kill Bill: auth and tenant headers, error classification, safe-read retries,
and following the ``Location`` of a 201."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential
from urllib3.exceptions import NewConnectionError

from killbill_client import json_codec
from killbill_client.constants import (
    HEADER_API_KEY,
    HEADER_API_SECRET,
    HEADER_COMMENT,
    HEADER_CREATED_BY,
    HEADER_REASON,
)
from killbill_client.errors import (
    CreatedButUnreadableError,
    KillBillAPIError,
    KillBillConnectionError,
    KillBillError,
    KillBillTimeoutError,
    ServerError,
    error_from_response,
)

Query = Mapping[str, Any] | None

# Reads are retried on these: a proxy hiccup, Kill Bill restarting, a transient plugin error.
RETRYABLE_READ_STATUSES = frozenset({500, 502, 503, 504})


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return json_codec.format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def encode_query(query: Query) -> list[tuple[str, str]]:
    """Repeatable parameters (lists) become repeated keys, as Kill Bill's ``collectionFormat: multi``."""
    pairs: list[tuple[str, str]] = []
    for name, value in (query or {}).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        pairs.extend((name, _query_value(v)) for v in values if v is not None)
    return pairs


def _is_retryable_read(exc: BaseException) -> bool:
    if isinstance(exc, KillBillConnectionError):
        return True
    return isinstance(exc, ServerError) and exc.status in RETRYABLE_READ_STATUSES


def _connection_error(exc: requests.RequestException, method: str, url: str) -> KillBillConnectionError:
    """Refused/unreachable means the request never left; anything later leaves the outcome unknown."""
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return KillBillTimeoutError(f"no answer from Kill Bill in time: {exc}", method=method, url=url)
    never_sent = isinstance(exc, requests.exceptions.ConnectTimeout) or _caused_by_new_connection(exc)
    return KillBillConnectionError(f"cannot reach Kill Bill: {exc}", request_sent=not never_sent,
                                   method=method, url=url)


def _caused_by_new_connection(exc: BaseException) -> bool:
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


class Transport:
    """Holds the connection settings; every service goes through it."""

    def __init__(self, base_url: str, *, session: requests.Session, username: str, password: str,
                 api_key: str | None, api_secret: str | None, created_by: str,
                 timeout: float | tuple[float, float], max_retries: int, retry_backoff: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.auth = (username, password)
        self.api_key = api_key
        self.api_secret = api_secret
        self.created_by = created_by
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff

    def with_tenant(self, api_key: str, api_secret: str) -> Transport:
        return Transport(self.base_url, session=self.session, username=self.auth[0], password=self.auth[1],
                         api_key=api_key, api_secret=api_secret, created_by=self.created_by,
                         timeout=self.timeout, max_retries=self.max_retries, retry_backoff=self.retry_backoff)

    # -- one exchange ---------------------------------------------------------------------------
    def _headers(self, *, write: bool, reason: str | None, comment: str | None,
                 content_type: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.api_key is not None and self.api_secret is not None:
            headers[HEADER_API_KEY] = self.api_key
            headers[HEADER_API_SECRET] = self.api_secret
        if write:
            headers[HEADER_CREATED_BY] = self.created_by
            if reason:
                headers[HEADER_REASON] = reason
            if comment:
                headers[HEADER_COMMENT] = comment
        if content_type:
            headers["Content-Type"] = content_type
        return headers

    def send(self, method: str, path: str, *, query: Query = None, body: Any = None, text: str | None = None,
             write: bool = False, reason: str | None = None, comment: str | None = None) -> requests.Response:
        """One request; raises a classified error for any non-2xx answer."""
        url = self.base_url + path
        data: bytes | None = None
        content_type = None
        if text is not None:
            data, content_type = text.encode("utf-8"), "text/plain; charset=utf-8"
        elif body is not None:
            data, content_type = json_codec.dumps(body).encode("utf-8"), "application/json"
        headers = self._headers(write=write, reason=reason, comment=comment, content_type=content_type)
        try:
            response = self.session.request(method, url, params=encode_query(query), data=data, headers=headers,
                                            auth=self.auth, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise _connection_error(exc, method, url) from exc
        if response.status_code >= 400:
            raise error_from_response(method, url, response)
        return response

    # -- reads ------------------------------------------------------------------------------------
    def get(self, path: str, query: Query = None) -> requests.Response:
        """A safe read, retried on connection errors and 5xx with exponential backoff."""
        retrying = Retrying(stop=stop_after_attempt(self.max_retries + 1),
                            wait=wait_exponential(multiplier=self.retry_backoff, max=2.0),
                            retry=retry_if_exception(_is_retryable_read), reraise=True)
        return retrying(self.send, "GET", path, query=query)

    def get_json(self, path: str, query: Query = None) -> Any:
        return response_json(self.get(path, query))

    # -- writes -----------------------------------------------------------------------------------
    def write(self, method: str, path: str, *, query: Query = None, body: Any = None, text: str | None = None,
              reason: str | None = None, comment: str | None = None) -> requests.Response:
        """Never retried: a repeated write could create a second object or a second charge."""
        return self.send(method, path, query=query, body=body, text=text, write=True, reason=reason,
                         comment=comment)

    def create(self, method: str, path: str, *, query: Query = None, body: Any = None, text: str | None = None,
               reason: str | None = None, comment: str | None = None,
               follow_query: Query = None) -> tuple[requests.Response, Any]:
        """A write answered by 201 + Location: read the created object back with the same credentials."""
        response = self.write(method, path, query=query, body=body, text=text, reason=reason, comment=comment)
        return response, self.follow(response, follow_query)

    def follow(self, response: requests.Response, query: Query = None) -> Any:
        location = response.headers.get("Location")
        if response.status_code != 201 or not location:
            return response_json(response) if response.content else None
        path = self.location_path(location)
        try:
            return self.get_json(path, query)
        except KillBillError as exc:
            raise CreatedButUnreadableError(location, exc) from exc

    def location_path(self, location: str) -> str:
        """The Location's path and query, re-based on our own base URL.

        Credentials are only ever sent to the configured host, whatever host Kill Bill names (it may
        know itself by an internal name behind a proxy).
        """
        parts = urlsplit(location)
        path = parts.path
        prefix = urlsplit(self.base_url).path.rstrip("/")
        if prefix and path.startswith(prefix + "/"):
            path = path[len(prefix):]
        return path + (f"?{parts.query}" if parts.query else "")


def response_json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return json_codec.loads(response.content)
    except ValueError as exc:
        raise KillBillAPIError(response.status_code, None, text=response.text[:500],
                               url=response.url) from exc


def paths(*segments: Any) -> str:
    """``/1.0/kb`` + segments; each segment is percent-encoded so a name cannot add path levels."""
    return "/1.0/kb/" + "/".join(quote(str(s), safe="-_.~") for s in segments)
