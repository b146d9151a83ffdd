"""JSON logs with a request id on every line, and the one redaction filter every handler shares.

Redaction removes, from the message and from string extras: every secret registered with
:func:`register_secret` (master keys, tokens, tenants' decrypted credentials as they are loaded),
card-like numbers (13–19 digits passing Luhn), and values of sensitive-looking keys in
``key=value``, ``key: value`` and JSON forms.
"""

from __future__ import annotations

import contextvars
import logging
import re
import sys
import threading
from typing import Any

from pythonjsonlogger.json import JsonFormatter

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
job_id_var: contextvars.ContextVar[int | None] = contextvars.ContextVar("job_id", default=None)

REDACTED = "[redacted]"
CARD_REDACTED = "[card redacted]"

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_secret_pattern: re.Pattern[str] | None = None

# Shortest secret we redact by value: shorter strings would match ordinary words.
_MIN_SECRET_LENGTH = 6

# 13–19 digits, optionally grouped by spaces or dashes, standing alone: not part of a longer token such
# as a UUID, whose leading groups ("08945464-6183-4500-…") can pass Luhn by chance.
_CARD_CANDIDATE = re.compile(r"(?<![\w.-])\d(?:[ -]?\d){12,18}(?![\w.]|-\w)")
_SENSITIVE_KEYS = (r"api[-_]?key|api[-_]?secret|secret|password|passwd|token|authorization|"
                   r"hash[-_]?key|cvc|cvv|card[-_]?number|card_cvc|signature")
# "key": "value" (JSON) and 'key': 'value' (Python reprs).
_QUOTED_PAIR = re.compile(rf"""(["'])([\w-]*(?:{_SENSITIVE_KEYS})[\w-]*)\1(\s*:\s*)(["'])(?:(?!\4)[^\\]|\\.)*\4""", re.I)
_TEXT_PAIR = re.compile(rf"\b([\w-]*(?:{_SENSITIVE_KEYS})[\w-]*\s*[=:]\s*)(?:Bearer\s+|Basic\s+)?[^\s,;&\"']+", re.I)


def register_secret(value: str | None) -> None:
    """Never let ``value`` reach a log line."""
    global _secret_pattern
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _secrets_lock:
        if value in _secrets:
            return
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _secret_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask_card(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return CARD_REDACTED if _luhn_ok(digits) else match.group(0)


def looks_like_card_number(text: str) -> bool:
    """True when ``text`` holds a 13–19 digit number that passes the Luhn check."""
    return any(_luhn_ok(re.sub(r"\D", "", m.group(0))) for m in _CARD_CANDIDATE.finditer(text))


def redact(text: str) -> str:
    """``text`` with registered secrets, card numbers and sensitive key values removed."""
    pattern = _secret_pattern
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    text = _CARD_CANDIDATE.sub(_mask_card, text)
    text = _QUOTED_PAIR.sub(lambda m: f"{m[1]}{m[2]}{m[1]}{m[3]}{m[4]}{REDACTED}{m[4]}", text)
    return _TEXT_PAIR.sub(lambda m: m.group(1) + REDACTED, text)


_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class RedactingFilter(logging.Filter):
    """Scrub the formatted message, the exception text and string extras of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, key, redact(value))
        return True


class ContextFilter(logging.Filter):
    """Stamp the current request id and job id on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.job_id = job_id_var.get()
        return True


def _json_formatter() -> logging.Formatter:
    return JsonFormatter("{asctime}{levelname}{name}{message}{request_id}{job_id}", style="{",
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
                         datefmt="%Y-%m-%dT%H:%M:%S%z", timestamp=False)


def configure_logging(level: str = "INFO", fmt: str = "json", stream: Any = None) -> None:
    """Route the root logger through one handler carrying the context and redaction filters."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(_json_formatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_bridge_handler", False):
            root.removeHandler(old)
    handler._bridge_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic announces its context on every revision check (readiness probes); keep its warnings only.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.Formatter.converter = __import__("time").gmtime  # timestamps in UTC
