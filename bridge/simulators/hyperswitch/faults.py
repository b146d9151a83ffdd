"""Fault injection per route, as WSGI middleware in front of the simulated router.

Kinds (each for the next ``times`` matching calls, or with a ``probability`` drawn from a seeded RNG, or
always when neither is given; ``latency_ms`` delays any kind):

- ``latency``: only the delay, then the normal answer;
- ``error``: a 5xx (``status``, default 500) with the router's HE_00 body;
- ``rate_limit``: 429 with ``Retry-After`` (the hosted service's limiter, reference §9: a plain-text
  answer from the infrastructure in front of the router, not a router error body);
- ``busy``: 422 HE_00, the router's API-lock contention answer (reference §9);
- ``reset``: the connection is closed before the request is processed, without an answer;
- ``drop_after_commit``: the request is fully processed (the payment is created), then the connection is
  closed without an answer; ``hold_ms`` keeps it open first, so a client with a shorter read timeout
  sees a timeout instead.

Besides the rules, a **rate limit** like the hosted service's (reference §9: 80 requests/s by default, 429
above it): ``requests_per_second`` and ``burst`` per API key, answered with the same plain-text 429 and a
``Retry-After`` of the whole seconds until the key has a request free again. It counts every API call
(not the control API) and how many it refused.

Dropping the connection needs the socket, which werkzeug's server exposes as ``environ["werkzeug.socket"]``.
The middleware shuts it down and raises ``ConnectionResetError``, which werkzeug treats as a dropped
client connection (no traceback, no answer written).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from bridge.edges.buckets import LocalBuckets, Rate

from . import errors

KINDS = ("latency", "error", "rate_limit", "busy", "reset", "drop_after_commit")


@dataclass
class FaultRule:
    rule_id: int
    method: str
    path: str
    kind: str
    times: int | None = None
    probability: float | None = None
    seed: int = 0
    latency_ms: int = 0
    status: int = 500
    retry_after: int = 1
    hold_ms: int = 0
    fired: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False)
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {KINDS}")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1")
        if self.kind == "error" and not 500 <= self.status <= 599:
            raise ValueError("an injected error needs a 5xx status")
        self.method = self.method.upper()
        self._pattern = _template_regex(self.path)
        self._rng = random.Random(self.seed)

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and bool(self._pattern.match(path))

    def draw(self) -> bool:
        """Whether this call is hit; consumes one of ``times`` or one draw of the RNG."""
        if self.times is not None:
            if self.fired >= self.times:
                return False
        elif self.probability is not None and self._rng.random() >= self.probability:
            return False
        self.fired += 1
        return True

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def to_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "method": self.method, "path": self.path, "kind": self.kind,
                "times": self.times, "probability": self.probability, "seed": self.seed,
                "latency_ms": self.latency_ms, "status": self.status, "retry_after": self.retry_after,
                "hold_ms": self.hold_ms, "fired": self.fired}


def _template_regex(template: str) -> re.Pattern[str]:
    """``/payments/{payment_id}`` → a regex; ``*`` alone matches every path."""
    if template == "*":
        return re.compile(r"^.*$")
    pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
    return re.compile(f"^{pattern}$")


class RateLimiter:
    """Requests per second per API key, as the infrastructure in front of the hosted router enforces them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rate: Rate | None = None
        self._buckets = LocalBuckets()
        self._admitted = self._limited = 0

    def configure(self, requests_per_second: float | None, burst: int | None = None) -> dict[str, Any]:
        """Switch the limit on (``burst`` defaults to one second's worth) or, with None, off; counts restart."""
        with self._lock:
            self._rate = None if requests_per_second is None else Rate(
                float(requests_per_second), int(burst) if burst is not None else max(1, int(requests_per_second)))
            self._buckets = LocalBuckets()
            self._admitted = self._limited = 0
        return self.stats()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            rate = self._rate
            return {"requests_per_second": rate.per_second if rate else None, "burst": rate.burst if rate else None,
                    "admitted": self._admitted, "limited": self._limited}

    def retry_after(self, api_key: str) -> int | None:
        """None when the call may go; else the ``Retry-After`` of its 429."""
        with self._lock:
            if self._rate is None:
                return None
            reservation = self._buckets.reserve(api_key, self._rate)
            if reservation.granted:
                self._admitted += 1
                return None
            self._limited += 1
            return reservation.retry_after


class FaultInjector:
    """The rule list; the first matching rule that draws a hit applies. ``limiter`` is the rate limit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self.limiter = RateLimiter()

    def add(self, method: str, path: str, kind: str, **options: Any) -> FaultRule:
        with self._lock:
            rule = FaultRule(next(self._ids), method, path, kind, **options)
            self._rules.append(rule)
            return rule

    def clear(self) -> None:
        with self._lock:
            self._rules = []
        self.limiter.configure(None)

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [rule.to_dict() for rule in self._rules]

    def pick(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path) and rule.draw():
                    return rule
            return None


StartResponse = Callable[..., Any]


class FaultMiddleware:
    """Applies the injector's rules to every request outside ``exempt_prefix`` (the control API)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], injector: FaultInjector,
                 exempt_prefix: str = "/__sim") -> None:
        self.app = app
        self.injector = injector
        self.exempt_prefix = exempt_prefix

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith(self.exempt_prefix):
            return self.app(environ, start_response)
        retry_after = self.injector.limiter.retry_after(environ.get("HTTP_API_KEY", ""))
        if retry_after is not None:
            _discard_body(environ)
            return _too_many_requests(start_response, retry_after)
        rule = self.injector.pick(environ.get("REQUEST_METHOD", "GET"), path)
        if rule is None:
            return self.app(environ, start_response)
        if rule.latency_ms:
            time.sleep(rule.latency_ms / 1000)
        return self._apply(rule, environ, start_response)

    def _apply(self, rule: FaultRule, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if rule.kind == "latency":
            return self.app(environ, start_response)
        if rule.kind == "error":
            error = errors.internal_error()
            return _json(start_response, rule.status, error.body())
        if rule.kind == "busy":
            return _json(start_response, 422, errors.resource_busy().body())
        if rule.kind == "rate_limit":
            return _too_many_requests(start_response, rule.retry_after)
        if rule.kind == "drop_after_commit":
            _run_and_discard(self.app, environ)
            if rule.hold_ms:
                time.sleep(rule.hold_ms / 1000)
        else:
            _discard_body(environ)
        _drop_connection(environ)
        raise ConnectionResetError("simulated connection reset")


def _too_many_requests(start_response: StartResponse, retry_after: int) -> list[bytes]:
    start_response("429 Too Many Requests", [("Content-Type", "text/plain"), ("Retry-After", str(retry_after))])
    return [b"Too Many Requests"]


def _json(start_response: StartResponse, status: int, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode("utf-8")
    start_response(f"{status} {HTTPStatus(status).phrase}", [("Content-Type", "application/json"),
                                                             ("Content-Length", str(len(data)))])
    return [data]


def _run_and_discard(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> None:
    result = app(environ, lambda status, headers, exc_info=None: (lambda data: None))
    try:
        for _ in result:
            pass
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


def _drop_connection(environ: dict[str, Any]) -> None:
    sock: socket.socket | None = environ.get("werkzeug.socket")
    if sock is None:
        return
    try:
        # Linger 0 turns the server's final close into a reset; shutdown makes the client see the end
        # of the stream now, before any answer.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _discard_body(environ: dict[str, Any]) -> None:
    """Read an unread body, or the server would parse it as the next request on the half-closed socket."""
    stream = environ.get("wsgi.input")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if stream is not None and length:
        with contextlib.suppress(OSError, ValueError):
            stream.read(length)
