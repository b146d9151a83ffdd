"""Test cards and the outcomes they produce.

The numbers follow the router's dummy connector (``crates/router/src/routes/dummy_connector/utils.rs``,
reference §10) and Stripe's test cards used by the router's Postman/Cypress suites; decline codes and
messages are the ones those suites assert (``examples/hyperswitch/payment_failed_*.fragment.json``).

| card number(s)                                              | outcome                                  |
|-------------------------------------------------------------|------------------------------------------|
| 4242424242424242, 4111111111111111, 5555555555554444,        | approved                                 |
| 378282246310005, 6011111111111117, 38000000000006, any other |                                          |
| valid number                                                 |                                          |
| 4000000000000002, 5105105105105100                           | failed: card_declined / generic_decline  |
| 4000000000009995                                             | failed: card_declined / insufficient_funds |
| 4000000000009987 / 4000000000009979                          | failed: card_declined / lost_card, stolen_card |
| 4000003800000446, 4000000000003063                           | requires_customer_action (3DS redirect)  |
| 4000000000000077                                             | processing (settle through control)      |

Merchant-initiated charges (saved payment method or mandate) take the outcome set on the payment
method or mandate through control (default ``approve``); the names are the keys of ``OUTCOMES``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import errors
from .model import Card


@dataclass(frozen=True)
class Outcome:
    """What the simulated connector answers to an authorization."""

    kind: str  # "approve" | "decline" | "processing" | "three_ds"
    error_code: str | None = None
    error_message: str | None = None


def _decline(reason: str, text: str) -> Outcome:
    return Outcome("decline", "card_declined", f"message - {text}, decline_code - {reason}")


OUTCOMES: dict[str, Outcome] = {
    "approve": Outcome("approve"),
    "decline": _decline("generic_decline", "Your card was declined."),
    "insufficient_funds": _decline("insufficient_funds", "Your card has insufficient funds."),
    "lost_card": _decline("lost_card", "Your card was declined."),
    "stolen_card": _decline("stolen_card", "Your card was declined."),
    "processing": Outcome("processing"),
    "requires_customer_action": Outcome("three_ds"),
}

_CARD_OUTCOMES: dict[str, str] = {
    "4000000000000002": "decline",
    "5105105105105100": "decline",
    "4000000000009995": "insufficient_funds",
    "4000000000009987": "lost_card",
    "4000000000009979": "stolen_card",
    "4000003800000446": "requires_customer_action",
    "4000000000003063": "requires_customer_action",
    "4000000000000077": "processing",
}

CARD_FIELDS = ("card_number", "card_exp_month", "card_exp_year", "card_holder_name", "card_cvc",
               "card_issuer", "card_network", "card_type", "card_issuing_country",
               "card_issuing_country_code", "bank_code", "nick_name")


def outcome_name_for(card_number: str) -> str:
    return _CARD_OUTCOMES.get(card_number, "approve")


def outcome(name: str) -> Outcome:
    return OUTCOMES[name]


def network_of(number: str) -> str | None:
    """The card network by BIN range, as the router's card-network regexes decide it."""
    if number.startswith("4"):
        return "Visa"
    if number[:2] in {"34", "37"}:
        return "AmericanExpress"
    if number[:2] in {"51", "52", "53", "54", "55"} or "2221" <= number[:4] <= "2720":
        return "Mastercard"
    if number.startswith(("6011", "65")):
        return "Discover"
    if number[:2] in {"30", "36", "38"}:
        return "DinersClub"
    if number.startswith("35"):
        return "JCB"
    return None


def _luhn_ok(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def read_card(payment_method_data: dict[str, Any], merchant_id: str, today: datetime) -> tuple[Card, str]:
    """Validate ``payment_method_data.card`` and return the masked card plus its outcome name."""
    raw = payment_method_data.get("card")
    if not isinstance(raw, dict):
        raise errors.json_deserialize("unknown variant, expected `card`")
    for key in raw:
        if key not in CARD_FIELDS:
            raise errors.json_deserialize(f"unknown field `{key}`")
    number = _card_number(raw.get("card_number"))
    month, year = _expiry(raw, today)
    fingerprint = hashlib.sha256(f"{merchant_id}:{number}".encode()).hexdigest()
    card = Card(last4=number[-4:], isin=number[:6], network=network_of(number), exp_month=month,
                exp_year=year, holder_name=raw.get("card_holder_name"), fingerprint=fingerprint)
    return card, outcome_name_for(number)


def _card_number(value: Any) -> str:
    if not isinstance(value, str):
        raise errors.json_deserialize("missing field `card_number`")
    number = value.replace(" ", "")
    if not number.isdigit() or not 12 <= len(number) <= 19:
        raise errors.json_deserialize("invalid card number length")
    if not _luhn_ok(number):
        raise errors.json_deserialize("card number invalid")
    return number


def _expiry(raw: dict[str, Any], today: datetime) -> tuple[str, str]:
    month, year = raw.get("card_exp_month"), raw.get("card_exp_year")
    if not isinstance(month, str) or not month.isdigit() or not 1 <= int(month) <= 12:
        raise errors.precondition_failed("Invalid Expiry Month")
    if not isinstance(year, str) or not year.isdigit() or len(year) not in (2, 4):
        raise errors.precondition_failed("Invalid Expiry Year")
    full_year = int(year) + 2000 if len(year) == 2 else int(year)
    if (full_year, int(month)) < (today.year, today.month):
        raise errors.precondition_failed("Card Expired")
    return month, year
