"""Token buckets shared by every process on PostgreSQL (``bridge.edges.buckets.DatabaseBuckets``)."""

from __future__ import annotations

from sqlalchemy import Double, String
from sqlalchemy.orm import Mapped, mapped_column

from bridge.db.base import Base


class RateBucket(Base):
    """One bucket: its next free slot ("theoretical arrival time"), in seconds of the database's clock.

    A row whose time has passed is a full bucket, the same as no row: such rows are pruned freely. The
    key is a digest, so neither client addresses nor pay link tokens are stored.
    """

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tat: Mapped[float] = mapped_column(Double, index=True)
