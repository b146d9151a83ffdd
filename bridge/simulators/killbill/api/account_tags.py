"""Account tags (control tags only: AUTO_PAY_OFF, MANUAL_PAY, …) and account custom fields."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, Response, request

from bridge.simulators.killbill import errors
from bridge.simulators.killbill.api.common import (
    body,
    call_context,
    created,
    no_content,
    state,
    tenant,
)
from bridge.simulators.killbill.model import (
    AUTO_PAY_OFF_ID,
    CONTROL_TAGS,
    CustomField,
    new_id,
)
from bridge.simulators.killbill.serialize import custom_field_json, tag_json
from bridge.simulators.killbill.wire import json_response

bp = Blueprint("kb_account_tags", __name__, url_prefix="/1.0/kb/accounts")


def _uuid_list(values: list[str]) -> list[UUID]:
    try:
        return [UUID(str(v)) for v in values]
    except ValueError as exc:
        raise errors.bad_request(f"Invalid UUID string: {exc}") from exc


@bp.get("/<uuid:account_id>/tags")
def list_tags(account_id: UUID) -> Response:
    state().account(tenant().id, account_id)
    with state().lock:
        return json_response([tag_json(t) for t in state().account_tags(account_id)])


@bp.post("/<uuid:account_id>/tags")
def add_tags(account_id: UUID) -> Response:
    data = body("List<UUID>")
    call_context(account_id)
    account = state().account(tenant().id, account_id)
    definitions = _uuid_list(data if isinstance(data, list) else [])
    for definition_id in definitions:
        if definition_id not in CONTROL_TAGS:
            raise errors.no_tag_definition(definition_id)
    for definition_id in definitions:
        state().payment_methods_engine.add_control_tag(account, definition_id)
    # Always 201, even when the tag was already there (JaxRsResourceBase#createTags).
    return created(f"/1.0/kb/accounts/{account_id}/tags")


@bp.delete("/<uuid:account_id>/tags")
def remove_tags(account_id: UUID) -> Response:
    call_context(account_id)
    account = state().account(tenant().id, account_id)
    definitions = _uuid_list(request.args.getlist("tagDef"))
    if AUTO_PAY_OFF_ID in definitions and account.payment_method_id is None:
        raise errors.tag_cannot_be_removed("AUTO_PAY_OFF", " the account does not have a default payment method")
    sim = state()
    with sim.lock:
        removed = [t for t in sim.account_tags(account_id) if t.definition_id in definitions]
        for tag in removed:
            del sim.tags[tag.id]
    for tag in removed:
        sim.post_event(account.tenant_id, "TAG_DELETION", "TAG", tag.id, account.id, tag.definition_name)
    if any(t.definition_id == AUTO_PAY_OFF_ID for t in removed):
        _resume_parked_payments(account_id)
    return no_content()


def _resume_parked_payments(account_id: UUID) -> None:
    """Removing AUTO_PAY_OFF retries the invoices that auto-pay skipped."""
    sim = state()
    with sim.lock:
        unpaid = [i for i in sim.invoices.values() if i.account_id == account_id and i.balance > 0
                  and not any(r.kind == "ATTEMPT" for r in i.payments)]
    for invoice in unpaid:
        sim.bus.submit(lambda invoice=invoice: sim.invoices_engine.auto_pay(invoice))


# -- custom fields -------------------------------------------------------------------------------------
@bp.get("/<uuid:account_id>/customFields")
def list_custom_fields(account_id: UUID) -> Response:
    state().account(tenant().id, account_id)
    with state().lock:
        fields = [f for f in state().custom_fields.values() if f.object_id == account_id]
        return json_response([custom_field_json(f) for f in fields])


@bp.post("/<uuid:account_id>/customFields")
def add_custom_fields(account_id: UUID) -> Response:
    data = body("List<CustomFieldJson>")
    context = call_context(account_id)
    account = state().account(tenant().id, account_id)
    items = data if isinstance(data, list) else []
    for item in items:
        if not item.get("name"):
            raise errors.bad_request("CustomFieldJson name needs to be set")
        if not item.get("value"):
            raise errors.bad_request("CustomFieldJson value needs to be set")
    created_fields = [CustomField(new_id(), context.tenant_id, account.id, "ACCOUNT", item["name"], item["value"])
                      for item in items]
    with state().lock:
        for field in created_fields:
            state().custom_fields[field.id] = field
    for field in created_fields:
        state().post_event(account.tenant_id, "CUSTOM_FIELD_CREATION", "CUSTOM_FIELD", field.id, account.id)
    return created(f"/1.0/kb/accounts/{account_id}/customFields")


@bp.put("/<uuid:account_id>/customFields")
def modify_custom_fields(account_id: UUID) -> Response:
    data = body("List<CustomFieldJson>")
    call_context(account_id)
    state().account(tenant().id, account_id)
    with state().lock:
        for item in data if isinstance(data, list) else []:
            field_id = UUID(str(item.get("customFieldId"))) if item.get("customFieldId") else None
            field = state().custom_fields.get(field_id) if field_id else None
            if field is None or field.object_id != account_id:
                raise errors.custom_field_missing(field_id)
            if not item.get("value"):
                raise errors.bad_request("CustomFieldJson value needs to be set")
            field.value = item["value"]
    return no_content()


@bp.delete("/<uuid:account_id>/customFields")
def remove_custom_fields(account_id: UUID) -> Response:
    call_context(account_id)
    account = state().account(tenant().id, account_id)
    wanted = set(_uuid_list(request.args.getlist("customField")))
    with state().lock:
        # No id given means every field of the account (JaxRsResourceBase#deleteCustomFields).
        removed = [f for f in state().custom_fields.values()
                   if f.object_id == account_id and (not wanted or f.id in wanted)]
        for field in removed:
            del state().custom_fields[field.id]
    for field in removed:
        state().post_event(account.tenant_id, "CUSTOM_FIELD_DELETION", "CUSTOM_FIELD", field.id, account.id)
    return no_content()

