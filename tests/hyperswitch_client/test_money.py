"""Minor units with Hyperswitch's exponents (reference/hyperswitch.md §8), not ISO 4217's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hyperswitch_client.money import (
    AmountPrecisionError,
    UnknownCurrencyError,
    currency_exponent,
    from_minor_units,
    supported_currencies,
    to_minor_units,
)
from tests.contract.spec import hyperswitch_spec


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [
        ("USD", 2),
        ("JPY", 0),
        ("KWD", 3),
        # Hyperswitch differs from ISO 4217 for these: ISK 2 (ISO 0), IRR and MGA 0 (ISO 2).
        ("ISK", 2),
        ("IRR", 0),
        ("MGA", 0),
        ("CLF", 4),
    ],
)
def test_exponents_are_hyperswitch_s(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (Decimal("10.50"), "USD", 1050),
        (Decimal("1000"), "JPY", 1000),
        (Decimal("1.234"), "KWD", 1234),
        (Decimal("12.34"), "ISK", 1234),
        (Decimal("5000"), "IRR", 5000),
        (Decimal("1500"), "MGA", 1500),
        (Decimal("1.2345"), "CLF", 12345),
        (Decimal("0"), "USD", 0),
        (Decimal("9999999.99"), "USD", 999_999_999),
    ],
)
def test_to_minor_units(amount: Decimal, currency: str, minor: int) -> None:
    assert to_minor_units(amount, currency) == minor
    assert from_minor_units(minor, currency) == amount


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [(1050, "USD", "10.50"), (1000, "JPY", "1000"), (1234, "KWD", "1.234"), (12345, "CLF", "1.2345"),
     (1234, "ISK", "12.34"), (7, "IRR", "7"), (7, "MGA", "7")],
)  # fmt: skip
def test_from_minor_units_keeps_the_currency_s_decimals(minor: int, currency: str, text: str) -> None:
    assert str(from_minor_units(minor, currency)) == text


def test_trailing_zeros_are_not_extra_decimals() -> None:
    assert to_minor_units(Decimal("100.00"), "JPY") == 100
    assert to_minor_units(Decimal("10.5000"), "USD") == 1050


@pytest.mark.parametrize(
    ("amount", "currency"),
    [(Decimal("10.505"), "USD"), (Decimal("1.5"), "JPY"), (Decimal("0.1"), "IRR"),
     (Decimal("0.1"), "MGA"), (Decimal("1.0001"), "KWD"), (Decimal("1.00001"), "CLF"),
     (Decimal("12.345"), "ISK")],
)  # fmt: skip
def test_more_decimals_than_the_currency_has_is_refused(amount: Decimal, currency: str) -> None:
    with pytest.raises(AmountPrecisionError):
        to_minor_units(amount, currency)


@pytest.mark.parametrize("amount", [10.5, 10.0, True, "10.50"])
def test_floats_and_other_types_are_refused(amount: object) -> None:
    with pytest.raises(TypeError):
        to_minor_units(amount, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("minor", [10.0, True, "10", Decimal("10")])
def test_from_minor_units_takes_only_ints(minor: object) -> None:
    with pytest.raises(TypeError):
        from_minor_units(minor, "USD")  # type: ignore[arg-type]


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity")])
def test_non_finite_amounts_are_refused(amount: Decimal) -> None:
    with pytest.raises(ValueError):
        to_minor_units(amount, "USD")


@pytest.mark.parametrize("currency", ["XXX", "US", "", "BTC"])
def test_unknown_currency_is_a_clear_error(currency: str) -> None:
    with pytest.raises(UnknownCurrencyError, match="not supported"):
        currency_exponent(currency)
    with pytest.raises(UnknownCurrencyError):
        to_minor_units(Decimal("1"), currency)


def test_ints_are_exact_major_amounts() -> None:
    assert to_minor_units(12, "USD") == 1200
    assert to_minor_units(12, "JPY") == 12


def test_lowercase_codes_are_accepted() -> None:
    assert to_minor_units(Decimal("1.23"), "usd") == 123


def test_the_table_covers_exactly_the_spec_s_currencies() -> None:
    spec_currencies = hyperswitch_spec.document["components"]["schemas"]["Currency"]
    values = spec_currencies.get("enum") or spec_currencies["anyOf"][0]["enum"]
    assert supported_currencies() == frozenset(values)


def test_every_listed_non_two_decimal_currency() -> None:
    zero = "BIF CLP DJF GNF IRR JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
    three = "BHD IQD JOD KWD LYD OMR TND".split()
    assert {c: currency_exponent(c) for c in zero} == dict.fromkeys(zero, 0)
    assert {c: currency_exponent(c) for c in three} == dict.fromkeys(three, 3)
    others = supported_currencies() - set(zero) - set(three) - {"CLF"}
    assert {currency_exponent(c) for c in others} == {2}
