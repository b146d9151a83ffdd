"""schemathesis over the webhook endpoints (the plugin contract and the admin API are fuzzed in
tests/plugin/test_openapi.py, with the same document, checks and settings): no 5xx, no answer outside the
document. About half the cases are signed with the tenant's key (or sent to its real callback token),
so they get past authentication into storing; then the worker processes what was stored."""

from __future__ import annotations

import json
import zlib
from typing import Any

from schemathesis.core import NotSet

from bridge.jobs.catalog import build_worker
from hyperswitch_client import compute_signature
from tests.plugin.test_openapi import CHECKS, FUZZ_SETTINGS, SCHEMA
from tests.security.conftest import Side


def _half(value: Any) -> bool:
    return zlib.crc32(json.dumps(value, sort_keys=True, default=str).encode()) % 2 == 0


def _raw(body: Any) -> bytes:
    if isinstance(body, NotSet):
        return b""
    if isinstance(body, bytes | str):
        return body.encode() if isinstance(body, str) else body
    return json.dumps(body).encode()


@SCHEMA.include(path="/webhooks/hyperswitch").parametrize()
@FUZZ_SETTINGS
def test_fuzz_the_hyperswitch_webhook(case, app, runtime, tenant_a: Side) -> None:  # type: ignore[no-untyped-def]
    body = case.body
    if isinstance(body, dict) and _half(body):
        body["merchant_id"] = tenant_a.merchant["merchant_id"]  # the tenant's envelope, signed with its key
        raw = _raw(body)
        case.headers = {**(case.headers or {}), "X-Webhook-Signature-512": compute_signature(
            raw, tenant_a.merchant["payment_response_hash_key"])}
    else:
        raw = _raw(body)
    response = case.call(app=app, data=raw, headers={"Content-Type": "application/json", **(case.headers or {})})
    case.validate_response(response, checks=CHECKS)
    build_worker(runtime).run_until_idle()  # what was stored is processed without crashing the worker


@SCHEMA.include(path="/webhooks/killbill/{token}").parametrize()
@FUZZ_SETTINGS
def test_fuzz_the_kill_bill_callback(case, app, runtime, tenant_a: Side) -> None:  # type: ignore[no-untyped-def]
    if _half(case.path_parameters):
        case.path_parameters = {"token": tenant_a.callback_token}
    response = case.call(app=app, data=_raw(case.body), headers={"Content-Type": "application/json"})
    case.validate_response(response, checks=CHECKS)
    build_worker(runtime).run_until_idle()
