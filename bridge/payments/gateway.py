"""Calls to Hyperswitch as outcomes: every answer or failure becomes a Kill Bill status, never a guess.

One function per kind of call keeps conversion at the edge (Kill Bill major units → minor units)
and the classification of failures (``hyperswitch_client.ErrorKind``) in one place:
not processed → CANCELED, known refusal → ERROR, unknown → UNDEFINED.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import hyperswitch_client as hs
from bridge.payments.status import Outcome, PluginStatus

T = TypeVar("T")


@dataclass(frozen=True)
class Answer(Generic[T]):
    """Either Hyperswitch's object or the outcome of the failure that replaced it."""

    value: T | None
    failure: Outcome | None = None
    error: hs.HyperswitchError | None = None


def outcome_of(error: hs.HyperswitchError) -> Outcome:
    status = {
        hs.ErrorKind.NOT_PROCESSED: PluginStatus.CANCELED,
        hs.ErrorKind.KNOWN_OUTCOME: PluginStatus.ERROR,
        hs.ErrorKind.UNKNOWN_OUTCOME: PluginStatus.UNDEFINED,
    }[error.kind]
    code = error.code or (f"HTTP_{error.http_status}" if error.http_status else type(error).__name__)
    return Outcome(status, None, code, error.message or str(error))


def call(fn: Callable[[], T]) -> Answer[T]:
    try:
        return Answer(fn())
    except hs.HyperswitchError as error:
        return Answer(None, outcome_of(error), error)


def is_not_found(answer: Answer[T]) -> bool:
    return isinstance(answer.error, hs.NotFoundError)


def is_duplicate(answer: Answer[T]) -> bool:
    return isinstance(answer.error, hs.DuplicateResourceError)
