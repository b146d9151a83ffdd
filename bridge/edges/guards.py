"""The process's edges: its token buckets, circuit breakers and URL policy, built once from settings by
the runtime (``Runtime.edges``)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine

from bridge.edges.breakers import Breakers
from bridge.edges.buckets import Buckets, DatabaseBuckets, LocalBuckets, Rate
from bridge.edges.pacing import BucketPacer, merchant_bucket
from bridge.edges.urls import UrlPolicy

__all__ = ["Edges"]


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def _buckets_engine(database_url: str) -> Engine:
    """One small autocommit pool per database and process, apart from the sessions' pool: a request that
    holds a session connection while it waits for a pacing slot must never wait for a connection too."""
    with _engines_lock:
        engine = _engines.get(database_url)
        if engine is None:
            engine = create_engine(database_url, pool_pre_ping=True, pool_size=2, max_overflow=14,
                                   isolation_level="AUTOCOMMIT")
            _engines[database_url] = engine
        return engine


@dataclass
class Edges:
    buckets: Buckets
    breakers: Breakers
    urls: UrlPolicy
    pacing: Rate

    @classmethod
    def from_settings(cls, settings: Any) -> Edges:
        # SQLite serialises writers: a bucket row would queue every request behind payments, so per process.
        buckets: Buckets = LocalBuckets() if settings.is_sqlite else DatabaseBuckets(
            _buckets_engine(settings.database_url))
        return cls(buckets=buckets,
                   breakers=Breakers(settings.hyperswitch_breaker_failures, settings.hyperswitch_breaker_open_seconds),
                   urls=UrlPolicy.from_settings(settings),
                   pacing=Rate(settings.hyperswitch_requests_per_second, settings.hyperswitch_burst))

    def pacer(self, base_url: str, merchant_id: str, rate: Rate | None = None) -> BucketPacer:
        """The pacer of a Hyperswitch merchant: the tenant's rate, or the deployment's."""
        return BucketPacer(self.buckets, merchant_bucket(base_url, merchant_id), rate or self.pacing)
