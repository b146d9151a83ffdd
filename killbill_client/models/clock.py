"""Kill Bill's clock, as its test resource shows it."""

from __future__ import annotations

from datetime import date, datetime

from killbill_client.models.base import KillBillModel


class ClockState(KillBillModel):
    current_utc_time: datetime
    time_zone: str | None = None
    local_date: date | None = None
