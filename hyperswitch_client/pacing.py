"""Pacing: the client asks for a request slot before every HTTP attempt.

Hyperswitch's hosted service answers 429 above 80 requests per second (reference §9). A billing run
that asks for thousands of payments at once must flow at a rate Hyperswitch takes, not fail: every
attempt first reserves a slot from a ``Pacer`` and waits for it, within the call's deadline. Where
the slots come from (a token bucket per process, or one shared by every process through a database)
is the pacer's business; the client only reserves, waits, and reports a 429's ``Retry-After``.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Pacer"]


class Pacer(Protocol):
    def acquire(self, max_wait: float) -> float | None:
        """Reserve the next request slot: the seconds to wait before sending (0 when one is free now),
        or None, reserving nothing, when no slot comes within ``max_wait`` seconds."""

    def pause(self, seconds: float) -> None:
        """Hyperswitch asked for no requests during the next ``seconds`` (a 429's ``Retry-After``):
        no slot is handed out before then, to this call or to any other sharing the pacer."""
