"""Money stays Decimal on the wire; instants are UTC; floats are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from killbill_client import json_codec
from killbill_client.models import Payment, PaymentTransaction, TransactionType


def test_decimals_are_plain_json_numbers() -> None:
    body = {"amount": Decimal("10.50"), "tiny": Decimal("1E-9"), "big": Decimal("1E+3"), "n": 3, "ok": True}
    assert json_codec.dumps(body) == '{"amount":10.50,"tiny":0.000000001,"big":1000,"n":3,"ok":true}'


def test_decoding_keeps_every_digit() -> None:
    value = json_codec.loads('{"amount": 0.1, "n": 7}')
    assert value == {"amount": Decimal("0.1"), "n": 7} and isinstance(value["amount"], Decimal)
    assert value["amount"] + Decimal("0.2") == Decimal("0.3")


def test_floats_and_naive_datetimes_are_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        json_codec.dumps({"amount": 10.5})
    with pytest.raises(ValueError, match="timezone-aware"):
        json_codec.dumps({"effectiveDate": datetime(2024, 1, 1)})
    with pytest.raises(ValueError):
        json_codec.dumps({"amount": Decimal("NaN")})


def test_instants_are_written_in_utc_with_milliseconds() -> None:
    paris = timezone(timedelta(hours=1))
    assert json_codec.format_datetime(datetime(2024, 3, 1, 13, 5, 9, 123456, tzinfo=paris)) == \
        "2024-03-01T12:05:09.123Z"


def test_models_round_trip_kill_bills_names() -> None:
    txn = PaymentTransaction(transaction_type=TransactionType.PURCHASE, amount=Decimal("19.99"),
                             payment_id=UUID(int=7))
    assert json_codec.dumps(txn.to_wire()) == (
        '{"paymentId":"00000000-0000-0000-0000-000000000007","transactionType":"PURCHASE","amount":19.99}')
    parsed = Payment.model_validate(json_codec.loads(
        '{"paymentId":"00000000-0000-0000-0000-000000000007","purchasedAmount":19.99,"newField":"kept",'
        '"transactions":[{"effectiveDate":"2018-07-19T16:39:00.000Z","status":"PENDING"}]}'))
    assert parsed.purchased_amount == Decimal("19.99")
    assert parsed.model_extra == {"newField": "kept"}
    assert parsed.transactions[0].effective_date == datetime(2018, 7, 19, 16, 39, tzinfo=UTC)  # type: ignore[index]
