"""Validate HTTP traffic against the peers' real API specs.

``hyperswitch_spec`` checks against ``shared/reference/hyperswitch-openapi.json`` (OpenAPI 3.0.3);
``killbill_spec`` against ``shared/reference/killbill-swagger-0.24.yaml`` (Swagger 2.0). Both use plain
jsonschema over the documents themselves (openapi-core mis-resolves discriminators without a mapping,
see reference/hyperswitch.md §11).

Validation is strict. Where a spec is known to be stricter than the real service, the correction is
one entry in ``HYPERSWITCH_CORRECTIONS`` / ``KILLBILL_CORRECTIONS`` with the reason; nothing is
loosened wholesale.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jsonschema
import yaml

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"


class ContractViolation(AssertionError):
    """Traffic that the real API's spec does not allow."""


@dataclass(frozen=True)
class Correction:
    """One known place where a spec is stricter than the real service."""

    pointer: str  # JSON pointer into the spec document
    apply: Callable[[dict], None]
    reason: str


def _drop_key(key: str) -> Callable[[dict], None]:
    return lambda node: node.pop(key, None)


def _drop_required(*names: str) -> Callable[[dict], None]:
    def apply(node: dict) -> None:
        node["required"] = [n for n in node.get("required", []) if n not in names]
    return apply


_AMOUNT_CAPTURABLE_REASON = (
    "spec says minimum 100, yet its own description says it is 0 once captured or when an "
    "automatic-capture payment succeeded (reference/hyperswitch.md §11)")
_REQUIRED_REASON = (
    "marked required, but absent before a payment method is attached "
    "(reference/hyperswitch.md §11; spec examples 01 and 04 omit them)")

def _nullable(node: dict) -> None:
    node["nullable"] = True


def _drop_length(node: dict) -> None:
    node.pop("minLength", None)
    node.pop("maxLength", None)


def _object_list_response(node: dict) -> None:
    node.clear()
    node["$ref"] = "#/components/schemas/PaymentListResponse"


def _optional_status_lists(node: dict) -> None:
    _drop_required("payment_statuses_enabled", "refund_statuses_enabled")(node)
    for name in ("payment_statuses_enabled", "refund_statuses_enabled"):
        node["properties"][name]["nullable"] = True


def _optional_time_range(node: dict) -> None:
    node["allOf"][0] = {"type": "object", "properties": {
        "start_time": {"type": "string", "format": "date-time"},
        "end_time": {"type": "string", "format": "date-time", "nullable": True}}}


def _add_payout_id(properties: dict) -> None:
    properties["payout_id"] = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$", "nullable": True}


def _one_of_to_any_of(node: dict) -> None:
    node["anyOf"] = node.pop("oneOf")


def _optional_parameters(parameters: list) -> None:
    for parameter in parameters:
        parameter["required"] = False


_PAYMENT_SCHEMAS = ("PaymentsResponse", "PaymentsCreateResponseOpenApi")  # POST /payments declares the second

HYPERSWITCH_CORRECTIONS: tuple[Correction, ...] = (
    *(Correction(f"/components/schemas/{schema}/properties/amount_capturable", _drop_key("minimum"),
                 "spec says minimum 100, yet its own description says it is 0 once captured or when an "
                 "automatic-capture payment succeeded (reference/hyperswitch.md §11)")
      for schema in _PAYMENT_SCHEMAS),
    *(Correction(f"/components/schemas/{schema}", _drop_required("processor_merchant_id", "payment_method"),
                 "marked required, but absent before a payment method is attached "
                 "(reference/hyperswitch.md §11; spec examples 01 and 04 omit them)")
      for schema in _PAYMENT_SCHEMAS),
    *(Correction(f"/components/schemas/{schema}/properties/payment_method", _nullable,
                 "null until a payment method is attached (requires_payment_method, e.g. an open payment "
                 "link); the router serializes every PaymentsResponse key, null when absent")
      for schema in _PAYMENT_SCHEMAS),
    *(Correction(f"/components/schemas/{schema}/properties/payment_id", _drop_length,
                 "the router generates pay_ + 20 characters and accepts 1-64 (reference/hyperswitch.md §2, "
                 "common_utils id_type::PaymentId); the bridge's own ids are 30 either way")
      for schema in _PAYMENT_SCHEMAS),
    Correction("/paths/~1payments~1list/get/responses/200/content/application~1json/schema",
               _object_list_response,
               "GET /payments/list returns one {size, data} object, not an array of them (reference §2)"),
    Correction("/components/schemas/WebhookDetails", _optional_status_lists,
               "Option<Vec<_>> in api_models admin.rs: null when the profile never set them; unset or empty "
               "means the router's default statuses (get_payment_webhook_statuses)"),
    Correction("/components/schemas/RefundListRequest", _optional_time_range,
               "the time range is #[serde(flatten)] Option<TimeRange>: without start_time it is None, so a "
               "list filtered only by payment_id is valid (api_models refunds.rs)"),
    *(Correction(f"/components/schemas/{schema}/properties/amount", _drop_key("minimum"),
                 "spec says minimum 100; the router refunds any amount above 0 up to the captured amount "
                 "(reference/hyperswitch.md §3)")
      for schema in ("RefundRequest", "RefundResponse")),
    # -- payouts ---------------------------------------------------------------------------------
    Correction("/components/schemas/PayoutsCreateRequest/properties", _add_payout_id,
               "the router's PayoutCreateRequest reads payout_id (an id_type::PayoutId, 1-64 of "
               "[A-Za-z0-9_-]; core/payouts/validator.rs validate_create_request answers HE_01 "
               "DuplicatePayout for a known one); utoipa's #[remove_in(PayoutsCreateRequest)] only hides "
               "it from the generated schema. Declared here so the bridge's id is checked, not just allowed"),
    Correction("/components/schemas/PayoutCreateResponse/properties/payout_id", _drop_length,
               "the router generates payout_ + 20 characters (id_type::PayoutId::generate, 27 in all) and "
               "accepts 1-64; the bridge's own ids are 30 either way"),
    *(Correction(f"/components/schemas/PayoutCreateResponse/properties/{name}", _nullable,
                 "Option<_> in api_models payouts.rs PayoutCreateResponse, documented with a non-optional "
                 "#[schema(value_type = ...)]; serialized as null when the payout has none (no customer, "
                 "no return_url, no business_country)")
      for name in ("customer_id", "return_url", "business_country")),
    Correction("/components/schemas/PayoutCreateResponse", _drop_required("customer_id", "return_url",
                                                                          "business_country"),
               "see the nullable corrections above: these Option fields may be absent from a payout"),
    Correction("/components/schemas/BankAdditionalData", _one_of_to_any_of,
               "a #[serde(untagged)] enum: the first variant that fits is used. Its Pix variant has no "
               "required field and fits every bank object, so oneOf (exactly one) never holds for a "
               "masked ACH, BACS or SEPA account"),
    Correction("/paths/~1payouts~1list/get/parameters", _optional_parameters,
               "every field of PayoutListConstraints is optional (Option<_>, limit defaults to 10; the "
               "spec's own PayoutListConstraints component says so); the path's params(...) declare them "
               "as required Strings"),
)

# Real paths the spec spells differently: (pattern, the spec's spelling, reason).
HYPERSWITCH_PATH_ALIASES: tuple[tuple[str, str, str], ...] = (
    (r"^/customers/([^/]+)/payment_methods/([^/]+)/default$", r"/\1/payment_methods/\2/default",
     "the spec's set-default path lacks the /customers prefix of the router's route (reference §0, §4)"),
)

# Query parameters the router reads under another name, or that the spec omits: name → spec name or None.
HYPERSWITCH_QUERY_ALIASES: dict[tuple[str, str], dict[str, str | None]] = {
    # RefundsRetrieveBody{force_sync} is read from the query (reference/hyperswitch.md §3).
    ("GET", "/refunds/{refund_id}"): {"force_sync": None},
    # PaymentListConstraints renames created_gte → "created.gte" and is deny_unknown_fields.
    ("GET", "/payments/list"): {"created.gte": "created_gte", "created.lte": "created_lte"},
}

# The router's real error body (reference/hyperswitch.md §1, crates/api_models/src/errors/types.rs).
# The spec's GenericErrorResponseOpenApi is the flat {error_type, message, code}, which only the
# JSON-deserialize quirk comes close to; the wire shape wraps it in "error".
HYPERSWITCH_ERROR_ENVELOPE: dict = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "code"],
            "properties": {
                "type": {"enum": ["invalid_request", "api", "connector", "blocked"]},
                "error_type": {"enum": ["invalid_request"]},
                "message": {"type": "string"},
                "code": {"type": "string", "pattern": "^[A-Z]{2}_[0-9]{2}$"},
            },
            "anyOf": [{"required": ["type"]}, {"required": ["error_type"]}],
        }
    },
}

KILLBILL_CORRECTIONS: tuple[Correction, ...] = ()

# Kill Bill's error body (org.killbill.billing.jaxrs.json.BillingExceptionJson).
KILLBILL_ERROR_BODY: dict = {
    "type": "object",
    "properties": {
        "className": {"type": ["string", "null"]},
        "code": {"type": ["integer", "null"]},
        "message": {"type": ["string", "null"]},
        "causeClassName": {"type": ["string", "null"]},
        "causeMessage": {"type": ["string", "null"]},
        "stackTrace": {"type": ["array", "null"]},
    },
    "required": ["message"],
}


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _resolve(document: dict, pointer: str) -> Any:
    node: Any = document
    for raw in pointer.lstrip("/").split("/"):
        node = node[raw.replace("~1", "/").replace("~0", "~")]
    return node


def _nullable_to_null(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` → JSON Schema's ``null`` alternative."""
    if isinstance(node, list):
        return [_nullable_to_null(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_to_null(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


_SUBSCHEMA_KEYS = ("items", "additionalProperties", "allOf", "anyOf", "oneOf", "not")


def _properties_allow_null(schema: Any) -> Any:
    """Swagger 2.0 has no ``nullable``; Kill Bill writes its nulls out, so every property may be null.

    Walks schemas only: a field that happens to be named ``properties`` is a schema, not a map.
    """
    if isinstance(schema, list):
        return [_properties_allow_null(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {}
    for key, value in schema.items():
        if key == "properties" and isinstance(value, dict):
            result[key] = {name: {"anyOf": [_properties_allow_null(sub), {"type": "null"}]}
                           for name, sub in value.items()}
        elif key in _SUBSCHEMA_KEYS:
            result[key] = _properties_allow_null(value)
        else:
            result[key] = value
    return result


class ApiSpec:
    """Request/response validation for one spec document."""

    def __init__(self, name: str, document: dict, *, validator_cls: type, base_path: str = "",
                 error_schema: dict, corrections: Iterable[Correction] = (),
                 path_aliases: Iterable[tuple[str, str, str]] = (),
                 query_aliases: dict[tuple[str, str], dict[str, str | None]] | None = None) -> None:
        self.name = name
        self._path_aliases = [(re.compile(pattern), spelling) for pattern, spelling, _ in path_aliases]
        self._query_aliases = query_aliases or {}
        self.document = copy.deepcopy(document)
        for correction in corrections:
            correction.apply(_resolve(self.document, correction.pointer))
        self._validator_cls = validator_cls
        self._error_schema = error_schema
        self._routes = self._compile_routes(base_path)

    # -- routing -----------------------------------------------------------------------------
    def _compile_routes(self, base_path: str) -> list[tuple[re.Pattern[str], str, int]]:
        routes = []
        for template in self.document["paths"]:
            regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(base_path + template))
            routes.append((re.compile(f"^{regex}$"), template, template.count("{")))
        # Literal segments win over parameters: /payments/list before /payments/{payment_id}.
        routes.sort(key=lambda route: route[2])
        return routes

    def spec_path(self, path: str) -> str:
        path = path.split("?", 1)[0]
        for pattern, spelling in self._path_aliases:
            path = pattern.sub(spelling, path)
        return path

    def operation(self, method: str, path: str) -> tuple[str, dict]:
        path = self.spec_path(path)
        for regex, template, _ in self._routes:
            if regex.match(path):
                item = self.document["paths"][template]
                op = item.get(method.lower())
                if op is None:
                    raise ContractViolation(f"{self.name}: {method.upper()} not allowed on {template}")
                return template, op
        raise ContractViolation(f"{self.name}: no path in the spec matches {path}")

    # -- validation ----------------------------------------------------------------------------
    def _check(self, pointer: str, instance: Any, what: str) -> None:
        schema = dict(self.document)
        schema["$ref"] = "#" + pointer
        self._check_against(schema, instance, what)

    def _check_against(self, schema: dict, instance: Any, what: str) -> None:
        validator = self._validator_cls(schema)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if errors:
            lines = [f"  at /{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:20]]
            raise ContractViolation(f"{self.name}: {what} violates the spec:\n" + "\n".join(lines))

    def validate_schema(self, component: str, instance: Any) -> None:
        self._check(self._component_pointer(component), instance, component)

    def validate_request(self, method: str, path: str, body: Any, query: dict | None = None) -> None:
        template, op = self.operation(method, path)
        what = f"{method.upper()} {template} request"
        self._check_query(op, self._spec_query(method, template, query or {}), what)
        pointer = self._request_body_pointer(method, template, op)
        if pointer is None:
            if body not in (None, b"", ""):
                raise ContractViolation(f"{self.name}: {what} takes no JSON body")
            return
        if body is None:
            if self._body_required(op):
                raise ContractViolation(f"{self.name}: {what} requires a body")
            return
        self._check(pointer, body, what)

    def validate_response(self, method: str, path: str, status: int, body: Any) -> None:
        template, op = self.operation(method, path)
        what = f"{method.upper()} {template} {status} response"
        responses = op.get("responses", {})
        declared = responses.get(str(status))
        if status >= 400:
            if body not in (None, b"", ""):
                self._check_against(self._error_schema, body, what)
            return
        if declared is None:
            raise ContractViolation(f"{self.name}: {what}: status {status} is not declared "
                                    f"(declared: {sorted(responses)})")
        pointer = self._response_body_pointer(method, template, str(status), declared)
        if pointer is None:
            return
        if body in (None, b"", ""):
            raise ContractViolation(f"{self.name}: {what}: the spec declares a body, none was sent")
        self._check(pointer, body, what)

    def _spec_query(self, method: str, template: str, query: dict) -> dict:
        query = dict(query)
        for name, spelling in self._query_aliases.get((method.upper(), template), {}).items():
            if name in query:
                value = query.pop(name)
                if spelling is not None:
                    query[spelling] = value
        return query

    def validate_http_request(self, method: str, url: str, body: bytes | str | None) -> None:
        """Validate a request as sent on the wire (full URL with query, raw JSON body)."""
        parts = urlsplit(url)
        parsed = json.loads(body) if body else None
        self.validate_request(method, parts.path, parsed, dict(parse_qsl(parts.query)))

    # -- format specifics (overridden per spec flavour) ---------------------------------------
    def _component_pointer(self, component: str) -> str:
        raise NotImplementedError

    def _request_body_pointer(self, method: str, template: str, op: dict) -> str | None:
        raise NotImplementedError

    def _body_required(self, op: dict) -> bool:
        raise NotImplementedError

    def _response_body_pointer(self, method: str, template: str, status: str, declared: dict) -> str | None:
        raise NotImplementedError

    def _check_query(self, op: dict, query: dict, what: str) -> None:
        params = {p["name"]: p for p in op.get("parameters", []) if p.get("in") == "query"}
        unknown = sorted(set(query) - set(params))
        if unknown:
            raise ContractViolation(f"{self.name}: {what}: unknown query parameter(s) {unknown}")
        missing = sorted(n for n, p in params.items() if p.get("required") and n not in query)
        if missing:
            raise ContractViolation(f"{self.name}: {what}: missing required query parameter(s) {missing}")


class OpenApi3Spec(ApiSpec):
    def _component_pointer(self, component: str) -> str:
        return f"/components/schemas/{_escape(component)}"

    def _request_body_pointer(self, method: str, template: str, op: dict) -> str | None:
        content = op.get("requestBody", {}).get("content", {})
        if "application/json" not in content:
            return None
        return f"/paths/{_escape(template)}/{method.lower()}/requestBody/content/application~1json/schema"

    def _body_required(self, op: dict) -> bool:
        return bool(op.get("requestBody", {}).get("required"))

    def _response_body_pointer(self, method: str, template: str, status: str, declared: dict) -> str | None:
        if "application/json" not in declared.get("content", {}):
            return None
        return (f"/paths/{_escape(template)}/{method.lower()}/responses/{status}"
                "/content/application~1json/schema")


class Swagger2Spec(ApiSpec):
    def _component_pointer(self, component: str) -> str:
        return f"/definitions/{_escape(component)}"

    def _body_param_index(self, op: dict) -> int | None:
        for index, param in enumerate(op.get("parameters", [])):
            if param.get("in") == "body":
                return index
        return None

    def _request_body_pointer(self, method: str, template: str, op: dict) -> str | None:
        index = self._body_param_index(op)
        if index is None:
            return None
        return f"/paths/{_escape(template)}/{method.lower()}/parameters/{index}/schema"

    def _body_required(self, op: dict) -> bool:
        index = self._body_param_index(op)
        return index is not None and bool(op["parameters"][index].get("required"))

    def _response_body_pointer(self, method: str, template: str, status: str, declared: dict) -> str | None:
        if "schema" not in declared:
            return None
        return f"/paths/{_escape(template)}/{method.lower()}/responses/{status}/schema"


@functools.cache
def _load_hyperswitch() -> OpenApi3Spec:
    document = json.loads((REFERENCE / "hyperswitch-openapi.json").read_text())
    spec = OpenApi3Spec("hyperswitch", document, validator_cls=jsonschema.Draft7Validator,
                        error_schema=HYPERSWITCH_ERROR_ENVELOPE, corrections=HYPERSWITCH_CORRECTIONS,
                        path_aliases=HYPERSWITCH_PATH_ALIASES, query_aliases=HYPERSWITCH_QUERY_ALIASES)
    spec.document = _nullable_to_null(spec.document)
    return spec


@functools.cache
def _load_killbill() -> Swagger2Spec:
    document = yaml.safe_load((REFERENCE / "killbill-swagger-0.24.yaml").read_text())
    spec = Swagger2Spec("killbill", document, validator_cls=jsonschema.Draft4Validator,
                        error_schema=KILLBILL_ERROR_BODY, corrections=KILLBILL_CORRECTIONS)
    spec.document["definitions"] = {name: _properties_allow_null(schema)
                                    for name, schema in spec.document["definitions"].items()}
    return spec


class _Lazy:
    """Load a spec on first use (the Hyperswitch one takes a second or two)."""

    def __init__(self, loader: Callable[[], ApiSpec]) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader(), name)


hyperswitch_spec: ApiSpec = _Lazy(_load_hyperswitch)  # type: ignore[assignment]
killbill_spec: ApiSpec = _Lazy(_load_killbill)  # type: ignore[assignment]
