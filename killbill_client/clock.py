"""The test clock (``/1.0/kb/test/clock``): only served with ``org.killbill.server.test.mode=true``.

In test mode Kill Bill's time stands still until it is moved here; everything it schedules (payment
retries, the janitor, push notification retries) fires when the clock passes its date. Each move waits up to
``timeout_seconds`` for the notifications that came due to be processed.
"""

from __future__ import annotations

from datetime import datetime

from killbill_client.models.clock import ClockState
from killbill_client.service import Service
from killbill_client.transport import paths

_CLOCK = paths("test", "clock")


class ClockService(Service):
    def get(self) -> ClockState:
        return self._parse(ClockState, self._transport.get_json(_CLOCK))

    def set(self, when: datetime, *, timeout_seconds: int = 10) -> ClockState:
        """Jump to ``when`` (timezone-aware)."""
        if when.tzinfo is None:
            raise ValueError("the clock is set to a timezone-aware time")
        response = self._transport.write("POST", _CLOCK, query={"requestedDate": when.isoformat(),
                                                                "timeoutSec": timeout_seconds})
        return self._parse(ClockState, response.json())

    def add_days(self, days: int, *, timeout_seconds: int = 10) -> ClockState:
        response = self._transport.write("PUT", _CLOCK, query={"days": days, "timeoutSec": timeout_seconds})
        return self._parse(ClockState, response.json())
