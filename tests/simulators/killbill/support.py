"""Test support for the Kill Bill client and simulator: a contract-checking HTTP recorder, a stub payment
plugin (the sidecar's ``/plugin/v1``) and a push-notification receiver."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from flask import Flask, Response, request

from bridge.plugin_api.signature import HEADER, SignatureError, verify
from tests.contract import spec as contract

PLUGIN_NAME = "killbill-hyperswitch"
PLUGIN_SECRET = "stub-plugin-secret-0c1d"

# Where the 0.24 server and its swagger disagree; each entry names the source that shows the server's side.
# (method, path template, status the server sends) -> status the swagger declares for the same answer.
SERVER_STATUS_AS_DECLARED = {
    # InvoiceResource#createExternalCharges: Response.status(Status.OK) (killbill-0.24.21), swagger says 201.
    ("POST", "/1.0/kb/invoices/charges/{accountId}", 200): 201,
}


killbill_spec = contract.killbill_spec


@dataclass
class Exchange:
    method: str
    path: str
    query: dict[str, list[str]]
    request_type: str
    request_body: bytes
    status: int
    response_type: str
    response_body: bytes
    location: str | None


class RecordingSession(requests.Session):
    """Keeps every request/response pair so the test can check both sides against the swagger."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        response = super().send(request, **kwargs)
        url = urlsplit(request.url or "")
        body = request.body if isinstance(request.body, bytes) else (request.body or "").encode()
        exchange = Exchange(request.method or "", url.path, parse_qs(url.query, keep_blank_values=True),
                            request.headers.get("Content-Type", ""), body, response.status_code,
                            response.headers.get("Content-Type", ""), response.content,
                            response.headers.get("Location"))
        with self._lock:
            self.exchanges.append(exchange)
        return response


def _decode(content_type: str, raw: bytes) -> Any:
    if not raw:
        return None
    if "json" in content_type:
        return json.loads(raw)
    if content_type.startswith("text/plain"):
        return raw.decode("utf-8")
    return None  # an HTML error page is not what the swagger describes


def _followed_body(exchanges: list[Exchange], index: int) -> tuple[bool, Any]:
    """The body of the GET that read this 201's Location back, if the client made one."""
    target = urlsplit(exchanges[index].location or "").path
    for later in exchanges[index + 1:]:
        if later.method == "GET" and later.path == target and later.status == 200:
            return True, _decode(later.response_type, later.response_body)
    return False, None


def check_exchanges(exchanges: list[Exchange]) -> int:
    """Validate every Kill Bill request and response; return how many exchanges were checked.

    A 201's body schema in the swagger is the object at its Location (the Java client reads it back),
    so a bodiless 201 is checked against the body of the client's follow-up GET.
    """
    checked = 0
    for index, ex in enumerate(exchanges):
        if not ex.path.startswith("/1.0/kb/"):
            continue
        killbill_spec.validate_request(ex.method, ex.path, _decode(ex.request_type, ex.request_body), ex.query)
        template, operation = killbill_spec.operation(ex.method, ex.path)
        status = SERVER_STATUS_AS_DECLARED.get((ex.method, template, ex.status), ex.status)
        body = _decode(ex.response_type, ex.response_body)
        if status == 201 and body is None and ex.location:
            found, body = _followed_body(exchanges, index)
            if not found:
                assert "201" in operation["responses"], f"{ex.method} {template}: 201 not declared"
                checked += 1
                continue
        killbill_spec.validate_response(ex.method, ex.path, status, body)
        checked += 1
    return checked


def check_response(method: str, response: requests.Response) -> None:
    """Validate one raw response (tests that bypass the client)."""
    path = urlsplit(response.request.url or "").path
    killbill_spec.validate_response(method, path, response.status_code,
                                    _decode(response.headers.get("Content-Type", ""), response.content))


# -- the stub payment plugin --------------------------------------------------------------------------
PAYMENT_OPERATIONS = {"authorizePayment": "AUTHORIZE", "capturePayment": "CAPTURE", "purchasePayment": "PURCHASE",
                      "voidPayment": "VOID", "creditPayment": "CREDIT", "refundPayment": "REFUND"}


class StubPlugin:
    """Stands in for the sidecar: verifies X-Bridge-Signature, records each call, answers canned
    PaymentTransactionInfoPlugin JSON. ``statuses`` feeds the next payment answers (default PROCESSED)."""

    def __init__(self, secret: str = PLUGIN_SECRET) -> None:
        self.secret = secret
        self.calls: list[dict[str, Any]] = []
        self.statuses: deque[str] = deque()
        self.delay = 0.0
        self.failure: tuple[int, str, str] | None = None
        self.overrides: dict[str, Any] = {}  # merged into the next payment answer
        self.transactions: dict[str, dict[str, Any]] = {}
        self.gateway_methods: list[dict[str, Any]] = []
        self.signature_failures = 0
        self._lock = threading.Lock()

    # -- what tests look at ---------------------------------------------------------------------------
    def operations(self) -> list[str]:
        with self._lock:
            return [c["operation"] for c in self.calls]

    def last(self, operation: str) -> dict[str, Any]:
        with self._lock:
            return next(c["body"] for c in reversed(self.calls) if c["operation"] == operation)

    def settle(self, transaction_id: Any, status: str) -> None:
        """What getPaymentInfo will report for that transaction from now on."""
        with self._lock:
            row = self.transactions[str(transaction_id)]
            row["status"] = status
            row["properties"] = [{"key": "hsStatus", "value": status.lower(), "isUpdatable": False}]

    # -- the app ----------------------------------------------------------------------------------------
    def app(self) -> Flask:
        app = Flask("stub-plugin")
        app.add_url_rule("/plugin/v1/<operation>", view_func=self._handle, methods=["POST"])
        return app

    def _handle(self, operation: str) -> Response:
        raw = request.get_data()
        try:
            verify(request.headers.get(HEADER), raw, [self.secret])
        except SignatureError as exc:
            with self._lock:
                self.signature_failures += 1
            return _json({"errorType": "SignatureError", "errorMessage": str(exc)}, 401)
        body = json.loads(raw)
        with self._lock:
            self.calls.append({"operation": operation, "body": body})
        if operation in PAYMENT_OPERATIONS:
            return self._payment(operation, body)
        handler = getattr(self, f"_op_{operation}", None)
        return handler(body) if handler else _json({"errorType": "Unsupported", "errorMessage": operation}, 400)

    def _payment(self, operation: str, body: dict[str, Any]) -> Response:
        with self._lock:
            status = self.statuses.popleft() if self.statuses else "PROCESSED"
            failure, self.failure = self.failure, None
            overrides, self.overrides = self.overrides, {}
        if self.delay:
            time.sleep(self.delay)
        if failure is not None:
            return _json({"errorType": failure[1], "errorMessage": failure[2]}, failure[0])
        ptip = {**self._ptip(operation, body, status), **overrides}
        with self._lock:
            self.transactions[body["kbTransactionId"]] = ptip
        return _json(ptip)

    @staticmethod
    def _ptip(operation: str, body: dict[str, Any], status: str) -> dict[str, Any]:
        declined = status == "ERROR"
        return {"kbPaymentId": body["kbPaymentId"], "kbTransactionPaymentId": body["kbTransactionId"],
                "transactionType": PAYMENT_OPERATIONS[operation], "amount": body.get("amount"),
                "currency": body.get("currency"), "createdDate": "2024-01-01T00:00:00.000Z",
                "effectiveDate": "2024-01-01T00:00:00.000Z", "status": status,
                "gatewayError": "Your card was declined." if declined else None,
                "gatewayErrorCode": "card_declined" if declined else None,
                "firstPaymentReferenceId": "pay_" + body["kbTransactionId"][:8],
                "secondPaymentReferenceId": None,
                "properties": [{"key": "hsStatus", "value": status.lower(), "isUpdatable": False}]}

    def _op_getPaymentInfo(self, body: dict[str, Any]) -> Response:
        with self._lock:
            rows = [dict(t) for t in self.transactions.values() if t["kbPaymentId"] == body["kbPaymentId"]]
        return _json(rows)

    def _op_getPaymentMethodDetail(self, body: dict[str, Any]) -> Response:
        return _json({"kbPaymentMethodId": body["kbPaymentMethodId"],
                      "externalPaymentMethodId": "pm_" + body["kbPaymentMethodId"][:8],
                      "isDefaultPaymentMethod": False,
                      "properties": [{"key": "last4", "value": "4242", "isUpdatable": False}]})

    def _op_getPaymentMethods(self, body: dict[str, Any]) -> Response:
        with self._lock:
            return _json(list(self.gateway_methods))

    def _void(self, body: dict[str, Any]) -> Response:
        return _json({})

    _op_addPaymentMethod = _void
    _op_deletePaymentMethod = _void
    _op_setDefaultPaymentMethod = _void
    _op_resetPaymentMethods = _void


def _json(value: Any, status: int = 200) -> Response:
    return Response(json.dumps(value), status=status, mimetype="application/json")


# -- a push notification receiver ----------------------------------------------------------------------
class PushReceiver:
    """Records each POST (monotonic time, headers, raw body); answers ``failures`` non-2xx first, each answer
    after ``delay`` seconds."""

    def __init__(self, failures: int = 0, status: int = 503, delay: float = 0.0) -> None:
        self.received: list[dict[str, Any]] = []
        self.failures = failures
        self.status = status
        self.delay = delay
        self._lock = threading.Lock()

    def app(self) -> Flask:
        app = Flask("push-receiver")
        app.add_url_rule("/callback", view_func=self._receive, methods=["POST"])
        return app

    def _receive(self) -> Response:
        time.sleep(self.delay)
        with self._lock:
            self.received.append({"at": time.monotonic(), "headers": dict(request.headers),
                                  "body": request.get_data(as_text=True)})
            if self.failures > 0:
                self.failures -= 1
                return Response(status=self.status)
        return Response(status=200)

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(r["body"]) for r in self.received]

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.01)
        raise AssertionError(f"expected {count} push notifications, got {len(self.received)}")
