"""The only place that talks HTTP: timeouts, the per-call deadline, retries, errors and audit.

Before every attempt the circuit breaker (if any) admits it or refuses at once, then the pacer (if any)
hands out a request slot, waited for within the deadline; after it, the breaker learns how the router
did, and a 429's ``Retry-After`` pauses the pacer for every call that shares it.
"""

from __future__ import annotations

import json
import logging
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import requests
import tenacity
import urllib3.exceptions
from pydantic import ValidationError

from .audit import AuditHook, AuditRecord, redact, redact_body
from .breaker import CircuitBreaker, CircuitState, Ticket, is_breaker_failure
from .errors import (
    APITimeoutError,
    CircuitOpenError,
    ConnectError,
    ConnectionLostError,
    DuplicateResourceError,
    ErrorKind,
    HyperswitchError,
    RateLimitError,
    ThrottledError,
    UnreadableResponseError,
    error_from_response,
)
from .pacing import Pacer
from .retry import RetryPolicy

__all__ = ["Call", "Deadline", "Requestor"]

log = logging.getLogger(__name__)

T = TypeVar("T")
_MAX_BODY_BYTES = 10 * 1024 * 1024
_CHUNK = 16 * 1024
_USER_AGENT = "killbill-hyperswitch-bridge/hyperswitch-client"


@dataclass(frozen=True)
class Call(Generic[T]):
    """One logical API call; the requestor may send it several times."""

    method: str
    path: str
    parse: Callable[[Any], T]
    body: dict[str, Any] | None = None
    query: Mapping[str, str] | None = None
    # True when sending it twice cannot do the operation twice (reads, creates with a merchant id).
    idempotent: bool = False
    # For a create with a merchant id: the read that returns the existing object when a retry of a
    # possibly-processed attempt is answered "already exists".
    recover: Call[T] | None = None


class Deadline:
    def __init__(self, seconds: float, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._end = clock() + seconds

    def remaining(self) -> float:
        return self._end - self._clock()


@dataclass
class _CallState:
    attempts: int = 0
    maybe_processed: bool = False  # an attempt may have reached the operation
    next_delay: float = 0.0
    last_error: HyperswitchError | None = None  # what the last attempt sent met
    refused: bool = False  # a guard refused an attempt before sending: no more retries


@dataclass
class _Answer:
    status: int
    headers: Mapping[str, str]
    raw: bytes = field(repr=False)


class Requestor:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        profile_id: str | None,
        connect_timeout: float,
        read_timeout: float,
        deadline: float,
        retry_policy: RetryPolicy,
        audit_hook: AuditHook | None,
        session: requests.Session,
        pacer: Pacer | None = None,
        breaker: CircuitBreaker | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        for name, value in (("connect_timeout", connect_timeout), ("read_timeout", read_timeout),
                            ("deadline", deadline)):  # fmt: skip
            if value <= 0:
                raise ValueError(f"{name} must be positive")
        self._base_url = base_url.rstrip("/")
        self._headers = _default_headers(api_key, profile_id)
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._deadline = deadline
        self._policy = retry_policy
        self._audit_hook = audit_hook
        self._session = session
        self._pacer = pacer
        self._breaker = breaker
        self._clock = clock
        self._sleep = sleep

    def request(self, call: Call[T]) -> T:
        """Run ``call`` under one deadline; retries follow ``RetryPolicy``."""
        deadline = Deadline(self._deadline, self._clock)
        state = _CallState()
        try:
            return self._run(call, deadline, state)
        except DuplicateResourceError:
            # "Already exists" after an attempt that may have created it: that object is ours.
            if call.recover is None or not state.maybe_processed:
                raise
            log.info("%s %s: already exists after a retry; reading it back", call.method, call.path)
            return self._run(call.recover, deadline, _CallState())

    def _run(self, call: Call[T], deadline: Deadline, state: _CallState) -> T:
        retrying = tenacity.Retrying(
            retry=lambda retry_state: self._plan_retry(retry_state, call, deadline, state),
            wait=lambda _retry_state: state.next_delay,
            stop=tenacity.stop_never,  # _plan_retry enforces max_retries and the deadline
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return retrying(self._attempt, call, deadline, state)
        except HyperswitchError as err:
            err.attempts = state.attempts
            if err.method is None:  # refused before sending (breaker, pacing)
                err.method, err.path = call.method, call.path
            raise

    def _plan_retry(
        self,
        retry_state: tenacity.RetryCallState,
        call: Call[Any],
        deadline: Deadline,
        state: _CallState,
    ) -> bool:
        outcome = retry_state.outcome
        if outcome is None or not outcome.failed or state.refused:
            return False
        if self._breaker is not None and self._breaker.state is CircuitState.OPEN:
            return False  # the retry would be refused unsent: end now with what this attempt met
        delay = self._policy.next_delay(
            outcome.exception(),
            attempt=state.attempts,
            idempotent=call.idempotent,
            remaining=deadline.remaining(),
            retry_state=retry_state,
        )
        if delay is None:
            return False
        error = outcome.exception()
        if isinstance(error, RateLimitError) and error.retry_after is not None and self._pacer is not None:
            delay = 0.0  # the pacer, paused for Retry-After (see _fail), holds the retry until then
        state.next_delay = delay
        return True

    def _attempt(self, call: Call[T], deadline: Deadline, state: _CallState) -> T:
        try:
            ticket = self._admit(call, deadline)
        except (CircuitOpenError, ThrottledError):
            state.refused = True
            if state.last_error is not None:
                # A retry refused unsent: the call ends with what its last attempt met, which may have
                # been processed (a 5xx, a timeout), never as "not processed".
                raise state.last_error from None
            raise
        state.attempts += 1
        started_at = datetime.now(UTC)
        started = self._clock()
        answer: _Answer | None = None
        try:
            answer = self._send(call, deadline)
            result = call.parse(self._decode(call, answer))
        except ValidationError as exc:
            err = UnreadableResponseError(
                f"response does not match the expected model: {exc.error_count()} error(s)",
                http_status=answer.status if answer else None,
                body=answer.raw if answer else None,
            )
            self._fail(err, call, state, started_at, started, answer, ticket)
            raise err from exc
        except HyperswitchError as err:
            self._fail(err, call, state, started_at, started, answer, ticket)
            raise
        if ticket is not None and self._breaker is not None:
            self._breaker.succeeded(ticket)
        self._audit(call, state.attempts, started_at, started, answer, None)
        return result

    def _admit(self, call: Call[Any], deadline: Deadline) -> Ticket | None:
        """The breaker's leave and a pacing slot, waited for; raises before anything is sent."""
        ticket = self._breaker.admit() if self._breaker is not None else None
        if self._pacer is None:
            return ticket
        # Leave the attempt itself the time the retry policy would: waiting longer could only end in a timeout.
        max_wait = deadline.remaining() - self._policy.min_attempt_seconds
        wait = self._pacer.acquire(max_wait) if max_wait >= 0 else None
        if wait is None:
            if ticket is not None and self._breaker is not None:
                self._breaker.abandoned(ticket)
            raise ThrottledError("no request slot toward Hyperswitch within the call's deadline; nothing was sent")
        if wait > 0:
            self._sleep(wait)
        return ticket

    def _fail(
        self,
        err: HyperswitchError,
        call: Call[Any],
        state: _CallState,
        started_at: datetime,
        started: float,
        answer: _Answer | None,
        ticket: Ticket | None,
    ) -> None:
        err.method, err.path = call.method, call.path
        state.last_error = err
        if err.kind is ErrorKind.UNKNOWN_OUTCOME:
            state.maybe_processed = True
        if ticket is not None and self._breaker is not None:
            if is_breaker_failure(err):
                self._breaker.failed(ticket)
            else:
                self._breaker.succeeded(ticket)
        if isinstance(err, RateLimitError) and err.retry_after is not None and self._pacer is not None:
            # Hyperswitch asked everyone to hold off: every call sharing the pacer waits, retry or not.
            self._pacer.pause(err.retry_after)
        self._audit(call, state.attempts, started_at, started, answer, err)

    def _send(self, call: Call[Any], deadline: Deadline) -> _Answer:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise APITimeoutError("the call's deadline passed before this attempt")
        # Connect and read budgets together fit in what is left of the deadline.
        connect = min(self._connect_timeout, remaining / 2)
        read = min(self._read_timeout, remaining - connect)
        try:
            response = self._session.request(
                call.method,
                self._base_url + call.path,
                params=dict(call.query) if call.query else None,
                data=_encode(call.body),
                headers=self._headers_for(call),
                timeout=(connect, read),
                stream=True,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise _transport_error(exc) from exc
        with response:
            raw = _read_body(response, deadline)
        return _Answer(response.status_code, response.headers, raw)

    def _headers_for(self, call: Call[Any]) -> dict[str, str]:
        if call.body is None and call.method == "GET":
            return {k: v for k, v in self._headers.items() if k != "Content-Type"}
        return self._headers

    def _decode(self, call: Call[Any], answer: _Answer) -> Any:
        """The JSON of a success; raises the mapped error for anything else."""
        if not 200 <= answer.status < 300:
            raise error_from_response(
                answer.status,
                answer.raw,
                headers=answer.headers,
                method=call.method,
                path=call.path,
            )
        try:
            parsed = json.loads(answer.raw) if answer.raw else None
        except (ValueError, UnicodeDecodeError):
            raise UnreadableResponseError(
                "response body is not JSON", http_status=answer.status, body=answer.raw
            ) from None
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
            # The blocklist answers HTTP 200 with an error envelope.
            raise error_from_response(
                answer.status,
                answer.raw,
                headers=answer.headers,
                method=call.method,
                path=call.path,
            )
        return parsed

    def _audit(
        self,
        call: Call[Any],
        attempt: int,
        started_at: datetime,
        started: float,
        answer: _Answer | None,
        error: HyperswitchError | None,
    ) -> None:
        if self._audit_hook is None:
            return
        record = AuditRecord(
            method=call.method,
            path=call.path,
            query=dict(call.query) if call.query else None,
            status=answer.status if answer else None,
            latency_ms=round((self._clock() - started) * 1000, 3),
            attempt=attempt,
            started_at=started_at,
            request_body=redact(call.body) if call.body is not None else None,
            response_body=redact_body(answer.raw) if answer else None,
            error_kind=error.kind if error else None,
            error_code=error.code if error else None,
        )
        try:
            self._audit_hook(record)
        except Exception:  # the audit trail must never change a payment's outcome
            log.exception("audit hook failed for %s %s", call.method, call.path)


def _default_headers(api_key: str, profile_id: str | None) -> dict[str, str]:
    if not api_key:
        raise ValueError("api_key is required")
    headers = {
        "api-key": api_key,
        "Accept": "application/json",
        "Content-Type": "application/json",
        "User-Agent": _USER_AGENT,
    }
    if profile_id:
        headers["X-Profile-Id"] = profile_id
    return headers


def _encode(body: dict[str, Any] | None) -> bytes | None:
    if body is None:
        return None
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _read_body(response: requests.Response, deadline: Deadline) -> bytes:
    """The whole body, within the deadline; a failure here happens after sending."""
    raw = response.raw
    # read1 returns whatever has arrived, so the deadline is checked even on a trickling answer.
    read = getattr(raw, "read1", raw.read)
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            remaining = deadline.remaining()
            if remaining <= 0:
                raise APITimeoutError(
                    "the call's deadline passed while reading the response",
                    http_status=response.status_code,
                )
            _set_read_timeout(response, remaining)
            chunk = read(_CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > _MAX_BODY_BYTES:
                raise UnreadableResponseError(
                    "response body too large", http_status=response.status_code
                )
            chunks.append(chunk)
    except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
        raise _body_error(exc, response.status_code) from exc
    raw.release_conn()  # fully read: the connection can be reused
    return b"".join(chunks)


def _body_error(exc: BaseException, status: int) -> HyperswitchError:
    if _caused_by(exc, urllib3.exceptions.ReadTimeoutError, TimeoutError):
        err: HyperswitchError = APITimeoutError(f"no complete answer in time: {exc}")
    else:
        err = ConnectionLostError(f"connection lost while reading the answer: {exc}")
    err.http_status = status
    return err


def _set_read_timeout(response: requests.Response, seconds: float) -> None:
    # Bound each body read by what is left of the deadline (urllib3 keeps the request's timeout).
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(seconds)


def _transport_error(exc: requests.RequestException) -> HyperswitchError:
    if isinstance(exc, requests.exceptions.ReadTimeout) or _caused_by(
        exc, urllib3.exceptions.ReadTimeoutError
    ):
        return APITimeoutError(f"no answer in time: {exc}")
    if _never_sent(exc):
        return ConnectError(f"could not connect to Hyperswitch: {exc}")
    return ConnectionLostError(f"connection to Hyperswitch failed: {exc}")


def _never_sent(exc: requests.RequestException) -> bool:
    """True only for failures that happen before any request byte is written."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(
        exc,
        (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
            requests.exceptions.InvalidHeader,
        ),
    ):
        return True
    # NewConnectionError (refused, unreachable, DNS) is raised by connect(), before sending;
    # certificate verification fails inside the TLS handshake, also before sending.
    return _caused_by(exc, urllib3.exceptions.NewConnectionError, ssl.SSLCertVerificationError)


def _caused_by(exc: BaseException, *types: type[BaseException]) -> bool:
    return any(isinstance(cause, types) for cause in _causes(exc))


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked.extend(arg for arg in current.args if isinstance(arg, BaseException))
        pending.extend(item for item in linked if isinstance(item, BaseException))
