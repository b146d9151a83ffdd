"""The payment-method operations of the plugin contract (being built: see bridge/payments for the pattern)."""

from __future__ import annotations

from typing import Any

from bridge.plugin_api.errors import PluginApiError
from bridge.tenancy.env import TenantEnv


def _unavailable(env: TenantEnv, call: Any) -> Any:
    raise PluginApiError("UNSUPPORTED_OPERATION", "this operation is not available yet", 501)


add_payment_method = delete_payment_method = get_payment_method_detail = _unavailable
set_default_payment_method = get_payment_methods = search_payment_methods = _unavailable
reset_payment_methods = build_form_descriptor = _unavailable
