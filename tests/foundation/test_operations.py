"""Health, readiness, metrics, request ids, JSON logs and redaction."""

from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy import create_engine

from bridge.db import migrate
from bridge.db.engine import session_scope
from bridge.jobs import enqueue
from bridge.logs import configure_logging, looks_like_card_number, redact, register_secret
from bridge.runtime import Runtime
from tests.conftest import ADMIN_TOKEN


def test_healthz(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_when_migrated(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "checks": {"database": "ok", "migrations": "ok"}}


def test_readyz_is_503_until_migrations_are_applied(empty_database_url, settings) -> None:
    from bridge.app import create_app

    runtime = Runtime.from_settings(settings.model_copy(update={"database_url": empty_database_url,
                                                                "auto_migrate": False}))
    client = create_app(runtime=runtime).test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "ok"
    assert "run `bridge db upgrade`" in response.json["checks"]["migrations"]
    migrate.upgrade(runtime.engine)
    assert client.get("/readyz").status_code == 200
    runtime.engine.dispose()


def test_readyz_is_503_when_the_database_is_unreachable(settings) -> None:
    from bridge.app import create_app

    runtime = Runtime.from_settings(settings.model_copy(update={"auto_migrate": False}))
    runtime.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none",
                                   connect_args={"connect_timeout": 2})
    response = create_app(runtime=runtime).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"].startswith("unreachable")


def test_metrics_count_requests_per_route_and_jobs_by_state(client, runtime, admin_headers) -> None:
    client.get("/healthz")
    client.get("/admin/v1/tenants/abc", headers=admin_headers)
    with session_scope(runtime.sessions) as session:
        enqueue(session, "email", {})
    body = client.get("/metrics").get_data(as_text=True)
    assert 'bridge_http_requests_total{method="GET",route="/healthz",status="200"}' in body
    assert 'bridge_http_requests_total{method="GET",route="/admin/v1/tenants/<tenant_id>",status="404"}' in body
    assert 'bridge_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz"}' in body
    assert 'bridge_jobs{state="pending"} 1.0' in body
    assert 'bridge_jobs{state="dead"} 0.0' in body
    assert "bridge_job_queue_lag_seconds" in body


def test_request_id_is_echoed_or_made(client) -> None:
    assert client.get("/healthz", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-Id": "bad id <script>" + "x" * 80}).headers["X-Request-Id"]
    assert len(made) == 32 and made.isalnum()


@pytest.fixture
def log_stream():  # type: ignore[no-untyped-def]
    stream = io.StringIO()
    configure_logging("INFO", "json", stream)
    yield stream
    configure_logging("WARNING", "text")


def test_every_log_line_is_json_with_the_request_id(client, admin_headers, log_stream) -> None:
    client.get("/admin/v1/tenants", headers={**admin_headers, "X-Request-Id": "req-42"})
    logging.getLogger("bridge.test").info("outside a request")
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    assert lines[-1]["request_id"] is None and lines[-1]["message"] == "outside a request"
    assert {"time", "level", "logger", "message"} <= set(lines[-1])
    assert lines[-1]["time"].endswith("+0000")


def test_unhandled_errors_are_logged_with_request_id_and_answered_without_trace(app, log_stream) -> None:
    @app.get("/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("card 4111 1111 1111 1111 exploded")

    response = app.test_client().get("/boom", headers={"X-Request-Id": "req-boom"})
    assert response.status_code == 500
    assert response.json["error"] == "internal_error" and "req-boom" in response.json["detail"]
    assert "4111" not in response.get_data(as_text=True)
    record = json.loads(log_stream.getvalue().splitlines()[-1])
    assert record["request_id"] == "req-boom"
    assert "4111 1111 1111 1111" not in log_stream.getvalue()
    assert "[card redacted]" in record["exc_info"]


def test_redaction_of_secrets_cards_and_sensitive_keys(log_stream) -> None:
    register_secret("registered-secret-value-xyz")
    log = logging.getLogger("bridge.test")
    log.info("calling with registered-secret-value-xyz and api-key: snd_live_123 and card 4242424242424242",
             extra={"body": '{"payment_response_hash_key": "abcdef", "amount": 6540}'})
    log.info("headers %s", {"Authorization": "Bearer tok_123456"})
    output = log_stream.getvalue()
    for leaked in ("registered-secret-value-xyz", "snd_live_123", "4242424242424242", "abcdef", "tok_123456"):
        assert leaked not in output
    first = json.loads(output.splitlines()[0])
    assert first["body"] == '{"payment_response_hash_key": "[redacted]", "amount": 6540}'


def test_tenant_secrets_are_redacted_once_loaded(runtime, admin_headers, client, log_stream) -> None:
    from tests.foundation.factories import SECRETS, tenant_payload

    client.post("/admin/v1/tenants", json=tenant_payload(), headers=admin_headers)
    logging.getLogger("bridge.test").warning("oops: %s / %s", SECRETS["hs_api_key"], ADMIN_TOKEN)
    assert SECRETS["hs_api_key"] not in log_stream.getvalue()
    assert ADMIN_TOKEN not in log_stream.getvalue()


@pytest.mark.parametrize(("text", "expected"), [
    ("4242 4242 4242 4242", True),
    ("4000-0566-5566-5556", True),
    ("order 12345678901234", False),  # fails Luhn: an ordinary reference number
    ("1700000000000", False),
    ("account 08945464-6183-4500-a65f-407849938faf", False),  # a UUID whose digits happen to pass Luhn
    ("card 4242-4242-4242-4242, thanks", True),
])
def test_card_detection_uses_luhn(text: str, expected: bool) -> None:
    assert looks_like_card_number(text) is expected
    assert ("[card redacted]" in redact(text)) is expected
