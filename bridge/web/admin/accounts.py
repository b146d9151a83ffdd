"""``/admin/v1/tenants/<tenant_id>/accounts/<kb_account_id>/…``: a support team's actions on a payor's account,
the same operations as `bridge links account` and `bridge reminders` (:mod:`bridge.invoices.admin`).

- ``POST …/pay-link`` (body optional: ``{"send": true}``) issues the account page link, with the open invoices
  and their total; 404 for an account the tenant's Kill Bill does not have, 409 when nothing is open.
- ``GET …/reminder-opt-out`` says whether the payor opted out of payment reminders, since when;
  ``DELETE …/reminder-opt-out`` resubscribes them (204, also when they were not opted out).

The OpenAPI entries are in :func:`bridge.web.openapi.admin_endpoints`.
"""

from __future__ import annotations

from flask import current_app, jsonify, request

from bridge.invoices import admin
from bridge.tenancy.env import TenantEnv
from bridge.web.admin import bp
from bridge.web.requests import json_body

ACCOUNT = "/tenants/<tenant_id>/accounts/<kb_account_id>"


def _env(tenant_id: str) -> TenantEnv:
    return current_app.extensions["bridge"].tenant_env(tenant_id)  # raises UnknownTenant: 404


@bp.post(f"{ACCOUNT}/pay-link")
def issue_account_pay_link(tenant_id: str, kb_account_id: str):  # type: ignore[no-untyped-def]
    wanted = json_body(admin.PayLinkRequest) if request.get_data() else admin.PayLinkRequest()
    issued = admin.issue_account_link(_env(tenant_id), kb_account_id, send=wanted.send)
    return jsonify(issued.model_dump(mode="json"))


@bp.get(f"{ACCOUNT}/reminder-opt-out")
def show_reminder_opt_out(tenant_id: str, kb_account_id: str):  # type: ignore[no-untyped-def]
    return jsonify(admin.reminder_opt_out(_env(tenant_id), kb_account_id).model_dump(mode="json"))


@bp.delete(f"{ACCOUNT}/reminder-opt-out")
def resubscribe_to_reminders(tenant_id: str, kb_account_id: str):  # type: ignore[no-untyped-def]
    admin.resubscribe(_env(tenant_id), kb_account_id)
    return "", 204
