"""A stateful simulator of Kill Bill 0.24's REST API that drives a sidecar's ``/plugin/v1`` like a payment
plugin (``bridge simulate killbill --port N``; basic auth ``admin``/``password``).

Kill Bill side: ``/1.0/kb/...`` with Kill Bill's paths, status codes, error bodies and field names for
tenants, accounts (and their updates), payment methods, invoices (voids, item adjustments, account
credit), invoice payments, payments, notifyStateChanged, chargebacks, tags and custom fields; retries of
failed automatic invoice payments on the simulator clock; push notifications to the tenant's callback on
Kill Bill's retry schedule; the janitor.

Plugin side: for each tenant, ``KillBillState.configure_plugin(tenant_id, plugin_name, url, secret)`` (or
``PUT /__sim/tenants/<tenantId>/plugins/<pluginName>`` with ``{"url", "secret", "timeout"?}``) routes
that plugin name's payment methods to ``POST <url>/plugin/v1/<operation>``, signed with
``X-Bridge-Signature``. ``__EXTERNAL_PAYMENT__`` is built in.

Controls (also Python methods of ``KillBillState``), outside Kill Bill's API:
``POST /__sim/janitor/run`` ``{"dueOnly"?}`` · ``GET|DELETE /__sim/plugin-calls`` ``?operation=&tenantId=`` ·
``GET /__sim/push-deliveries`` · ``GET /__sim/events`` ``?tenantId=`` ·
``POST /__sim/notify-state-changed/fail-next`` ``{"count", "status"?}`` ·
``GET|POST|DELETE /__sim/clock`` ``{"time"} | {"advanceSeconds"}`` · ``POST /__sim/wait-idle`` ·
``PUT /__sim/config`` (plugin/push timeouts, push and janitor schedules in seconds).

A large billing run (benchmarks/billing_run.py): ``POST /__sim/tenants/<tenantId>/accounts``
``{"accounts": [AccountJson…], "tags"?: ["AUTO_PAY_OFF"]}`` loads thousands of accounts with their control
tags at once and without push notifications (as migrated accounts: their creation was announced long
before); ``POST /__sim/billing-run`` ``{"tenantId", "amount", "accountIds"?, "description"?}`` commits one
invoice per account (every account of the tenant by default) in one go, then sends each INVOICE_CREATION
push and runs auto-pay as a commit does, and answers ``{"committedAt", "invoices": [{"invoiceId",
"accountId", "invoiceNumber", "amount", "currency"}]}``.
"""

from bridge.simulators.killbill.app import create_app, serve
from bridge.simulators.killbill.state import KillBillState, SimConfig

__all__ = ["KillBillState", "SimConfig", "create_app", "serve"]
