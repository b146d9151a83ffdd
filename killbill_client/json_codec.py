"""JSON the way Kill Bill writes it: money as exact JSON numbers, never floats.

Kill Bill serialises ``BigDecimal`` as a plain JSON number (``50.0``, ``500``, ``0.125``); the swagger
types every amount as ``number``. The standard library would turn a ``Decimal`` into a float or a
string, so encoding is done here; decoding reads every fractional number as ``Decimal``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID


def loads(text: str | bytes) -> Any:
    """Parse JSON, reading numbers with a fraction or exponent as ``Decimal``."""
    return json.loads(text, parse_float=Decimal)


def dumps(value: Any) -> str:
    """Compact JSON; ``Decimal`` becomes a plain number, floats are refused (money is never a float)."""
    return _encode(value)


def format_datetime(value: datetime) -> str:
    """Kill Bill's wire format for instants: UTC with milliseconds, e.g. ``2013-08-01T06:00:02.000Z``."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: Kill Bill instants must be timezone-aware")
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def format_decimal(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite amount")
    return format(value, "f")


def _encode(value: Any) -> str:
    if value is None or isinstance(value, (bool, str)):
        return json.dumps(value)
    if isinstance(value, Enum):
        return _encode(value.value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, float):
        raise TypeError("float in a Kill Bill payload: use Decimal for amounts")
    if isinstance(value, UUID):
        return json.dumps(str(value))
    if isinstance(value, datetime):
        return json.dumps(format_datetime(value))
    if isinstance(value, date):
        return json.dumps(value.isoformat())
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_encode(item) for item in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__} as Kill Bill JSON")
