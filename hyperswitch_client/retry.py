"""The retry policy: which failed attempts are tried again, and after how long.

A failure is retried only when sending the request again cannot do the operation twice:

| failure | any call | idempotent call (GET; create with a merchant id; full-state update) |
|---|---|---|
| ``ConnectError``: nothing was sent | retry | retry |
| ``RateLimitError`` (429): rejected before the router | retry after ``Retry-After``, until the deadline | same |
| ``ResourceBusyError`` (HE_00/422): the object's lock was not acquired | retry | retry |
| timeout, lost connection, 5xx, unreadable answer: may have run | **no** | retry |
| any other 4xx: a definite answer that would not change | no | no |

A create retried after a possibly-processed attempt may meet ``HE_01`` (``IR_12`` for customers):
the requestor then reads the object back instead of failing (see ``_requestor.Requestor.request``).

Backoff is exponential with jitter and a cap; a server's ``Retry-After`` wins over it. No retry starts
if its wait plus ``min_attempt_seconds`` would pass the call's deadline. A 429 does not use up
``max_retries``: Hyperswitch asked to be called again later, and a billing run must flow, so it is
retried as long as the deadline allows. The client's own refusals before sending (an open circuit
breaker, no pacing slot in time) are final for the call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import tenacity

from .errors import (
    APIError,
    APITimeoutError,
    ConnectError,
    ConnectionLostError,
    HyperswitchError,
    RateLimitError,
    ResourceBusyError,
    UnreadableResponseError,
)

__all__ = ["RetryPolicy"]

# Nothing reached the operation: safe to send again whatever the call is.
_NOTHING_PROCESSED = (ConnectError, RateLimitError, ResourceBusyError)
# The operation may have run: safe to send again only when repeating it cannot duplicate it.
_MAYBE_PROCESSED = (APITimeoutError, ConnectionLostError, APIError, UnreadableResponseError)


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    initial_backoff: float = 0.25
    max_backoff: float = 4.0
    jitter: float = 0.25
    min_attempt_seconds: float = 0.25
    _backoff: tenacity.wait.wait_base = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        backoff = tenacity.wait_exponential(
            multiplier=self.initial_backoff, max=self.max_backoff
        ) + tenacity.wait_random(0, self.jitter)
        object.__setattr__(self, "_backoff", backoff)

    def is_retryable(self, error: BaseException, *, idempotent: bool) -> bool:
        if isinstance(error, _NOTHING_PROCESSED):
            return True
        return idempotent and isinstance(error, _MAYBE_PROCESSED)

    def next_delay(
        self,
        error: BaseException,
        *,
        attempt: int,
        idempotent: bool,
        remaining: float,
        retry_state: tenacity.RetryCallState,
    ) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None to give up with ``error``."""
        if not isinstance(error, HyperswitchError):
            return None
        if attempt > self.max_retries and not isinstance(error, RateLimitError):
            return None
        if not self.is_retryable(error, idempotent=idempotent):
            return None
        delay = self._delay_for(error, retry_state)
        if delay + self.min_attempt_seconds > remaining:
            return None
        return delay

    def _delay_for(self, error: HyperswitchError, retry_state: tenacity.RetryCallState) -> float:
        if isinstance(error, RateLimitError) and error.retry_after is not None:
            return error.retry_after
        return min(self._backoff(retry_state), self.max_backoff)
