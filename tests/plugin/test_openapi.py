"""The OpenAPI document (``GET /openapi.json``): a valid OpenAPI 3.1 document of every API the sidecar
serves, generated from the models, true to the real answers; and schemathesis over the plugin contract
and the admin API finds no 5xx and no answer outside the document."""

from __future__ import annotations

import json
import re
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate as validate_openapi
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

import bridge.app  # noqa: F401  (every blueprint: what the APIs register joins the document before it is built)
from bridge.plugin_api import models as m
from bridge.plugin_api import signature
from bridge.plugin_api.operations import OPERATIONS
from bridge.web import openapi
from tests.conftest import ADMIN_TOKEN
from tests.plugin.conftest import PLUGIN_SECRET, PluginClient, payment_call

# The 17 methods of Kill Bill's PaymentPluginApi (DESIGN.md "The plugin contract").
JAVA_METHODS = {
    "authorizePayment", "capturePayment", "purchasePayment", "voidPayment", "creditPayment", "refundPayment",
    "getPaymentInfo", "searchPayments", "addPaymentMethod", "deletePaymentMethod", "getPaymentMethodDetail",
    "setDefaultPaymentMethod", "getPaymentMethods", "searchPaymentMethods", "resetPaymentMethods",
    "buildFormDescriptor", "processNotification",
}


@pytest.fixture
def doc(client) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.json


# -- the document -------------------------------------------------------------------------------
def test_the_document_is_valid_openapi_3_1(doc) -> None:
    assert doc["openapi"] == "3.1.0"
    validate_openapi(doc)  # the official 3.1 meta-schema, and every $ref resolves
    jsonschema.Draft202012Validator.check_schema({"$defs": doc["components"]["schemas"]})


def test_it_lists_all_17_plugin_operations(doc) -> None:
    plugin_paths = {path.removeprefix("/plugin/v1/"): item for path, item in doc["paths"].items()
                    if path.startswith("/plugin/v1/")}
    assert set(plugin_paths) == JAVA_METHODS == set(OPERATIONS)
    for name, item in plugin_paths.items():
        assert list(item) == ["post"], name
        op = item["post"]
        assert op["operationId"] == name
        assert op["security"] == [{"bridgeSignature": []}]
        request_model = OPERATIONS[name].request.__name__
        assert op["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{request_model}"}
        assert set(op["responses"]) == {"200", "400", "401", "404", "409", "413", "5XX"}
        for status in ("400", "401", "404", "409", "413", "5XX"):
            assert op["responses"][status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/PluginError"}
    assert doc["components"]["securitySchemes"]["bridgeSignature"] == {
        **doc["components"]["securitySchemes"]["bridgeSignature"], "type": "apiKey", "in": "header",
        "name": "X-Bridge-Signature"}
    void = plugin_paths["deletePaymentMethod"]["post"]["responses"]["200"]["content"]["application/json"]
    assert void["schema"] == {"type": "null"}
    info = plugin_paths["getPaymentInfo"]["post"]["responses"]["200"]["content"]["application/json"]
    assert info["schema"] == {"type": "array", "items": {"$ref": "#/components/schemas/PaymentTransactionInfoPlugin"}}


def test_schemas_are_the_models_own(doc) -> None:
    """No hand-written copy: a component is exactly what pydantic says about the model."""
    schemas = doc["components"]["schemas"]
    ref = openapi.REF_TEMPLATE
    for model, mode in ((m.PaymentCall, "validation"), (m.SearchCall, "validation"),
                        (m.PaymentTransactionInfoPlugin, "serialization"), (m.PluginError, "serialization")):
        generated = model.model_json_schema(ref_template=ref, mode=mode)
        generated.pop("$defs", None)
        assert schemas[model.__name__] == generated, model
    amount = schemas["PaymentCall"]["properties"]["amount"]
    assert amount["type"] == "string"  # a decimal string in major units, as the contract says


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule)


def test_every_route_of_the_app_is_documented(app, doc) -> None:
    served: set[tuple[str, str]] = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if rule.rule == "/plugin/v1/<operation>":
                served |= {(method.lower(), f"/plugin/v1/{name}") for name in OPERATIONS}
            else:
                served.add((method.lower(), _openapi_path(rule.rule)))
    documented = {(method, path) for path, item in doc["paths"].items() for method in item}
    # A route missing here is added with bridge.web.openapi.register(Endpoint(...)) next to it.
    assert served == documented


def test_a_registered_endpoint_joins_the_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """How APIs served elsewhere describe themselves."""
    monkeypatch.setattr(openapi, "_SECURITY_SCHEMES", dict(openapi._SECURITY_SCHEMES))

    class Ping(m._Model):
        merchant_id: str

    endpoint = openapi.Endpoint("POST", "/webhooks/example", "exampleWebhook", "webhooks", "An example",
                                request=Ping, responses={200: openapi.Reply("Stored.", None)},
                                security="exampleSignature")
    openapi.register_security_scheme("exampleSignature", {"type": "apiKey", "in": "header", "name": "X-Sig"})
    extra = openapi.build_document([*openapi.endpoints(), endpoint])
    validate_openapi(extra)
    assert extra["paths"]["/webhooks/example"]["post"]["requestBody"]["content"]["application/json"]["schema"] \
        == {"$ref": "#/components/schemas/Ping"}
    assert "exampleSignature" in extra["components"]["securitySchemes"]
    assert "/webhooks/example" not in openapi.document()["paths"]  # built, not registered


# -- real answers against the document ----------------------------------------------------------
def assert_documented(doc: dict[str, Any], method: str, path: str, response) -> None:  # type: ignore[no-untyped-def]
    """The response's status, media type and body are what the document says for this operation."""
    responses = doc["paths"][path][method.lower()]["responses"]
    status = str(response.status_code)
    documented = responses.get(status) or responses.get(f"{status[0]}XX")
    assert documented is not None, f"{method} {path}: {status} is not documented"
    if "content" not in documented:
        assert response.get_data() == b"", f"{method} {path}: {status} has a body"
        return
    media_type, content = next(iter(documented["content"].items()))
    assert response.mimetype == media_type, (method, path, status, response.mimetype)
    body = response.json if media_type == "application/json" else response.get_data(as_text=True)
    schema = {**content["schema"], "components": doc["components"]}
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(body)
    assert response.headers.get("X-Request-Id")


def test_real_plugin_answers_match_the_document(doc, plugin: PluginClient, payor) -> None:  # noqa: F811
    def call(operation: str, expected: int, **params: Any):  # type: ignore[no-untyped-def]
        response = plugin.call(operation, **params)
        assert response.status_code == expected, (operation, response.get_data(as_text=True))
        assert_documented(doc, "POST", f"/plugin/v1/{operation}", response)
        return response

    body = payment_call(payor.account_id, "10.50", kbPaymentMethodId=payor.kb_payment_method_id)
    assert call("purchasePayment", 200, **body).json["status"] == "PROCESSED"
    ids = {"kbAccountId": body["kbAccountId"], "kbPaymentId": body["kbPaymentId"]}
    assert len(call("getPaymentInfo", 200, **ids).json) == 1
    assert call("searchPayments", 200, searchKey=body["kbPaymentId"]).json["totalNbRecords"] == 1
    refund = payment_call(payor.account_id, "1.00", kbPaymentId=body["kbPaymentId"])
    assert call("refundPayment", 200, **refund).json["transactionType"] == "REFUND"
    call("purchasePayment", 400, **payment_call(payor.account_id, "-1.00"))  # INVALID_AMOUNT
    call("refundPayment", 404, **payment_call(payor.account_id, "1.00"))  # UNKNOWN_PAYMENT
    unsigned = plugin.raw("voidPayment", b"{}", {signature.HEADER: ""})
    assert unsigned.status_code == 400  # no context.tenantId: refused before authentication
    assert_documented(doc, "POST", "/plugin/v1/voidPayment", unsigned)
    forged = plugin.raw("voidPayment", json.dumps({"context": {"tenantId": plugin.tenant_id}}).encode(),
                        {signature.HEADER: signature.sign(b"{}", "not-the-secret")})
    assert forged.status_code == 401
    assert_documented(doc, "POST", "/plugin/v1/voidPayment", forged)
    huge = plugin.raw("searchPayments", b" " * (plugin.http.application.config["MAX_CONTENT_LENGTH"] + 1))
    assert huge.status_code == 413
    assert_documented(doc, "POST", "/plugin/v1/searchPayments", huge)
    assert call("setDefaultPaymentMethod", 200, kbAccountId=payor.account_id,
                kbPaymentMethodId=payor.kb_payment_method_id).json is None  # a void method: JSON null
    assert call("getPaymentMethods", 200, kbAccountId=payor.account_id).json[0]["isDefault"]


@pytest.mark.parametrize("operation", ["purchasePayment", "authorizePayment"])
def test_an_amount_beyond_what_hyperswitch_takes_is_refused(plugin: PluginClient, payor,  # noqa: F811
                                                           operation: str) -> None:
    response = plugin.call(operation, **payment_call(payor.account_id, "10000000.00",
                                                     kbPaymentMethodId=payor.kb_payment_method_id))
    assert response.status_code == 400 and response.json["errorType"] == "INVALID_AMOUNT"  # was a 500 (schemathesis)


def test_real_admin_and_infrastructure_answers_match_the_document(doc, client, admin_headers,
                                                                  tenant_id: str) -> None:
    def call(method: str, path: str, template: str, expected: int, **kwargs: Any):  # type: ignore[no-untyped-def]
        response = client.open(path, method=method, **kwargs)
        assert response.status_code == expected, (method, path, response.get_data(as_text=True))
        assert_documented(doc, method, template, response)
        return response

    auth = {"headers": admin_headers}
    assert call("GET", "/admin/v1/tenants", "/admin/v1/tenants", 200, **auth).json["tenants"]
    call("GET", f"/admin/v1/tenants/{tenant_id}", "/admin/v1/tenants/{tenant_id}", 200, **auth)
    call("GET", f"/admin/v1/tenants/{uuid.uuid4()}", "/admin/v1/tenants/{tenant_id}", 404, **auth)
    call("PATCH", f"/admin/v1/tenants/{tenant_id}", "/admin/v1/tenants/{tenant_id}", 200,
         json={"settings": {"pay_by_link": {"link_valid_days": 30}}}, **auth)
    call("PATCH", f"/admin/v1/tenants/{tenant_id}", "/admin/v1/tenants/{tenant_id}", 400,
         json={"name": ""}, **auth)
    call("POST", "/admin/v1/tenants", "/admin/v1/tenants", 400, data="not json", **auth)
    verify = call("POST", f"/admin/v1/tenants/{tenant_id}/verify", "/admin/v1/tenants/{tenant_id}/verify", 200,
                  **auth)
    assert verify.json["checks"]
    call("GET", "/admin/v1/jobs?limit=5", "/admin/v1/jobs", 200, **auth)
    call("GET", "/admin/v1/jobs?limit=0", "/admin/v1/jobs", 400, **auth)
    call("GET", "/admin/v1/jobs/12345", "/admin/v1/jobs/{job_id}", 404, **auth)
    call("GET", "/admin/v1/tenants", "/admin/v1/tenants", 401, headers={"Authorization": "Bearer nope"})
    call("DELETE", f"/admin/v1/tenants/{tenant_id}", "/admin/v1/tenants/{tenant_id}", 204, **auth)
    call("GET", "/healthz", "/healthz", 200)
    call("GET", "/readyz", "/readyz", 200)
    call("GET", "/metrics", "/metrics", 200)
    call("GET", "/openapi.json", "/openapi.json", 200)


# -- schemathesis ---------------------------------------------------------------------------------
SCHEMA = schemathesis.openapi.from_dict(openapi.build_document(), config=schemathesis.Config(seed=20261122))
SCHEMA.config.generation.update(max_examples=25)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                         database=None)


@dataclass(frozen=True)
class Known:
    """Objects the bridge knows: an account with a saved card, and a succeeded 50.00 USD purchase."""

    kbAccountId: str
    kbPaymentMethodId: str
    kbPaymentId: str
    currency: str = "USD"


@pytest.fixture
def known(plugin: PluginClient, payor) -> Known:  # noqa: F811
    purchase = payment_call(payor.account_id, "50.00", kbPaymentMethodId=payor.kb_payment_method_id)
    assert plugin.ok("purchasePayment", **purchase)["status"] == "PROCESSED"
    return Known(payor.account_id, payor.kb_payment_method_id, purchase["kbPaymentId"])


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _steer(body: dict[str, Any], known: Known) -> None:
    """In about half of the cases, point the well-formed generated ids (and currency) at objects the bridge
    knows, so the handlers get past "unknown account/payment" into their real work. The choice derives
    from the generated body, and the failure report shows the body as sent."""
    if zlib.crc32(json.dumps(body, sort_keys=True, default=str).encode()) % 2:
        return
    for key in ("kbAccountId", "kbPaymentMethodId", "kbPaymentId", "currency"):
        value = body.get(key)
        if isinstance(value, str) and (re.fullmatch(r"[A-Z]{3}", value) if key == "currency" else _UUID.match(value)):
            body[key] = getattr(known, key)


def _send_signed(case, app, tenant_id: str, known: Known):  # type: ignore[no-untyped-def]
    """Like the Java plugin: the body's tenant is the test tenant, and the exact bytes sent are signed."""
    body = case.body
    if isinstance(body, dict):
        _steer(body, known)  # first: its choice must not depend on this run's (random) tenant id
        if isinstance(body.get("context"), dict):
            body["context"]["tenantId"] = tenant_id
    if isinstance(body, NotSet):
        raw = b""
    elif isinstance(body, bytes | str):  # a negative case: not JSON at all
        raw = body.encode() if isinstance(body, str) else body
    else:
        raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", signature.HEADER: signature.sign(raw, PLUGIN_SECRET)}
    return case.call(app=app, headers=headers, data=raw)


@SCHEMA.include(path_regex=r"^/plugin/v1/").parametrize()
@FUZZ_SETTINGS
def test_fuzz_the_plugin_contract(case, app, tenant_id: str, known: Known) -> None:
    response = _send_signed(case, app, tenant_id, known)
    case.validate_response(response, checks=CHECKS)


@SCHEMA.include(path_regex=r"^/admin/v1/").parametrize()
@FUZZ_SETTINGS
def test_fuzz_the_admin_api(case, app, tenant_id: str) -> None:
    if case.path_parameters and len(str(case.path_parameters.get("tenant_id", ""))) % 2:
        case.path_parameters["tenant_id"] = tenant_id  # about half the cases act on the mapped tenant
    response = case.call(app=app, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    case.validate_response(response, checks=CHECKS)
