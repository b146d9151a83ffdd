"""Pacing toward Hyperswitch: one bucket per Hyperswitch merchant, shared by every tenant and process.

Hyperswitch limits a merchant's API traffic (80 requests/s on the hosted service), and several Kill Bill
tenants may be business profiles of one merchant: they share its bucket. The rate is the tenant's
``pacing`` setting, else the deployment's ``hyperswitch_requests_per_second`` / ``hyperswitch_burst``.
"""

from __future__ import annotations

import logging

from bridge.edges.buckets import Buckets, Rate, bucket_key
from bridge.web.metrics import HS_PACING_WAIT

log = logging.getLogger(__name__)


class BucketPacer:
    """``hyperswitch_client.Pacer`` over a bucket: callers wait for their slot instead of meeting a 429."""

    def __init__(self, buckets: Buckets, key: str, rate: Rate) -> None:
        self._buckets = buckets
        self.key = key
        self.rate = rate

    def acquire(self, max_wait: float) -> float | None:
        reservation = self._buckets.reserve(self.key, self.rate, max_wait)
        if not reservation.granted:
            log.warning("no request slot toward Hyperswitch within %.1f s (%s): the call is refused unsent",
                        max_wait, self.rate)
            return None
        HS_PACING_WAIT.observe(reservation.wait)
        return reservation.wait

    def pause(self, seconds: float) -> None:
        log.info("Hyperswitch answered 429: every call of this merchant holds off for %.1f s", seconds)
        self._buckets.pause(self.key, self.rate, seconds)


def merchant_bucket(base_url: str, merchant_id: str) -> str:
    return bucket_key("hyperswitch", base_url.rstrip("/"), merchant_id)
