"""Phone numbers of payors and senders, in E.164 (``+14155552671``): the only form providers take.

Kill Bill keeps an account's phone as free text. A number written with its country code (``+44 20 7946
0958``, ``+1 (415) 555-2671``) is read as such; one written nationally is read in the account's country when
it has one. A number that does not parse, or is not a possible and valid number for its country, has no
E.164 form: the text channels skip it with the reason rather than hand it to a provider.
"""

from __future__ import annotations

import phonenumbers

_MAX_INPUT = 64  # longer text is not a phone number; phonenumbers refuses far longer input anyway


def e164(value: str | None, region: str | None = None) -> str | None:
    """The number in E.164, or None when ``value`` is not a valid phone number.

    ``region`` is an ISO 3166 country code, used only for numbers written without their country code.
    """
    if not value or len(value) > _MAX_INPUT:
        return None
    try:
        number = phonenumbers.parse(value.strip(), (region or "").upper() or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_e164(value: str | None) -> bool:
    """Already in E.164 and valid (what a stored recipient or a configured sender must be)."""
    return bool(value) and e164(value) == value


def masked(number: str) -> str:
    """For logs: the country code and the last two digits, enough to tell payors apart, not to call them."""
    if len(number) <= 6:
        return "+" + "*" * max(len(number) - 1, 0)
    return number[:3] + "*" * (len(number) - 5) + number[-2:]
