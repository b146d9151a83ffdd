"""buildFormDescriptor: a Hyperswitch payment link on which the payor saves a card (and may pay), completed
on the simulator's hosted page with plain form posts, then turned into a Kill Bill payment method."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import select

from bridge.db.audit import HyperswitchCall
from bridge.db.engine import session_scope
from bridge.db.payments import HsCustomer
from bridge.payments import ids
from tests.plugin.conftest import APPROVE, DECLINE, new_account, payment_call
from tests.plugin.test_payment_methods import add_call, as_dict, concurrently, detail, props, purchase, stored

CARD = {"card_exp_month": "11", "card_exp_year": "2033", "card_holder_name": "Ada Lovelace", "card_cvc": "123"}


def field(name: str, value: str) -> dict[str, Any]:
    return {"key": name, "value": value, "isUpdatable": False}


def build(plugin, account_id: str, *custom: dict[str, Any], **extra: Any):  # type: ignore[no-untyped-def]
    return plugin.call("buildFormDescriptor", kbAccountId=account_id, customFields=list(custom), **extra)


def built(plugin, account_id: str, *custom: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = build(plugin, account_id, *custom)
    assert response.status_code == 200, response.json
    return response.json


def fill_in(form: dict[str, Any], number: str = APPROVE, *, save: bool = True) -> requests.Response:
    """What the payor's browser does: open the form (GET with its fields), then post the card."""
    url = f"{form['formUrl']}?{urlencode([(f['key'], f['value']) for f in form['formFields']])}"
    page = requests.get(url, timeout=15)
    assert page.status_code == 200 and 'name="card_number"' in page.text
    data = {**CARD, "card_number": number, **({"save_card": "on"} if save else {})}
    return requests.post(url, data=data, allow_redirects=False, timeout=15)


def add_from_form(plugin, account_id: str, form: dict[str, Any]):  # type: ignore[no-untyped-def]
    body = add_call(account_id, pm_props=props(hsPaymentId=as_dict(form["properties"])["hsPaymentId"]))
    return body, plugin.call("addPaymentMethod", **body)


@pytest.fixture
def account_id(kb, tenant_id) -> str:  # type: ignore[no-untyped-def]
    return str(new_account(kb).account_id)


def test_the_form_is_a_payment_link_that_saves_for_off_session_use(plugin, hs, runtime, account_id) -> None:
    form = built(plugin, account_id)

    properties = as_dict(form["properties"])
    payment = hs.payments.retrieve(properties["hsPaymentId"])
    assert form["kbAccountId"] == account_id and form["formMethod"] == "GET"
    assert form["formUrl"] == payment.payment_link.link.split("?")[0]
    assert form["formFields"] == [{"key": "locale", "value": "en", "isUpdatable": False}]
    assert properties["hsPaymentId"].startswith("kbf_") and len(properties["hsPaymentId"]) == 30
    assert properties["clientSecret"] == payment.client_secret
    assert properties["hsCustomerId"] == ids.customer_id(account_id) == payment.customer_id
    assert (properties["amount"], properties["currency"]) == ("0.00", "USD")
    assert (payment.amount, payment.currency, payment.setup_future_usage) == (0, "USD", "off_session")
    assert payment.return_url == runtime.settings.base_url
    assert payment.metadata == {"kb_tenant_id": plugin.tenant_id, "kb_account_id": account_id,
                                "purpose": "kb_payment_method_form"}


def test_the_customer_is_created_once_from_the_kill_bill_account_when_forms_race(plugin, hs, hs_state, runtime,
                                                                                 tenant_id, account_id) -> None:
    hs_state.add_fault("POST", "/customers", "latency", latency_ms=300)

    statuses = concurrently(3, lambda: build(plugin, account_id).status_code)

    assert statuses == [200] * 3
    customer = hs.customers.retrieve(ids.customer_id(account_id))
    assert (customer.name, customer.email) == ("Ada Lovelace", "ada@example.test")
    runtime.audit.flush()
    with session_scope(runtime.sessions) as session:
        creates = session.scalars(select(HyperswitchCall.status).where(
            HyperswitchCall.kb_tenant_id == tenant_id, HyperswitchCall.method == "POST",
            HyperswitchCall.path == "/customers")).all()
        mappings = session.scalars(select(HsCustomer).where(HsCustomer.kb_account_id == account_id)).all()
    # Exactly one creation; a racer either found the mapping already stored or was told "already exists"
    # (IR_12) by Hyperswitch, depending on timing.
    assert creates.count(200) == 1 and set(creates) <= {200, 400}
    assert len(mappings) == 1


def test_a_completed_form_becomes_a_payment_method_that_can_be_charged(plugin, hs, account_id) -> None:
    form = built(plugin, account_id)

    done = fill_in(form)
    body, added = add_from_form(plugin, account_id, form)

    assert done.status_code == 303 and "status=succeeded" in done.headers["Location"]
    assert added.status_code == 200, added.json
    facts = as_dict(detail(plugin, account_id, body["kbPaymentMethodId"])["properties"])
    saved_pm = hs.payments.retrieve(as_dict(form["properties"])["hsPaymentId"]).payment_method_id
    assert facts["hsPaymentMethodId"] == saved_pm and facts["cardLast4"] == "4242"
    assert (facts["cardExpMonth"], facts["cardExpYear"]) == ("11", "2033")
    charged = purchase(plugin, account_id, body["kbPaymentMethodId"], "30.00").json
    assert charged["status"] == "PROCESSED"
    assert hs.payments.retrieve(charged["firstPaymentReferenceId"]).payment_method_id == saved_pm
    assert plugin.call("addPaymentMethod", **body).status_code == 200  # Kill Bill repeating it: fine


def test_a_form_with_an_amount_charges_it_and_the_payment_is_linked_once(plugin, hs, account_id) -> None:
    form = built(plugin, account_id, field("amount", "12.34"), field("currency", "EUR"),
                 field("returnUrl", "https://billing.example/thanks?x=1"), field("description", "First invoice"))
    hs_payment_id = as_dict(form["properties"])["hsPaymentId"]

    done = fill_in(form)
    _, added = add_from_form(plugin, account_id, form)
    linked = plugin.ok("purchasePayment", **payment_call(account_id, "12.34", "EUR", properties=props(
        hsPaymentId=hs_payment_id)))

    assert done.headers["Location"].startswith("https://billing.example/thanks?x=1&status=succeeded")
    assert added.status_code == 200
    payment = hs.payments.retrieve(hs_payment_id)
    assert (payment.amount, payment.currency, payment.description) == (1234, "EUR", "First invoice")
    assert as_dict(form["properties"])["amount"] == "12.34"
    assert linked["status"] == "PROCESSED" and linked["firstPaymentReferenceId"] == hs_payment_id


def test_the_same_kill_bill_id_with_another_forms_payment_is_refused(plugin, account_id) -> None:
    first, second = built(plugin, account_id), built(plugin, account_id)
    fill_in(first)
    fill_in(second, "5555555555554444")
    body, added = add_from_form(plugin, account_id, first)

    other = add_call(account_id, kb_pm_id=body["kbPaymentMethodId"],
                     pm_props=props(hsPaymentId=as_dict(second["properties"])["hsPaymentId"]))
    response = plugin.call("addPaymentMethod", **other)

    assert added.status_code == 200
    assert response.status_code == 409 and response.json["errorType"] == "PAYMENT_METHOD_CONFLICT"


def test_a_form_not_yet_completed_or_declined_is_refused(plugin, account_id, runtime, tenant_id) -> None:
    form = built(plugin, account_id, field("amount", "5.00"))
    body, early = add_from_form(plugin, account_id, form)
    fill_in(form, DECLINE)
    _, declined = add_from_form(plugin, account_id, form)

    assert early.status_code == 409 and early.json["errorType"] == "FORM_NOT_COMPLETED"
    assert "requires_payment_method" in early.json["errorMessage"]
    assert declined.status_code == 409 and declined.json["errorType"] == "FORM_NOT_COMPLETED"
    assert stored(runtime, tenant_id, body["kbPaymentMethodId"]) is None


def test_a_form_completed_without_consent_to_save_is_refused(plugin, account_id) -> None:
    form = built(plugin, account_id)
    fill_in(form, save=False)

    _, added = add_from_form(plugin, account_id, form)

    assert added.status_code == 409 and added.json["errorType"] == "NOTHING_SAVED"


def test_another_accounts_form_is_refused(plugin, kb, account_id) -> None:
    form = built(plugin, account_id)
    fill_in(form)

    _, added = add_from_form(plugin, str(new_account(kb).account_id), form)

    assert added.status_code == 400 and added.json["errorType"] == "FOREIGN_PAYMENT_METHOD"


@pytest.mark.parametrize(("custom", "error_type"), [
    ([field("amount", "ten")], "INVALID_REQUEST"),
    ([field("amount", "1.234")], "INVALID_AMOUNT"),
    ([field("amount", "-1")], "INVALID_AMOUNT"),
    ([field("amount", "10000000000")], "INVALID_AMOUNT"),  # above Hyperswitch's largest amount
    ([field("currency", "XYZ")], "INVALID_CURRENCY"),
    ([field("returnUrl", "javascript:alert(1)")], "INVALID_REQUEST"),
    ([field("sessionExpiry", "30")], "INVALID_REQUEST"),
], ids=["not-a-number", "too-many-decimals", "negative", "too-large", "unknown-currency", "bad-return-url",
        "short-expiry"])
def test_bad_fields_are_refused_before_anything_is_created(plugin, hs_state, runtime, tenant_id, account_id,
                                                           custom, error_type) -> None:
    response = build(plugin, account_id, *custom)

    assert response.status_code == 400 and response.json["errorType"] == error_type, response.json
    assert hs_state.payments_overview() == []
    with session_scope(runtime.sessions) as session:
        assert session.get(HsCustomer, (tenant_id, account_id)) is None


def test_a_form_for_an_account_unknown_to_kill_bill_is_refused(plugin, hs_state) -> None:
    response = build(plugin, str(uuid.uuid4()), field("currency", "USD"))

    assert response.status_code == 404 and response.json["errorType"] == "UNKNOWN_ACCOUNT"
    assert hs_state.payments_overview() == []


def test_a_hyperswitch_failure_is_a_5xx_with_its_code(plugin, hs_state, account_id) -> None:
    hs_state.add_fault("POST", "/payments", "error", status=500, times=4)

    response = build(plugin, account_id)

    assert response.status_code == 502 and response.json["errorType"] == "HYPERSWITCH_ERROR"
    assert "HE_00" in response.json["errorMessage"]
