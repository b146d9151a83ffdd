"""Major ⇄ minor unit conversion with Hyperswitch's own currency exponents.

Hyperswitch amounts are integers in minor units, scaled by ``Currency::number_of_digits_after_decimal_point``
(``crates/common_enums/src/enums.rs``), which differs from ISO 4217 in places: ISK is 2 here (0 in ISO),
IRR and MGA are 0 here (2 in ISO). Converting with ISO exponents would charge 100× too much or too
little, so this table, not ISO, is the authority. The currency set is the spec's ``Currency`` enum.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

__all__ = [
    "AmountPrecisionError",
    "UnknownCurrencyError",
    "currency_exponent",
    "from_minor_units",
    "supported_currencies",
    "to_minor_units",
]

# is_zero_decimal_currency
_ZERO_DECIMAL = frozenset(
    "BIF CLP DJF GNF IRR JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF".split()
)
# is_three_decimal_currency
_THREE_DECIMAL = frozenset("BHD IQD JOD KWD LYD OMR TND".split())
# is_four_decimal_currency
_FOUR_DECIMAL = frozenset({"CLF"})
_TWO_DECIMAL = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD
    CDF CHF CNY COP CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ
    GYD HKD HNL HRK HTG HUF IDR ILS INR ISK JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL
    MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR
    RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STD STN SVC SYP SZL THB TJS TMT TOP
    TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWL
    """.split()
)

_EXPONENTS: dict[str, int] = {
    **{code: 0 for code in _ZERO_DECIMAL},
    **{code: 2 for code in _TWO_DECIMAL},
    **{code: 3 for code in _THREE_DECIMAL},
    **{code: 4 for code in _FOUR_DECIMAL},
}

# Enough digits that scaling never rounds (Hyperswitch's maximum amount is 999,999,999 minor units).
_PRECISION = 60


class UnknownCurrencyError(ValueError):
    """The currency is not one Hyperswitch knows."""


class AmountPrecisionError(ValueError):
    """The amount has more significant decimals than the currency's minor unit."""


def supported_currencies() -> frozenset[str]:
    return frozenset(_EXPONENTS)


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point for ``currency`` in Hyperswitch (0, 2, 3 or 4)."""
    if not isinstance(currency, str):
        raise TypeError(f"currency must be a str, not {type(currency).__name__}")
    try:
        return _EXPONENTS[currency.upper()]
    except KeyError:
        raise UnknownCurrencyError(
            f"currency {currency!r} is not supported by Hyperswitch"
        ) from None


def to_minor_units(amount: Decimal | int, currency: str) -> int:
    """Exact minor units of a major-unit ``amount``; never rounds.

    ``Decimal("10.50")`` USD → 1050. Trailing zeros are fine (``Decimal("100.00")`` JPY → 100), but a
    significant extra decimal (``Decimal("10.005")`` USD) raises ``AmountPrecisionError``. Floats are
    refused because they cannot represent most decimal amounts exactly.
    """
    if isinstance(amount, bool) or not isinstance(amount, (Decimal, int)):
        raise TypeError(f"amount must be a Decimal or int, not {type(amount).__name__}")
    exponent = currency_exponent(currency)
    if isinstance(amount, int):
        return amount * 10**exponent
    if not amount.is_finite():
        raise ValueError(f"amount must be finite, not {amount}")
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        scaled = amount.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise AmountPrecisionError(
                f"{amount} {currency.upper()} has more than {exponent} decimal places"
            )
        return int(scaled)


def from_minor_units(minor: int, currency: str) -> Decimal:
    """Major-unit ``Decimal`` of ``minor`` units, with the currency's number of decimals."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise TypeError(f"minor must be an int, not {type(minor).__name__}")
    exponent = currency_exponent(currency)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return Decimal(minor).scaleb(-exponent)
