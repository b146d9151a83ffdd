"""``/1.0/kb/paymentMethods/{id}``: read and delete."""

from __future__ import annotations

from uuid import UUID

from flask import Blueprint, Response

from bridge.simulators.killbill.api.common import (
    call_context,
    flag,
    no_content,
    plugin_properties,
    state,
    tenant,
)
from bridge.simulators.killbill.api.views import payment_method_view
from bridge.simulators.killbill.wire import json_response

bp = Blueprint("kb_payment_methods", __name__, url_prefix="/1.0/kb/paymentMethods")


@bp.get("/<uuid:pm_id>")
def get_payment_method(pm_id: UUID) -> Response:
    pm = state().payment_method(tenant().id, pm_id, include_deleted=flag("includedDeleted"))
    return json_response(payment_method_view(pm, flag("withPluginInfo")))


@bp.delete("/<uuid:pm_id>")
def delete_payment_method(pm_id: UUID) -> Response:
    pm = state().payment_method(tenant().id, pm_id)
    context = call_context(pm.account_id)
    state().payment_methods_engine.delete(pm, flag("deleteDefaultPmWithAutoPayOff"), flag("forceDefaultPmDeletion"),
                                          plugin_properties(), context)
    return no_content()
