"""``GET /openapi.json``: one OpenAPI 3.1 document of every API the sidecar serves, made from its code.

Nothing here restates a schema. Each endpoint is declared once as an :class:`Endpoint` naming the
Python types it reads and answers (pydantic models, ``list[...]`` of them, ``None`` for JSON ``null``,
``str`` for text); all of them are turned into JSON Schema in one pass by pydantic, so a model used by
several endpoints becomes one entry of ``components.schemas`` and every use is a ``$ref`` to it.
The plugin contract's 17 operations come straight from the registry (``bridge.plugin_api.operations``),
the admin API and the infrastructure endpoints from the declarations below.

APIs added later (the webhook endpoints, the payor pages) describe themselves the same way::

    from bridge.web import openapi
    openapi.register_security_scheme("hyperswitchSignature", {...})
    openapi.register(openapi.Endpoint("POST", "/webhooks/hyperswitch", ..., request=WebhookEvent, ...))

``tests/plugin/test_openapi.py`` checks that every URL rule of the app is in the document.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from uuid import UUID

from flask import Blueprint, Response, current_app
from pydantic import BaseModel, Field, TypeAdapter, create_model

import bridge
from bridge.db.jobs import JobState
from bridge.invoices.admin import AccountPayLinkIssued, PayLinkRequest, ReminderOptOutView
from bridge.jobs.admin import JobDetail, JobView
from bridge.plugin_api import signature
from bridge.plugin_api.models import PluginError
from bridge.plugin_api.operations import OPERATIONS, Operation
from bridge.tenancy.schemas import TenantCreate, TenantUpdate, TenantView
from bridge.tenancy.verify import VerifyReport
from bridge.web.admin import jobs as jobs_routes
from bridge.web.requests import REQUEST_ID_HEADER

bp = Blueprint("openapi", __name__)

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
REF_TEMPLATE = "#/components/schemas/{model}"


class _NoBody:
    def __repr__(self) -> str:
        return "NO_BODY"


NO_BODY: Any = _NoBody()
"""A request or response without a body (as opposed to ``None``: a JSON ``null`` body)."""


@dataclass(frozen=True)
class Reply:
    """One documented response: ``body`` is a type pydantic can describe, or NO_BODY."""

    description: str
    body: Any = NO_BODY
    media_type: str = JSON
    headers: Mapping[str, str] = field(default_factory=dict)  # name → description (all strings)


@dataclass(frozen=True)
class Param:
    name: str
    location: Literal["path", "query", "header"]
    type: Any = str
    description: str = ""
    required: bool | None = None  # path parameters are always required


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # OpenAPI template: /admin/v1/tenants/{tenant_id}
    operation_id: str
    tag: str
    summary: str
    responses: Mapping[int | str, Reply]
    description: str = ""
    security: str | None = None  # a name from the security schemes; None: no authentication
    parameters: tuple[Param, ...] = ()
    request: Any = NO_BODY
    request_media_type: str = JSON
    request_description: str = ""
    request_required: bool = True  # False: the body may be left out


# -- security schemes -----------------------------------------------------------------------------
PLUGIN_SIGNATURE = "bridgeSignature"
ADMIN_TOKEN = "adminToken"

_SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    PLUGIN_SIGNATURE: {
        "type": "apiKey", "in": "header", "name": signature.HEADER,
        "description": "`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>`: the raw request body "
                       "signed with the deployment's BRIDGE_PLUGIN_SHARED_SECRET or the tenant's own plugin shared "
                       f"secret; accepted within {signature.DEFAULT_TOLERANCE_SECONDS} s of the server's clock. "
                       "Several `v1=` values may be sent while a secret rotates. The tenant is the body's "
                       "`context.tenantId`."},
    ADMIN_TOKEN: {"type": "http", "scheme": "bearer",
                  "description": "`Authorization: Bearer <BRIDGE_ADMIN_TOKEN>`; the admin API answers 503 while "
                                 "no admin token is configured."},
}

_TAGS: dict[str, str] = {
    "plugin": "Kill Bill's PaymentPluginApi over HTTP, called by the Java forwarding plugin. Every operation "
              "answers the Java return value as camelCase JSON (`null` for void methods), or an error "
              "`{\"errorType\", \"errorMessage\"}` that the plugin turns into a PaymentPluginApiException.",
    "admin": "Operators: the tenant mapping, the job queue, inbound events, and payors' accounts (pay links, "
             "reminder opt-outs). Errors are `{\"error\", \"detail\"}`.",
    "infrastructure": "Liveness, readiness, metrics and this document; no authentication.",
}

_registered: list[Endpoint] = []
_path_replies: list[tuple[str, dict[int | str, Reply]]] = []
_lock = threading.Lock()
_cache: dict[str, Any] = {}


def register(*endpoints: Endpoint) -> None:
    """Add endpoints served by another module (call at import time, before the first request)."""
    with _lock:
        _registered.extend(endpoints)
        _cache.clear()


def register_path_replies(prefix: str, replies: Mapping[int | str, Reply]) -> None:
    """Answers every endpoint under ``prefix`` may give besides its own (the edges' 413 and 429); an
    endpoint that documents a status itself keeps its own."""
    with _lock:
        _path_replies.append((prefix, dict(replies)))
        _cache.clear()


def _with_path_replies(endpoint: Endpoint) -> Endpoint:
    extra: dict[int | str, Reply] = {}
    for prefix, replies in _path_replies:
        if endpoint.path.startswith(prefix):
            extra.update({status: reply for status, reply in replies.items() if status not in endpoint.responses})
    if not extra:
        return endpoint
    return dataclasses.replace(endpoint, responses={**endpoint.responses, **extra})


def register_security_scheme(name: str, scheme: dict[str, Any]) -> None:
    with _lock:
        _SECURITY_SCHEMES[name] = scheme
        _cache.clear()


def register_tag(name: str, description: str) -> None:
    with _lock:
        _TAGS[name] = description
        _cache.clear()


# -- error bodies -------------------------------------------------------------------------------
class AdminError(BaseModel):
    """The admin and infrastructure APIs' error (``bridge.errors.BridgeError.to_dict``)."""

    error: str = Field(description="machine-readable name, e.g. unknown_tenant")
    detail: str = Field(description="what went wrong, for a person")


# -- the plugin contract ------------------------------------------------------------------------
def plugin_errors() -> dict[int | str, Reply]:
    """The errors every plugin operation may answer, as routes.py and the handlers produce them."""
    return {
        400: Reply("Refused input: the body is not a JSON object, has no `context.tenantId`, does not match the "
                   "request schema (`INVALID_REQUEST`), carries something that looks like a card number "
                   "(`CARD_DATA_REFUSED`), or the operation refuses it (`INVALID_AMOUNT`, `INVALID_CURRENCY`, "
                   "`INVALID_REQUEST`). Nothing was stored.", PluginError),
        401: Reply(f"`UNAUTHORIZED`: {signature.HEADER} is missing, malformed, stale or does not match.",
                   PluginError),
        404: Reply("The tenant (`UNKNOWN_TENANT`) or an object the call names (`UNKNOWN_PAYMENT`, "
                   "`UNKNOWN_PAYMENT_METHOD`, …) is not known to the bridge.", PluginError),
        409: Reply("The call conflicts with what the bridge or Hyperswitch holds (a deleted or foreign payment "
                   "method, a hosted form not completed yet, …); `errorType` names the case.", PluginError),
        413: Reply("`PAYLOAD_TOO_LARGE`: the body exceeds the configured request size limit.", PluginError),
        "5XX": Reply("The bridge failed to handle the call (500 `INTERNAL_ERROR`; the logs have the cause), or a "
                     "peer did (502 `HYPERSWITCH_ERROR`, 503 `HYPERSWITCH_UNAVAILABLE` / `KILLBILL_UNAVAILABLE`). "
                     "Payment transactions report a peer's failure in the answer's status instead.", PluginError),
    }


def _plugin_response(operation: Operation) -> Reply:
    if operation.response is None:
        return Reply("The Java method is void: the body is JSON `null`.", None)
    return Reply("The Java return value.", operation.response)


def plugin_endpoints(operations: Mapping[str, Operation] | None = None) -> list[Endpoint]:
    """One ``POST /plugin/v1/<name>`` per registered operation, in the registry's order."""
    out = []
    for name, operation in (OPERATIONS if operations is None else operations).items():
        out.append(Endpoint(
            "POST", f"/plugin/v1/{name}", name, "plugin", f"PaymentPluginApi.{name}", security=PLUGIN_SIGNATURE,
            request=operation.request,
            request_description="The Java method's parameters by their Java names, and its `context`.",
            responses={200: _plugin_response(operation), **plugin_errors()}))
    return out


# -- the admin API ------------------------------------------------------------------------------
# The envelopes the admin views build around the models.
TenantList = create_model("TenantList", tenants=(list[TenantView], ...))
JobList = create_model("JobList", jobs=(list[JobView], ...))

_TENANT_ID = Param("tenant_id", "path", str, "the Kill Bill tenant id")
_ACCOUNT_ID = Param("kb_account_id", "path", UUID, "the Kill Bill account id")
_KILLBILL_FAILED = Reply("`killbill_error`: the tenant's Kill Bill failed the call (unreachable, or refusing the "
                         "tenant's credentials); the detail says which.", AdminError)
_JOB_ID = Param("job_id", "path", Annotated[int, Field(ge=0, le=jobs_routes.MAX_JOB_ID)], "the job's id")


def admin_errors(*statuses: int) -> dict[int | str, Reply]:
    known: dict[int, str] = {
        400: "The request is refused (`invalid_json`, `invalid_request`, `invalid_settings`, `unsafe_url`, "
             "`bad_request`).",
        404: "No such object (`unknown_tenant`, `unknown_account`, `not_found`).",
        409: "Conflicts with the current state (`duplicate_tenant`, `no_open_invoice`, `conflict`).",
        413: "The body exceeds the configured request size limit.",
    }
    replies: dict[int | str, Reply] = {status: Reply(known[status], AdminError) for status in statuses}
    replies[401] = Reply("`invalid_admin_token`: no valid `Authorization: Bearer` admin token.", AdminError)
    replies[503] = Reply("`admin_api_disabled`: no admin token is configured (BRIDGE_ADMIN_TOKEN).", AdminError)
    replies["5XX"] = Reply("`internal_error`: the bridge failed; the detail quotes the request id.", AdminError)
    return replies


_admin_errors = admin_errors  # the name bridge/web/admin/webhooks.py used first


def admin_endpoints() -> list[Endpoint]:
    admin: dict[str, Any] = {"tag": "admin", "security": ADMIN_TOKEN}
    return [
        Endpoint("GET", "/admin/v1/tenants", "listTenants", summary="List the mapped tenants (secrets masked)",
                 responses={200: Reply("The tenants, by name.", TenantList), **admin_errors()}, **admin),
        Endpoint("POST", "/admin/v1/tenants", "createTenant", summary="Map a Kill Bill tenant to Hyperswitch",
                 request=TenantCreate,
                 responses={201: Reply("The new tenant (secrets masked).", TenantView,
                                       headers={"Location": "the tenant's URL"}),
                            **admin_errors(400, 409, 413)}, **admin),
        Endpoint("GET", "/admin/v1/tenants/{tenant_id}", "showTenant", summary="Show one tenant (secrets masked)",
                 parameters=(_TENANT_ID,),
                 responses={200: Reply("The tenant.", TenantView), **admin_errors(404)}, **admin),
        Endpoint("PATCH", "/admin/v1/tenants/{tenant_id}", "updateTenant",
                 summary="Change some of a tenant's fields; `settings` is merged into the stored settings",
                 parameters=(_TENANT_ID,), request=TenantUpdate,
                 responses={200: Reply("The updated tenant.", TenantView), **admin_errors(400, 404, 409, 413)},
                 **admin),
        Endpoint("DELETE", "/admin/v1/tenants/{tenant_id}", "removeTenant", summary="Remove a tenant's mapping",
                 parameters=(_TENANT_ID,),
                 responses={204: Reply("Removed."), **admin_errors(404)}, **admin),
        Endpoint("POST", "/admin/v1/tenants/{tenant_id}/verify", "verifyTenant",
                 summary="Check the tenant's credentials against Kill Bill and Hyperswitch",
                 parameters=(_TENANT_ID,),
                 responses={200: Reply("One line per check; `ok` is false when any failed.", VerifyReport),
                            **admin_errors(404)}, **admin),
        Endpoint("POST", "/admin/v1/tenants/{tenant_id}/accounts/{kb_account_id}/pay-link", "issueAccountPayLink",
                 summary="Issue the account's pay link to all its open invoices; optionally send it to the payor",
                 description="The link of `/pay/account/<token>` (the one the payor may already have; renewed once "
                             "ended), where the payor pays every open invoice, or some, in one payment. With "
                             "`send`, the notice \"pay your open invoices\" (the list and the total) is queued on "
                             "the account's channels, once per issued link. 404: the tenant's Kill Bill has no such "
                             "account; 409 (`no_open_invoice`): nothing is due.",
                 parameters=(_TENANT_ID, _ACCOUNT_ID), request=PayLinkRequest, request_required=False,
                 responses={200: Reply("The link and the open invoices.", AccountPayLinkIssued),
                            **admin_errors(400, 404, 409, 413), 502: _KILLBILL_FAILED}, **admin),
        Endpoint("GET", "/admin/v1/tenants/{tenant_id}/accounts/{kb_account_id}/reminder-opt-out",
                 "showReminderOptOut", summary="Whether the account's payor opted out of payment reminders",
                 parameters=(_TENANT_ID, _ACCOUNT_ID),
                 responses={200: Reply("The opt-out, if any.", ReminderOptOutView), **admin_errors(404),
                            502: _KILLBILL_FAILED}, **admin),
        Endpoint("DELETE", "/admin/v1/tenants/{tenant_id}/accounts/{kb_account_id}/reminder-opt-out",
                 "resubscribeToReminders", summary="Undo the payor's opt-out: payment reminders again",
                 description="Idempotent: 204 also when the payor had not opted out. Invoices asked for from now on "
                             "get their reminders; reminders skipped while opted out are not sent.",
                 parameters=(_TENANT_ID, _ACCOUNT_ID),
                 responses={204: Reply("Resubscribed."), **admin_errors(404), 502: _KILLBILL_FAILED}, **admin),
        Endpoint("GET", "/admin/v1/jobs", "listJobs", summary="List jobs, newest first",
                 parameters=(Param("state", "query", JobState, "only jobs in this state"),
                             Param("kind", "query", str, "only jobs of this kind"),
                             Param("limit", "query", Annotated[int, Field(50, ge=1, le=1000)],
                                   "at most this many")),
                 responses={200: Reply("The jobs.", JobList), **admin_errors(400)}, **admin),
        Endpoint("GET", "/admin/v1/jobs/{job_id}", "showJob", summary="Show one job with its payload and traceback",
                 parameters=(_JOB_ID,),
                 responses={200: Reply("The job.", JobDetail), **admin_errors(404)}, **admin),
        Endpoint("POST", "/admin/v1/jobs/{job_id}/retry", "retryJob",
                 summary="Run a dead (or pending) job again now", parameters=(_JOB_ID,),
                 responses={200: Reply("The job, pending again.", JobDetail), **admin_errors(404, 409)},
                 **admin),
    ]


# -- infrastructure -----------------------------------------------------------------------------
class Liveness(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str] = Field(description="`ok`, or why not, per check (database, migrations)")


def infrastructure_endpoints() -> list[Endpoint]:
    infra: dict[str, Any] = {"tag": "infrastructure"}
    return [
        Endpoint("GET", "/healthz", "healthz", summary="Liveness: the process answers",
                 responses={200: Reply("Alive.", Liveness)}, **infra),
        Endpoint("GET", "/readyz", "readyz", summary="Readiness: the database is reachable and migrated",
                 responses={200: Reply("Ready.", Readiness), 503: Reply("Not ready; `checks` says why.", Readiness)},
                 **infra),
        Endpoint("GET", "/metrics", "metrics", summary="Prometheus metrics (text exposition format)",
                 responses={200: Reply("The metrics.", str, media_type="text/plain")}, **infra),
        Endpoint("GET", "/openapi.json", "openapi", summary="This document",
                 responses={200: Reply("The OpenAPI 3.1 document of every API the sidecar serves.",
                                       dict[str, Any])}, **infra),
    ]


def endpoints() -> list[Endpoint]:
    return plugin_endpoints() + admin_endpoints() + infrastructure_endpoints() + list(_registered)


# -- generation ---------------------------------------------------------------------------------
class _Schema:
    """A place in the document that a type's JSON Schema fills once all types are generated."""

    def __init__(self, type_: Any, mode: Literal["validation", "serialization"]) -> None:
        self.type = type_
        self.mode = mode


def _content(type_: Any, media_type: str, mode: Literal["validation", "serialization"]) -> dict[str, Any]:
    return {media_type: {"schema": _Schema(type_, mode)}}


def _parameter(param: Param) -> dict[str, Any]:
    required = True if param.location == "path" else bool(param.required)
    out: dict[str, Any] = {"name": param.name, "in": param.location, "required": required,
                           "schema": _Schema(param.type, "validation")}
    if param.description:
        out["description"] = param.description
    return out


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": endpoint.operation_id, "tags": [endpoint.tag], "summary": endpoint.summary}
    if endpoint.description:
        op["description"] = endpoint.description
    if endpoint.parameters:
        op["parameters"] = [_parameter(p) for p in endpoint.parameters]
    if endpoint.request is not NO_BODY:
        op["requestBody"] = {"required": endpoint.request_required,
                             "content": _content(endpoint.request, endpoint.request_media_type, "validation")}
        if endpoint.request_description:
            op["requestBody"]["description"] = endpoint.request_description
    responses: dict[str, Any] = {}
    for status, reply in endpoint.responses.items():
        out: dict[str, Any] = {"description": reply.description,
                               "headers": {REQUEST_ID_HEADER: {"$ref": f"#/components/headers/{REQUEST_ID_HEADER}"}}}
        for name, description in reply.headers.items():
            out["headers"][name] = {"description": description, "schema": {"type": "string"}}
        if reply.body is not NO_BODY:
            out["content"] = _content(reply.body, reply.media_type, "serialization")
        responses[str(status)] = out
    op["responses"] = responses
    op["security"] = [{endpoint.security: []}] if endpoint.security else []
    return op


def _placeholders(node: Any, found: list[_Schema]) -> None:
    if isinstance(node, _Schema):
        found.append(node)
    elif isinstance(node, dict):
        for value in node.values():
            _placeholders(value, found)
    elif isinstance(node, list):
        for value in node:
            _placeholders(value, found)


def _fill(node: Any, schemas: Callable[[_Schema], dict[str, Any]]) -> Any:
    if isinstance(node, _Schema):
        return schemas(node)
    if isinstance(node, dict):
        return {key: _fill(value, schemas) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill(value, schemas) for value in node]
    return node


def build_document(selected: Iterable[Endpoint] | None = None) -> dict[str, Any]:
    """The OpenAPI document of ``selected`` (default: every endpoint the sidecar serves)."""
    chosen = [_with_path_replies(e) for e in (endpoints() if selected is None else selected)]
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in chosen:
        method = endpoint.method.lower()
        if method in paths.setdefault(endpoint.path, {}):
            raise ValueError(f"{endpoint.method} {endpoint.path} is declared twice")
        paths[endpoint.path][method] = _operation(endpoint)

    # Every type in one pydantic pass: shared models become one component each, named once.
    places: list[_Schema] = []
    _placeholders(paths, places)
    inputs = [(index, place.mode, TypeAdapter(place.type)) for index, place in enumerate(places)]
    generated, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF_TEMPLATE)
    by_place = {id(place): generated[(index, place.mode)] for index, place in enumerate(places)}
    filled_paths = _fill(paths, lambda place: by_place[id(place)])

    used_tags = {endpoint.tag for endpoint in chosen}
    schemes = {endpoint.security for endpoint in chosen if endpoint.security}
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Kill Bill ⇄ Hyperswitch bridge",
            "version": bridge.__version__,
            "description": "Every API the bridge sidecar serves: Kill Bill's payment plugin contract "
                           "(`/plugin/v1`), the operators' admin API (`/admin/v1`) and the infrastructure "
                           "endpoints. Generated from the code that serves them.",
        },
        "tags": [{"name": name, "description": text} for name, text in _TAGS.items() if name in used_tags],
        "paths": filled_paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {name: scheme for name, scheme in _SECURITY_SCHEMES.items() if name in schemes},
            "headers": {REQUEST_ID_HEADER: {
                "description": "The request's id (the caller's, when it sent a valid one); quoted in the logs.",
                "schema": {"type": "string"}}},
        },
    }


def _cached() -> tuple[dict[str, Any], str]:
    with _lock:
        if "document" not in _cache:
            doc = build_document()
            _cache["document"] = (doc, json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
        return _cache["document"]  # type: ignore[no-any-return]


def document() -> dict[str, Any]:
    """The whole document, generated once per process (and again after a registration)."""
    return copy.deepcopy(_cached()[0])


@bp.get("/openapi.json")
def openapi_json() -> Response:
    return current_app.response_class(_cached()[1], mimetype=JSON)
