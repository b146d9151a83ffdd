"""Request models send only what the spec knows, in the shape real requests have."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any, get_args

import pytest
from pydantic import BaseModel, ValidationError

from hyperswitch_client.common import RequestModel
from hyperswitch_client.customers import CustomerCreateParams, CustomerUpdateParams
from hyperswitch_client.payments import (
    PaymentCancelParams,
    PaymentCaptureParams,
    PaymentCreateParams,
    PaymentListParams,
)
from hyperswitch_client.profiles import ProfileUpdateParams, WebhookDetailsParams
from hyperswitch_client.refunds import RefundCreateParams, RefundListParams
from tests.contract.spec import hyperswitch_spec
from tests.hyperswitch_client.conftest import CUSTOMER_ID, PAYMENT_ID, example

# Each body model and the spec schema of the request it is the body of.
BODY_SCHEMAS: list[tuple[type[RequestModel], str]] = [
    (PaymentCreateParams, "PaymentsCreateRequest"),
    (PaymentCaptureParams, "PaymentsCaptureRequest"),
    (PaymentCancelParams, "PaymentsCancelRequest"),
    (RefundCreateParams, "RefundRequest"),
    (RefundListParams, "RefundListRequest"),
    (CustomerCreateParams, "CustomerRequest"),
    (CustomerUpdateParams, "CustomerUpdateRequest"),
    (ProfileUpdateParams, "ProfileCreate"),
]


def schema_at(ref: str) -> dict:
    node: Any = hyperswitch_spec.document
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def property_schemas(schema: dict) -> dict[str, list[dict]]:
    """Every property a value of ``schema`` may have, with each schema it can have there, through
    $ref/allOf/anyOf/oneOf/items (a oneOf can give one name several schemas)."""
    if "$ref" in schema:
        return property_schemas(schema_at(schema["$ref"]))
    found: dict[str, list[dict]] = {name: [sub] for name, sub in schema.get("properties", {}).items()}
    parts = [part for key in ("allOf", "anyOf", "oneOf") for part in schema.get(key, [])]
    if "items" in schema:
        parts.append(schema["items"])
    for part in parts:
        for name, subs in property_schemas(part).items():
            found.setdefault(name, []).extend(subs)
    return found


def nested_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    models: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        models.extend(nested_models(arg))
    return models


def unknown_fields(model: type[BaseModel], schema: dict, where: str) -> list[str]:
    known = property_schemas(schema)
    problems = []
    for name, info in model.model_fields.items():
        if name not in known:
            problems.append(f"{where}.{name}")
            continue
        alternatives = {"anyOf": known[name]}
        for nested in nested_models(info.annotation):
            problems.extend(unknown_fields(nested, alternatives, f"{where}.{name}"))
    return problems


@pytest.mark.parametrize(("model", "component"), BODY_SCHEMAS, ids=lambda v: getattr(v, "__name__", v))
def test_every_field_is_known_to_the_spec(model: type[RequestModel], component: str) -> None:
    schema = {"$ref": f"#/components/schemas/{component}"}
    assert unknown_fields(model, schema, model.__name__) == []


def test_the_field_check_catches_an_unknown_field() -> None:
    class Bogus(RequestModel):
        amount: int
        flux_capacitor: bool

    assert unknown_fields(Bogus, {"$ref": "#/components/schemas/PaymentsCreateRequest"}, "B") == [
        "B.flux_capacitor"]  # fmt: skip


def test_list_query_names_are_the_spec_s_or_the_router_s() -> None:
    op = hyperswitch_spec.document["paths"]["/payments/list"]["get"]
    spec_names = {p["name"] for p in op["parameters"]}
    router_renames = {"created.gte": "created_gte", "created.lte": "created_lte"}
    query = PaymentListParams(customer_id="c", limit=1, starting_after="a", ending_before="b",
                              created_gte=datetime(2026, 1, 1, tzinfo=UTC),
                              created_lte=datetime(2026, 2, 1, tzinfo=UTC)).to_query()  # fmt: skip
    assert {router_renames.get(k, k) for k in query} <= spec_names
    assert query["created.gte"] == "2026-01-01T00:00:00.000Z"


@pytest.mark.parametrize("model", [m for m, _ in BODY_SCHEMAS] + [WebhookDetailsParams])
def test_unknown_fields_are_refused_before_sending(model: type[RequestModel]) -> None:
    with pytest.raises(ValidationError, match="extra"):
        model.model_validate({"surely_not_a_field": 1})


# ---------------------------------------------------------------- real request bodies round-trip

ROUND_TRIPS = [
    (PaymentCreateParams, "payment_create_minimal.request.json"),
    (PaymentCreateParams, "payment_create_manual_capture_intent.request.json"),
    (PaymentCreateParams, "payment_create_cit_setup_mandate.request.json"),
    (PaymentCreateParams, "payment_create_save_card_off_session.request.json"),
    (PaymentCreateParams, "zero_auth_mit_payment_method_id.request.json"),
    (PaymentCreateParams, "cypress_create-pm-id-mit.json"),
    (PaymentCreateParams, "payment_link_create.request.json"),
    (PaymentCaptureParams, "payment_capture_partial.request.json"),
    (PaymentCaptureParams, "payment_capture_full.request.json"),
    (RefundCreateParams, "cypress_refund-flow-body.json"),
    (CustomerCreateParams, "customer_create.request.json"),
    (CustomerCreateParams, "cypress_create-customer-body.json"),
    (CustomerCreateParams, "postman_customer_create.request.json"),
]


@pytest.mark.parametrize(("model", "name"), ROUND_TRIPS)
def test_real_request_bodies_round_trip(model: type[RequestModel], name: str) -> None:
    body = example(name)
    assert model.model_validate(body).to_body() == body


def test_none_fields_are_not_sent() -> None:
    body = PaymentCreateParams(amount=100, currency="USD", description=None).to_body()
    assert body == {"amount": 100, "currency": "USD"}


# ---------------------------------------------------------------- checks before sending


@pytest.mark.parametrize("amount", [10.5, 100.0, True, "100", -1, 1_000_000_000])
def test_amounts_are_non_negative_int_minor_units(amount: object) -> None:
    with pytest.raises(ValidationError):
        PaymentCreateParams(amount=amount, currency="USD")  # type: ignore[arg-type]


def test_currency_must_be_one_hyperswitch_knows() -> None:
    assert PaymentCreateParams(amount=1, currency="isk").currency == "ISK"
    with pytest.raises(ValidationError, match="not supported"):
        PaymentCreateParams(amount=1, currency="XXX")


@pytest.mark.parametrize("payment_id", ["", "a" * 65, "pay id", "pay/1", "pay.1", "päy"])
def test_payment_id_follows_the_router_s_rules(payment_id: str) -> None:
    with pytest.raises(ValidationError):
        PaymentCreateParams(amount=1, currency="USD", payment_id=payment_id)


def test_a_payment_link_cannot_be_confirmed() -> None:
    with pytest.raises(ValidationError, match="IR_06"):
        PaymentCreateParams(amount=1, currency="USD", payment_link=True, confirm=True,
                            return_url="https://x.test")  # fmt: skip


@pytest.mark.parametrize(
    "fields",
    [{"confirm": True, "off_session": True},
     {"customer_id": CUSTOMER_ID, "confirm": True},
     {"customer_id": CUSTOMER_ID, "off_session": True}],
)  # fmt: skip
def test_a_saved_method_charge_needs_customer_confirm_and_off_session(fields: dict) -> None:
    with pytest.raises(ValidationError):
        PaymentCreateParams(
            amount=1,
            currency="USD",
            recurring_details={"type": "payment_method_id", "data": "pm_1"},
            **fields,
        )


def test_mandate_data_needs_off_session_future_usage() -> None:
    mandate = {"mandate_type": {"single_use": {"amount": 100, "currency": "USD"}}}
    with pytest.raises(ValidationError, match="IR_16"):
        PaymentCreateParams(amount=100, currency="USD", mandate_data=mandate)


@pytest.mark.parametrize(
    "recurring",
    [{"type": "mandate_id", "data": "man_1"},
     {"type": "payment_method_id", "data": "pm_1"},
     {"type": "processor_payment_token", "data": {"processor_payment_token": "tok_1"}}],
)  # fmt: skip
def test_recurring_details_variants(recurring: dict) -> None:
    params = PaymentCreateParams(amount=100, currency="USD", customer_id=CUSTOMER_ID, confirm=True,
                                 off_session=True, recurring_details=recurring)  # fmt: skip
    assert params.to_body()["recurring_details"] == recurring
    hyperswitch_spec.validate_schema("PaymentsCreateRequest", params.to_body())


def test_request_timestamps_must_be_aware_and_are_sent_in_utc() -> None:
    naive = {"acceptance_type": "online", "accepted_at": datetime(2026, 1, 1, 12)}
    with pytest.raises(ValidationError):
        PaymentCreateParams(amount=0, currency="USD", customer_acceptance=naive)
    aware = {
        "acceptance_type": "online",
        "accepted_at": datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
    }
    body = PaymentCreateParams(amount=0, currency="USD", customer_acceptance=aware).to_body()
    assert body["customer_acceptance"]["accepted_at"] == "2026-01-01T10:00:00.123Z"


def test_card_data_is_hidden_from_repr_but_sent() -> None:
    body = example("payment_create_save_card_off_session.request.json")
    params = PaymentCreateParams.model_validate(body)
    assert "4242424242424242" not in repr(params) and "'123'" not in repr(params)
    assert params.to_body()["payment_method_data"]["card"]["card_number"] == "4242424242424242"


def test_refund_amount_must_be_positive() -> None:
    for amount in (0, -5, 1.5):
        with pytest.raises(ValidationError):
            RefundCreateParams(payment_id=PAYMENT_ID, amount=amount)  # type: ignore[arg-type]


def test_webhook_details_send_both_status_lists() -> None:
    body = WebhookDetailsParams(webhook_url="https://bridge.test/webhooks/hyperswitch").to_body()
    assert body == {"webhook_url": "https://bridge.test/webhooks/hyperswitch",
                    "payment_statuses_enabled": [], "refund_statuses_enabled": []}  # fmt: skip
    hyperswitch_spec.validate_schema("WebhookDetails", body)


def test_webhook_details_refund_statuses_are_storage_names() -> None:
    with pytest.raises(ValidationError):
        WebhookDetailsParams(refund_statuses_enabled=["succeeded"])
    params = WebhookDetailsParams(refund_statuses_enabled=["success", "failure"])
    assert params.to_body()["refund_statuses_enabled"] == ["success", "failure"]


def test_webhook_password_is_hidden_from_repr() -> None:
    params = WebhookDetailsParams(webhook_password="hunter2")
    assert "hunter2" not in repr(params) and params.to_body()["webhook_password"] == "hunter2"
