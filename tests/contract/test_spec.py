"""The spec validator itself: it must catch real violations, and apply only its listed corrections."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.contract.spec import (
    HYPERSWITCH_CORRECTIONS,
    REFERENCE,
    ContractViolation,
    hyperswitch_spec,
    killbill_spec,
)

EXAMPLES = REFERENCE / "examples"


def _example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text())


def test_real_hyperswitch_requests_pass() -> None:
    for name in ("cypress_create-pm-id-mit.json", "payment_create_mit_mandate_id.request.json",
                 "payment_create_cit_setup_mandate.request.json", "payment_link_create.request.json"):
        hyperswitch_spec.validate_request("POST", "/payments", _example(f"hyperswitch/{name}"))
    refund = _example("hyperswitch/refund_create_partial.request.json") | {"payment_id": "p" * 30}
    hyperswitch_spec.validate_request("POST", "/refunds", refund)  # with the Postman variable filled in


def test_wrong_types_unknown_paths_and_methods_are_caught() -> None:
    with pytest.raises(ContractViolation, match="amount: 'ten' is not of type 'integer'"):
        hyperswitch_spec.validate_request("POST", "/payments", {"amount": "ten", "currency": "USD"})
    with pytest.raises(ContractViolation, match="no path in the spec matches /paymentz"):
        hyperswitch_spec.validate_request("POST", "/paymentz", {})
    with pytest.raises(ContractViolation, match="DELETE not allowed"):
        hyperswitch_spec.validate_request("DELETE", "/payments", None)
    with pytest.raises(ContractViolation, match="unknown query parameter"):
        hyperswitch_spec.validate_request("GET", "/payments/pay_1", None, query={"forcesync": "true"})


def test_literal_segments_win_over_parameters() -> None:
    assert hyperswitch_spec.operation("GET", "/payments/list")[0] == "/payments/list"
    assert hyperswitch_spec.operation("GET", "/payments/pay_123")[0] == "/payments/{payment_id}"


def test_error_bodies_use_the_routers_real_envelope() -> None:
    hyperswitch_spec.validate_response("POST", "/payments", 400,
                                       _example("hyperswitch/error_HE_01_duplicate_payment_id.json"))
    hyperswitch_spec.validate_response("POST", "/payments", 400,
                                       _example("hyperswitch/error_IR_06_json_deserialize.json"))
    with pytest.raises(ContractViolation):
        hyperswitch_spec.validate_response("POST", "/payments", 400, {"message": "flat"})


def test_corrections_are_narrow_and_explained() -> None:
    assert all(c.reason for c in HYPERSWITCH_CORRECTIONS)
    schema = hyperswitch_spec.document["components"]["schemas"]["PaymentsResponse"]
    # The corrected fields, and only those, changed.
    assert "amount_capturable" in schema["required"] and "net_amount" in schema["required"]
    assert "payment_method" not in schema["required"]


def test_killbill_examples_pass_and_violations_are_caught() -> None:
    killbill_spec.validate_response("GET", "/1.0/kb/accounts/2ad52f53-85ae-408a-9879-32a7e59dd03d", 200,
                                    _example("killbill/account.json"))
    killbill_spec.validate_request("POST", "/1.0/kb/accounts", _example("killbill/account_create.request.json"))
    with pytest.raises(ContractViolation, match="at /name: 42 is not valid"):
        killbill_spec.validate_request("POST", "/1.0/kb/accounts", {"name": 42})
    with pytest.raises(ContractViolation, match="status 299 is not declared"):
        killbill_spec.validate_response("GET", "/1.0/kb/accounts/2ad52f53-85ae-408a-9879-32a7e59dd03d", 299, {})


def test_reference_folder_is_found() -> None:
    assert Path(REFERENCE / "hyperswitch-openapi.json").is_file()
