"""Reading request bodies the way the router's serde types do.

A body that serde cannot turn into the request struct (bad JSON, wrong type, unknown field, unknown enum
variant, malformed id) is a 400 IR_06 with the ``error_type`` quirk; these helpers raise exactly that.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from . import errors

_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MAX_ID_LENGTH = 64


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean `{str(value).lower()}`"
    if isinstance(value, int):
        return f"integer `{value}`"
    if isinstance(value, float):
        return f"floating point `{value}`"
    if isinstance(value, str):
        return f'string "{value}"'
    if isinstance(value, list):
        return "a sequence"
    return "a map"


def parse_object(raw: bytes, allowed: Iterable[str] | None) -> dict[str, Any]:
    """Decode a JSON object body; with ``allowed``, refuse unknown keys like ``deny_unknown_fields``."""
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise errors.json_deserialize(_describe_json_error(exc)) from None
    if not isinstance(body, dict):
        raise errors.json_deserialize(f"invalid type: {_kind(body)}, expected a map at line 1 column 1")
    if allowed is not None:
        _deny_unknown(body, tuple(allowed))
    return body


def _reject_constant(name: str) -> Any:
    raise ValueError(f"expected value, found {name}")


def _describe_json_error(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        if not exc.doc.strip():
            return "EOF while parsing a value at line 1 column 0"
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return str(exc)


def _deny_unknown(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in body:
        if key not in allowed:
            expected = ", ".join(f"`{name}`" for name in allowed)
            raise errors.json_deserialize(f"unknown field `{key}`, expected one of {expected}")


def check_fields(obj: dict[str, Any], allowed: Iterable[str]) -> None:
    """Unknown-key check for a nested ``deny_unknown_fields`` struct."""
    _deny_unknown(obj, tuple(allowed))


def optional_int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    # Minor units are integers: a float or a numeric string fails serde's i64 (no silent rounding).
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.json_deserialize(f"invalid type: {_kind(value)}, expected i64")
    return value


def required_int(body: dict[str, Any], key: str) -> int:
    value = optional_int(body, key)
    if value is None:
        raise errors.json_deserialize(f"missing field `{key}`")
    return value


def optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise errors.json_deserialize(f"invalid type: {_kind(value)}, expected a string")
    return value


def optional_bool(body: dict[str, Any], key: str) -> bool | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise errors.json_deserialize(f"invalid type: {_kind(value)}, expected a boolean")
    return value


def optional_object(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise errors.json_deserialize(f"invalid type: {_kind(value)}, expected a map")
    return value


def optional_list(body: dict[str, Any], key: str) -> list[Any] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        raise errors.json_deserialize(f"invalid type: {_kind(value)}, expected a sequence")
    return value


def optional_enum(body: dict[str, Any], key: str, variants: Iterable[str]) -> str | None:
    value = optional_str(body, key)
    variants = tuple(variants)
    if value is not None and value not in variants:
        expected = ", ".join(f"`{name}`" for name in variants[:40])
        raise errors.json_deserialize(f"unknown variant `{value}`, expected one of {expected}")
    return value


def required_enum(body: dict[str, Any], key: str, variants: Iterable[str]) -> str:
    value = optional_enum(body, key, variants)
    if value is None:
        raise errors.json_deserialize(f"missing field `{key}`")
    return value


def optional_id(body: dict[str, Any], key: str) -> str | None:
    """An ``id_type`` (payment_id, customer_id): trimmed, 1–64 of ``[A-Za-z0-9_-]`` (reference §2)."""
    value = optional_str(body, key)
    if value is None:
        return None
    value = value.strip()
    if not _ID_PATTERN.match(value):
        raise errors.json_deserialize(
            f"{key} must consist of only alphanumeric characters, hyphens and underscores "
            f"and be between 1 and {_MAX_ID_LENGTH} characters long")
    return value


def optional_merchant_reference(body: dict[str, Any], key: str) -> str | None:
    """refund_id: any string, only its length is checked (``core/utils.rs`` ``get_or_generate_id``)."""
    value = optional_str(body, key)
    if value is not None and not 0 < len(value) <= _MAX_ID_LENGTH:
        raise errors.invalid_value(key)
    return value

