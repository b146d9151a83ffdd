"""Kill Bill's JSON on the wire: BigDecimal as plain numbers, instants as ``...T..:..:..000Z``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any
from uuid import UUID

from flask import Response

JSON_TYPE = "application/json"


def format_instant(value: datetime) -> str:
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def dumps(value: Any) -> str:
    if value is None or isinstance(value, (bool, str)):
        return json.dumps(value)
    if isinstance(value, Enum):
        return dumps(value.value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, UUID):
        return json.dumps(str(value))
    if isinstance(value, datetime):
        return json.dumps(format_instant(value))
    if isinstance(value, date):
        return json.dumps(value.isoformat())
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise TypeError(f"cannot serialise {type(value).__name__}")


def loads(data: bytes | str) -> Any:
    return json.loads(data, parse_float=Decimal)


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    return Response(dumps(body), status=status, mimetype=JSON_TYPE, headers=dict(headers or {}))


def to_decimal(value: Any) -> Decimal | None:
    """Jackson coerces numbers and numeric strings into BigDecimal."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    try:
        return Decimal(value) if isinstance(value, (int, Decimal)) else Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc


def to_uuid(value: Any) -> UUID | None:
    if value in (None, ""):
        return None
    return UUID(str(value))


def parse_instant(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
