"""How a delivery that did not succeed ends, as every channel reports it to the send job.

* :class:`Undeliverable` — the provider refused this recipient or message for good (a mailbox that does not
  exist, a number that cannot take SMS, a payor who replied STOP): the message is SKIPPED with the reason.
* :class:`Misconfigured` — the tenant's setup cannot send anything on this channel (no sender, no provider
  credentials or wrong ones, a broken template): the message is FAILED and its job parked, to be replayed
  with ``bridge jobs retry`` once the operator or biller has fixed it.
* :class:`DeliveryFailed` — not delivered this time (provider down, rate limited): FAILED, and the job
  retries with backoff, or after ``retry_after`` seconds when the provider said how long to wait.
"""

from __future__ import annotations


class Undeliverable(Exception):
    """Refused for good: skip the message, never retry it."""


class Misconfigured(Exception):
    """The tenant must change something before this channel can send; ``remedy`` says what."""

    def __init__(self, reason: str, remedy: str) -> None:
        super().__init__(reason)
        self.remedy = remedy


class DeliveryFailed(Exception):
    """Not delivered now; worth trying again (after ``retry_after`` seconds when the provider asked)."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
