"""Payment-method operations over HTTP against the simulators: add (checked against the customer in
Hyperswitch), detail, default, delete, refresh + reset, search, and a charge with what was added."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

import hyperswitch_client as hs_errors
from bridge.db.engine import session_scope
from bridge.db.payments import HsCustomer, PaymentMethod
from bridge.payments import ids
from hyperswitch_client.common import CustomerAcceptance
from hyperswitch_client.payments import PaymentCreateParams, PaymentMethodData
from tests.plugin.conftest import APPROVE, new_account, payment_call, save_card

MASTERCARD, AMEX = "5555555555554444", "378282246310005"


def props(**values: str) -> list[dict[str, Any]]:
    return [{"key": key, "value": value, "isUpdatable": False} for key, value in values.items()]


def add_call(account_id: str, *, kb_pm_id: str | None = None, pm_props: list[dict[str, Any]] | None = None,
             **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"kbAccountId": account_id, "kbPaymentMethodId": kb_pm_id or str(uuid.uuid4()),
                            "paymentMethodProps": {"externalPaymentMethodId": None, "isDefaultPaymentMethod": False,
                                                   "properties": pm_props or []},
                            "setDefault": False, "properties": []}
    body.update(extra)
    return body


def detail_call(plugin, account_id: str, kb_pm_id: str):  # type: ignore[no-untyped-def]
    # getPaymentMethodDetail takes a TenantContext, which has no user fields.
    return plugin.call("getPaymentMethodDetail", kbAccountId=account_id, kbPaymentMethodId=kb_pm_id,
                       context={"tenantId": plugin.tenant_id})


def detail(plugin, account_id: str, kb_pm_id: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = detail_call(plugin, account_id, kb_pm_id)
    assert response.status_code == 200, response.json
    return response.json


def as_dict(plugin_properties: list[dict[str, Any]]) -> dict[str, Any]:
    return {p["key"]: p["value"] for p in plugin_properties}


def stored(runtime, tenant_id: str, kb_pm_id: str) -> PaymentMethod | None:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return session.get(PaymentMethod, (tenant_id, kb_pm_id))


def purchase(plugin, account_id: str, kb_pm_id: str, amount: str = "12.00"):  # type: ignore[no-untyped-def]
    return plugin.call("purchasePayment", **payment_call(account_id, amount, kbPaymentMethodId=kb_pm_id))


def concurrently(count: int, fn: Callable[[], Any]) -> list[Any]:
    barrier, results = threading.Barrier(count), []

    def run() -> None:
        barrier.wait()
        results.append(fn())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.fixture
def account_id(kb, tenant_id) -> str:  # type: ignore[no-untyped-def]
    return str(new_account(kb).account_id)


@pytest.fixture
def customer_id(account_id: str) -> str:
    return ids.customer_id(account_id)


@pytest.fixture
def add(plugin, account_id):  # type: ignore[no-untyped-def]
    """Add a payment method to the account; returns its Kill Bill id."""
    def _add(set_default: bool = False, **properties: str) -> str:
        body = add_call(account_id, pm_props=props(**properties), setDefault=set_default)
        plugin.ok("addPaymentMethod", **body)
        return body["kbPaymentMethodId"]
    return _add


# -- add ----------------------------------------------------------------------------------------------
def test_a_saved_payment_method_is_added_with_masked_card_facts(plugin, hs, account_id, customer_id, add) -> None:
    pm_id, _ = save_card(hs, customer_id, APPROVE, mandate=False)
    kb_pm_id = add(hsPaymentMethodId=pm_id)

    response = detail_call(plugin, account_id, kb_pm_id)

    assert response.status_code == 200
    found = response.json
    assert found["kbPaymentMethodId"] == kb_pm_id and found["externalPaymentMethodId"] == pm_id
    facts = as_dict(found["properties"])
    assert facts["cardLast4"] == "4242" and facts["cardBrand"] == "Visa"
    assert (facts["cardExpMonth"], facts["cardExpYear"]) == ("12", "2035")
    assert facts["hsPaymentMethodId"] == pm_id and facts["hsCustomerId"] == customer_id
    assert facts["state"] == "active" and "hsMandateId" not in facts and "mandateStatus" not in facts
    assert APPROVE not in response.get_data(as_text=True) and APPROVE[:6] not in response.get_data(as_text=True)


def test_a_mandate_is_added_from_the_calls_properties(plugin, hs, account_id, customer_id) -> None:
    pm_id, mandate_id = save_card(hs, customer_id, MASTERCARD)
    body = add_call(account_id, properties=props(hsMandateId=mandate_id))

    plugin.ok("addPaymentMethod", **body)

    found = detail(plugin, account_id, body["kbPaymentMethodId"])
    facts = as_dict(found["properties"])
    assert found["externalPaymentMethodId"] == mandate_id
    assert facts["hsMandateId"] == mandate_id and facts["hsPaymentMethodId"] == pm_id
    assert facts["mandateStatus"] == "active" and facts["cardLast4"] == "4444"


def test_the_external_payment_method_id_names_it_too(plugin, hs, account_id, customer_id) -> None:
    pm_id, _ = save_card(hs, customer_id, mandate=False)
    body = add_call(account_id)
    body["paymentMethodProps"]["externalPaymentMethodId"] = pm_id

    plugin.ok("addPaymentMethod", **body)

    assert detail(plugin, account_id, body["kbPaymentMethodId"])["externalPaymentMethodId"] == pm_id


def test_a_purchase_charges_what_add_payment_method_added(plugin, hs, account_id, customer_id, add) -> None:
    pm_id, mandate_id = save_card(hs, customer_id)
    kb_pm_id = add(hsMandateId=mandate_id)
    body = payment_call(account_id, "10.50", kbPaymentMethodId=kb_pm_id)

    info = plugin.ok("purchasePayment", **body)

    assert info["status"] == "PROCESSED" and info["amount"] == "10.50"
    charged = hs.payments.retrieve(ids.payment_id(body["kbTransactionId"]))
    assert charged.customer_id == customer_id and charged.mandate_id == mandate_id
    assert charged.payment_method_id == pm_id and charged.amount_received == 1050


def _other_customers_pm(hs, kb) -> str:  # type: ignore[no-untyped-def]
    other = new_account(kb)
    return save_card(hs, ids.customer_id(other.account_id), mandate=False)[0]


def _revoked_mandate(hs, customer_id: str) -> str:  # type: ignore[no-untyped-def]
    _, mandate_id = save_card(hs, customer_id)
    hs.mandates.revoke(mandate_id)
    return mandate_id


def _on_session_pm(hs, customer_id: str) -> str:  # type: ignore[no-untyped-def]
    payment = hs.payments.create(PaymentCreateParams(
        amount=100, currency="USD", confirm=True, customer_id=customer_id, setup_future_usage="on_session",
        customer_acceptance=CustomerAcceptance(acceptance_type="offline"), payment_method="card",
        payment_method_data=PaymentMethodData.model_validate({"card": {
            "card_number": AMEX, "card_exp_month": "01", "card_exp_year": "2031", "card_holder_name": "Ada",
            "card_cvc": "1234"}})))
    return payment.payment_method_id


@pytest.mark.parametrize(("prepare", "status", "error_type"), [
    (lambda hs, kb, cus: {"hsPaymentMethodId": _other_customers_pm(hs, kb)}, 400, "FOREIGN_PAYMENT_METHOD"),
    (lambda hs, kb, cus: {"hsPaymentMethodId": "pm_doesnotexist0000000"}, 404, "UNKNOWN_HS_PAYMENT_METHOD"),
    (lambda hs, kb, cus: {"hsMandateId": "man_doesnotexist000000"}, 404, "UNKNOWN_HS_MANDATE"),
    (lambda hs, kb, cus: {"hsMandateId": _revoked_mandate(hs, cus)}, 409, "MANDATE_NOT_ACTIVE"),
    (lambda hs, kb, cus: {"hsMandateId": save_card(hs, ids.customer_id(new_account(kb).account_id))[1]},
     400, "FOREIGN_PAYMENT_METHOD"),
    (lambda hs, kb, cus: {"hsPaymentMethodId": _on_session_pm(hs, cus)}, 400, "PAYMENT_METHOD_NOT_RECURRING"),
    (lambda hs, kb, cus: {"hsPaymentMethodId": save_card(hs, cus, AMEX, mandate=False)[0],
                          "hsMandateId": save_card(hs, cus, MASTERCARD)[1]}, 400,
     "INCONSISTENT_PAYMENT_METHOD_SOURCE"),
    (lambda hs, kb, cus: {}, 400, "MISSING_PAYMENT_METHOD_SOURCE"),
    (lambda hs, kb, cus: {"hsPaymentMethodId": "pm/../../customers"}, 400, "INVALID_REQUEST"),
], ids=["foreign-pm", "unknown-pm", "unknown-mandate", "revoked-mandate", "foreign-mandate", "not-recurring",
        "inconsistent", "nothing-named", "not-an-id"])
def test_refusals_store_nothing(plugin, hs, kb, runtime, tenant_id, account_id, customer_id,
                                prepare, status, error_type) -> None:
    body = add_call(account_id, pm_props=props(**prepare(hs, kb, customer_id)))

    response = plugin.call("addPaymentMethod", **body)

    assert response.status_code == status, response.json
    assert response.json["errorType"] == error_type and response.json["errorMessage"]
    assert stored(runtime, tenant_id, body["kbPaymentMethodId"]) is None
    gone = detail_call(plugin, account_id, body["kbPaymentMethodId"])
    assert gone.status_code == 404 and gone.json["errorType"] == "UNKNOWN_PAYMENT_METHOD"


def test_an_account_unknown_to_kill_bill_is_refused(plugin, hs, runtime, tenant_id) -> None:
    stranger = str(uuid.uuid4())
    pm_id, _ = save_card(hs, ids.customer_id(stranger), mandate=False)
    body = add_call(stranger, pm_props=props(hsPaymentMethodId=pm_id))

    response = plugin.call("addPaymentMethod", **body)

    assert response.status_code == 404 and response.json["errorType"] == "UNKNOWN_ACCOUNT"
    assert stored(runtime, tenant_id, body["kbPaymentMethodId"]) is None
    with session_scope(runtime.sessions) as session:
        assert session.get(HsCustomer, (tenant_id, stranger)) is None


def test_the_same_call_again_is_accepted_and_other_data_refused(plugin, hs, runtime, tenant_id, account_id,
                                                                 customer_id) -> None:
    first_pm, _ = save_card(hs, customer_id, mandate=False)
    second_pm, _ = save_card(hs, customer_id, MASTERCARD, mandate=False)
    body = add_call(account_id, pm_props=props(hsPaymentMethodId=first_pm))

    plugin.ok("addPaymentMethod", **body)
    plugin.ok("addPaymentMethod", **body)
    other = {**body, "paymentMethodProps": {**body["paymentMethodProps"],
                                            "properties": props(hsPaymentMethodId=second_pm)}}
    conflict = plugin.call("addPaymentMethod", **other)

    assert conflict.status_code == 409 and conflict.json["errorType"] == "PAYMENT_METHOD_CONFLICT"
    assert stored(runtime, tenant_id, body["kbPaymentMethodId"]).hs_payment_method_id == first_pm


def test_one_hyperswitch_payment_method_is_one_kill_bill_payment_method(plugin, hs, account_id, customer_id,
                                                                        add) -> None:
    pm_id, _ = save_card(hs, customer_id, mandate=False)
    add(hsPaymentMethodId=pm_id)

    again = plugin.call("addPaymentMethod", **add_call(account_id, pm_props=props(hsPaymentMethodId=pm_id)))

    assert again.status_code == 409 and again.json["errorType"] == "PAYMENT_METHOD_ALREADY_ADDED"


def test_racing_adds_map_the_customer_once_and_store_one_row(plugin, hs, hs_state, runtime, tenant_id, account_id,
                                                            customer_id) -> None:
    pm_id, _ = save_card(hs, customer_id, mandate=False)
    body = add_call(account_id, pm_props=props(hsPaymentMethodId=pm_id))
    hs_state.add_fault("GET", "/customers/{customer_id}", "latency", latency_ms=200)

    statuses = concurrently(4, lambda: plugin.call("addPaymentMethod", **body).status_code)

    assert statuses == [200] * 4
    with session_scope(runtime.sessions) as session:
        customers = session.scalars(select(HsCustomer).where(HsCustomer.kb_account_id == account_id)).all()
        rows = session.scalar(select(func.count()).select_from(PaymentMethod)
                              .where(PaymentMethod.kb_account_id == account_id))
    assert [c.hs_customer_id for c in customers] == [customer_id] and rows == 1


def test_a_hyperswitch_failure_is_a_5xx_with_its_code_and_stores_nothing(plugin, hs, hs_state, runtime, tenant_id,
                                                                         account_id, customer_id) -> None:
    pm_id, _ = save_card(hs, customer_id, mandate=False)
    hs_state.add_fault("GET", "/payment_methods/{id}", "error", status=500, times=4)
    body = add_call(account_id, pm_props=props(hsPaymentMethodId=pm_id))

    response = plugin.call("addPaymentMethod", **body)

    assert response.status_code == 502 and response.json["errorType"] == "HYPERSWITCH_ERROR"
    assert "HE_00" in response.json["errorMessage"]
    assert stored(runtime, tenant_id, body["kbPaymentMethodId"]) is None


# -- default -------------------------------------------------------------------------------------------------
def _defaults(plugin, account_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    infos = plugin.ok("getPaymentMethods", kbAccountId=account_id, refreshFromGateway=False)
    return [info["paymentMethodId"] for info in infos if info["isDefault"]]


def test_set_default_keeps_one_default_here_and_in_hyperswitch(plugin, hs, account_id, customer_id, add) -> None:
    first_pm, _ = save_card(hs, customer_id, mandate=False)
    second_pm, _ = save_card(hs, customer_id, MASTERCARD, mandate=False)
    first = add(set_default=True, hsPaymentMethodId=first_pm)
    second = add(hsPaymentMethodId=second_pm)
    assert _defaults(plugin, account_id) == [first]
    assert hs.customers.retrieve(customer_id).default_payment_method_id == first_pm

    plugin.ok("setDefaultPaymentMethod", kbAccountId=account_id, kbPaymentMethodId=second)
    plugin.ok("setDefaultPaymentMethod", kbAccountId=account_id, kbPaymentMethodId=second)  # already: fine

    assert _defaults(plugin, account_id) == [second]
    assert detail(plugin, account_id, first)["isDefaultPaymentMethod"] is False
    assert detail(plugin, account_id, second)["isDefaultPaymentMethod"] is True
    assert hs.customers.retrieve(customer_id).default_payment_method_id == second_pm


def test_racing_set_defaults_leave_exactly_one(plugin, hs, account_id, customer_id, add) -> None:
    kb_ids = [add(hsPaymentMethodId=save_card(hs, customer_id, number, mandate=False)[0])
              for number in (APPROVE, MASTERCARD, AMEX)]

    pending = list(kb_ids)

    def set_one() -> int:
        return plugin.call("setDefaultPaymentMethod", kbAccountId=account_id,
                           kbPaymentMethodId=pending.pop()).status_code

    statuses = concurrently(3, set_one)

    assert statuses == [200] * 3
    assert len(_defaults(plugin, account_id)) == 1


def test_set_default_of_another_accounts_method_is_unknown(plugin, hs, kb, customer_id, add) -> None:
    kb_pm_id = add(hsPaymentMethodId=save_card(hs, customer_id, mandate=False)[0])
    other = str(new_account(kb).account_id)

    response = plugin.call("setDefaultPaymentMethod", kbAccountId=other, kbPaymentMethodId=kb_pm_id)

    assert response.status_code == 404 and response.json["errorType"] == "UNKNOWN_PAYMENT_METHOD"


def test_set_default_when_hyperswitch_is_busy_is_503_and_changes_nothing(plugin, hs, hs_state, account_id,
                                                                         customer_id, add) -> None:
    first = add(set_default=True, hsPaymentMethodId=save_card(hs, customer_id, mandate=False)[0])
    second = add(hsPaymentMethodId=save_card(hs, customer_id, MASTERCARD, mandate=False)[0])
    hs_state.add_fault("POST", "/customers/{c}/payment_methods/{p}/default", "busy", times=10)

    response = plugin.call("setDefaultPaymentMethod", kbAccountId=account_id, kbPaymentMethodId=second)

    assert response.status_code == 503 and response.json["errorType"] == "HYPERSWITCH_UNAVAILABLE"
    assert "HE_00" in response.json["errorMessage"]
    assert _defaults(plugin, account_id) == [first]


# -- delete ----------------------------------------------------------------------------------------------------
def test_a_deleted_payment_method_is_gone_everywhere_and_cannot_be_charged(plugin, hs, account_id, customer_id,
                                                                           add) -> None:
    pm_id, mandate_id = save_card(hs, customer_id)
    kb_pm_id = add(set_default=True, hsMandateId=mandate_id)
    assert purchase(plugin, account_id, kb_pm_id).json["status"] == "PROCESSED"

    plugin.ok("deletePaymentMethod", kbAccountId=account_id, kbPaymentMethodId=kb_pm_id)
    plugin.ok("deletePaymentMethod", kbAccountId=account_id, kbPaymentMethodId=kb_pm_id)  # again: fine

    refused = purchase(plugin, account_id, kb_pm_id)
    assert refused.status_code == 404 and refused.json["errorType"] == "UNKNOWN_PAYMENT_METHOD"
    with pytest.raises(hs_errors.NotFoundError):
        hs.payment_methods.retrieve(pm_id)
    assert str(hs.mandates.retrieve(mandate_id).status) == "revoked"
    facts = as_dict(detail(plugin, account_id, kb_pm_id)["properties"])
    assert facts["state"] == "deleted" and facts["mandateStatus"] == "revoked"
    assert _defaults(plugin, account_id) == []
    assert plugin.ok("getPaymentMethods", kbAccountId=account_id, refreshFromGateway=True) == []


def test_deleting_what_hyperswitch_no_longer_has_is_fine(plugin, hs, account_id, customer_id, add) -> None:
    pm_id, _ = save_card(hs, customer_id, mandate=False)
    kb_pm_id = add(hsPaymentMethodId=pm_id)
    hs.payment_methods.delete(pm_id)

    plugin.ok("deletePaymentMethod", kbAccountId=account_id, kbPaymentMethodId=kb_pm_id)

    assert as_dict(detail(plugin, account_id, kb_pm_id)["properties"])["state"] == "deleted"


def test_a_failed_delete_in_hyperswitch_keeps_the_payment_method(plugin, hs, hs_state, account_id, customer_id,
                                                                 add) -> None:
    kb_pm_id = add(hsPaymentMethodId=save_card(hs, customer_id, mandate=False)[0])
    hs_state.add_fault("DELETE", "/payment_methods/{id}", "error", status=500, times=1)

    response = plugin.call("deletePaymentMethod", kbAccountId=account_id, kbPaymentMethodId=kb_pm_id)

    assert response.status_code == 502 and "HE_00" in response.json["errorMessage"]
    assert as_dict(detail(plugin, account_id, kb_pm_id)["properties"])["state"] == "active"


# -- refresh and reset ---------------------------------------------------------------------------------------
def test_refresh_offers_hyperswitch_only_methods_and_reset_maps_them(plugin, hs, account_id, customer_id,
                                                                     add) -> None:
    known_pm, _ = save_card(hs, customer_id, mandate=False)
    known = add(set_default=True, hsPaymentMethodId=known_pm)
    new_pm, _ = save_card(hs, customer_id, MASTERCARD, mandate=False)
    _on_session_pm(hs, customer_id)  # saved, but not for merchant-initiated charges: never offered

    assert [i["paymentMethodId"] for i in plugin.ok("getPaymentMethods", kbAccountId=account_id)] == [known]
    infos = plugin.ok("getPaymentMethods", kbAccountId=account_id, refreshFromGateway=True)

    assert infos == [
        {"accountId": account_id, "paymentMethodId": known, "isDefault": True, "externalPaymentMethodId": known_pm},
        {"accountId": account_id, "paymentMethodId": None, "isDefault": False, "externalPaymentMethodId": new_pm},
    ]
    assigned = str(uuid.uuid4())  # what Kill Bill gives the new one
    infos[1]["paymentMethodId"] = assigned
    plugin.ok("resetPaymentMethods", kbAccountId=account_id, paymentMethods=infos)
    plugin.ok("resetPaymentMethods", kbAccountId=account_id, paymentMethods=infos)  # again: nothing new

    after = plugin.ok("getPaymentMethods", kbAccountId=account_id, refreshFromGateway=True)
    assert [(i["paymentMethodId"], i["externalPaymentMethodId"]) for i in after] == [(known, known_pm),
                                                                                      (assigned, new_pm)]
    assert as_dict(detail(plugin, account_id, assigned)["properties"])["cardLast4"] == "4444"
    assert purchase(plugin, account_id, assigned).json["status"] == "PROCESSED"


def test_reset_with_a_payment_method_not_of_this_customer_stores_none(plugin, hs, kb, runtime, tenant_id,
                                                                       account_id, customer_id) -> None:
    mine, _ = save_card(hs, customer_id, mandate=False)
    infos = [{"accountId": account_id, "paymentMethodId": str(uuid.uuid4()), "isDefault": False,
              "externalPaymentMethodId": pm} for pm in (mine, _other_customers_pm(hs, kb))]

    response = plugin.call("resetPaymentMethods", kbAccountId=account_id, paymentMethods=infos)

    assert response.status_code == 400 and response.json["errorType"] == "FOREIGN_PAYMENT_METHOD"
    assert [stored(runtime, tenant_id, info["paymentMethodId"]) for info in infos] == [None, None]


def test_refresh_makes_a_revoked_mandate_unusable(plugin, hs, hs_state, account_id, customer_id, add) -> None:
    _, mandate_id = save_card(hs, customer_id)
    kb_pm_id = add(hsMandateId=mandate_id)
    hs_state.revoke_mandate(mandate_id)  # by the bank: Hyperswitch learns it from the connector

    plugin.ok("getPaymentMethods", kbAccountId=account_id, refreshFromGateway=True)

    facts = as_dict(detail(plugin, account_id, kb_pm_id)["properties"])
    assert (facts["state"], facts["mandateStatus"]) == ("unusable", "revoked")
    info = purchase(plugin, account_id, kb_pm_id).json
    assert info["status"] == "ERROR" and info["gatewayErrorCode"] == "PAYMENT_METHOD_UNUSABLE"


def test_refresh_for_an_account_without_a_customer_lists_nothing(plugin, account_id) -> None:
    assert plugin.ok("getPaymentMethods", kbAccountId=account_id, refreshFromGateway=True) == []


# -- search ------------------------------------------------------------------------------------------------------
def _search(plugin, key: str, offset: int = 0, limit: int = 100) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return plugin.ok("searchPaymentMethods", searchKey=key, offset=offset, limit=limit,
                     context={"tenantId": plugin.tenant_id})


def test_search_by_kill_bill_and_hyperswitch_ids_with_pagination(plugin, hs, kb, account_id, customer_id,
                                                                 add) -> None:
    pm_id, mandate_id = save_card(hs, customer_id)
    by_mandate = add(hsMandateId=mandate_id)
    others = [add(hsPaymentMethodId=save_card(hs, customer_id, number, mandate=False)[0])
              for number in (MASTERCARD, AMEX)]
    other_account = str(new_account(kb).account_id)
    plugin.ok("addPaymentMethod", **add_call(other_account, pm_props=props(
        hsPaymentMethodId=save_card(hs, ids.customer_id(other_account), mandate=False)[0])))

    first = _search(plugin, account_id, 0, 2)
    rest = _search(plugin, account_id, 2, 2)

    assert (first["currentOffset"], first["nextOffset"], first["totalNbRecords"]) == (0, 2, 3)
    assert (rest["currentOffset"], rest["nextOffset"], rest["totalNbRecords"]) == (2, None, 3)
    found = [r["kbPaymentMethodId"] for r in first["records"] + rest["records"]]
    assert sorted(found) == sorted([by_mandate, *others])
    assert [r["kbPaymentMethodId"] for r in _search(plugin, mandate_id)["records"]] == [by_mandate]
    assert [r["kbPaymentMethodId"] for r in _search(plugin, pm_id)["records"]] == [by_mandate]
    assert [r["kbPaymentMethodId"] for r in _search(plugin, others[1])["records"]] == [others[1]]
    assert _search(plugin, customer_id)["totalNbRecords"] == 3
    assert _search(plugin, "pm_nobody")["records"] == [] and _search(plugin, "pm_nobody")["nextOffset"] is None
    record = _search(plugin, mandate_id)["records"][0]
    assert as_dict(record["properties"])["cardLast4"] == "4242" and APPROVE not in str(record)


# -- tenancy ---------------------------------------------------------------------------------------------------
def test_detail_of_another_accounts_payment_method_is_unknown(plugin, hs, kb, customer_id, add) -> None:
    kb_pm_id = add(hsPaymentMethodId=save_card(hs, customer_id, mandate=False)[0])

    response = detail_call(plugin, str(new_account(kb).account_id), kb_pm_id)

    assert response.status_code == 404 and response.json["errorType"] == "UNKNOWN_PAYMENT_METHOD"
