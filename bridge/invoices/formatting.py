"""Amounts and dates as the payor reads them: in the account's locale and the invoice's currency."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_format_date
from babel.numbers import format_currency, get_currency_precision

DEFAULT_LOCALE = "en_US"


def _locale(locale: str | None) -> Locale:
    """Kill Bill stores locales as ``en_US`` (sometimes ``en-US`` or just ``fr``); unknown ones fall back."""
    try:
        return Locale.parse((locale or DEFAULT_LOCALE).replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse(DEFAULT_LOCALE)


def format_amount(amount: Decimal, currency: str, locale: str) -> str:
    """``Decimal("1234.5"), "USD", "en_US"`` → ``$1,234.50``; the currency's own number of decimals (JPY 0, KWD 3).

    The amount is rounded to the currency's precision for display only; it is never converted to a float.
    """
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, not {type(amount).__name__}")
    code = currency.upper()
    digits = get_currency_precision(code)
    quantized = amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return format_currency(quantized, code, locale=_locale(locale), currency_digits=True)


def format_date(value: date | datetime | str | None, locale: str) -> str | None:
    """A date in the locale's medium form (``Nov 22, 2026``, ``22 nov. 2026``); ISO strings are accepted."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return _babel_format_date(value, format="medium", locale=_locale(locale))
