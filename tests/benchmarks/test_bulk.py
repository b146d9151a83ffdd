"""benchmarks/bulk.py: its ids, times and payload templates, and (on PostgreSQL) a generated database that the
bridge itself can work on."""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, select, text

import bridge.db.models  # noqa: F401
from benchmarks import bulk
from bridge.db.base import Base
from bridge.db.engine import session_scope
from bridge.db.jobs import Job
from bridge.db.tenancy import Tenant
from bridge.jobs import enqueue
from bridge.payments import ids
from bridge.payments.sweeper import stale_transactions
from bridge.runtime import Runtime
from bridge.settings import Settings
from tests.conftest import MASTER_KEY, requires_postgres


def test_random_ids_are_version_4_uuids_and_hyperswitch_ids_derive_as_the_bridge_derives_them() -> None:
    random_ids = bulk.RandomIds(random.Random(3))
    for _ in range(500):
        value, text_form = random_ids.uuid()
        parsed = uuid.UUID(text_form)
        assert (parsed.int, parsed.version, parsed.variant, str(parsed)) == (value, 4, uuid.RFC_4122, text_form)
        for kind in ids.IdKind:
            derived = random_ids.derive(kind, value)
            assert derived == ids.derive(kind, text_form)
            assert ids.parse(derived) == (kind, parsed)
    assert random_ids.token("pm_", 20).startswith("pm_") and len(random_ids.token("pm_", 20)) == 23


@pytest.mark.parametrize("moment", [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 11, 22, 7, 40, 33, 408030, UTC),
                                    datetime(2025, 12, 31, 23, 59, 59, 999999, UTC)])
def test_timestamps_are_utc_in_copy_and_in_payload_form(moment: datetime) -> None:
    micros = int((moment - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))
    assert bulk.timestamp(micros) == moment.strftime("%Y-%m-%d %H:%M:%S.%f") + "+00"
    assert bulk.iso_time(micros) == moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    assert bulk.timestamp(micros) == bulk.timestamp(micros)  # from the cache the second time


# A Kill Bill push notification as the demo stored it: metaData is a JSON string inside the JSON.
KILLBILL_BODY = ('{"eventType":"PAYMENT_SUCCESS","accountId":"9c524825-b3f1-4f1e-bc61-aa31c4461cee",'
                 '"objectType":"PAYMENT","objectId":"aa5f1d4e-6381-4820-95d8-926438b80b95","metaData":'
                 '"{\\"paymentTransactionId\\":\\"45c7893b-d07f-4173-ad18-c262d97d7f8f\\",\\"amount\\":-49.90,'
                 '\\"currency\\":\\"USD\\",\\"status\\":\\"SUCCESS\\",\\"effectiveDate\\":\\"2026-11-22T07:40:33.379Z\\"}"}')
HYPERSWITCH_BODY = json.dumps({
    "merchant_id": "merchant_sim_demo", "event_id": "evt_Ggy7rK26yourP6nheGbQ", "event_type": "payment_succeeded",
    "content": {"type": "payment_details", "object": {
        "payment_id": "kbp_ixdyso6qp5axhliyyjrns7l7r4", "amount": 4990, "net_amount": 4990, "amount_capturable": 0,
        "shipping_cost": 4990, "currency": "USD", "created": "2026-11-22T07:40:33.926Z",
        "metadata": {"kb_transaction_id": "45c7893b-d07f-4173-ad18-c262d97d7f8f"}}}})
NAMES = {"9c524825-b3f1-4f1e-bc61-aa31c4461cee": "account", "aa5f1d4e-6381-4820-95d8-926438b80b95": "payment",
         "45c7893b-d07f-4173-ad18-c262d97d7f8f": "transaction", "kbp_ixdyso6qp5axhliyyjrns7l7r4": "hs_payment",
         "merchant_sim_demo": "merchant"}
VALUES = {"account": "A", "payment": "P", "transaction": "T", "hs_payment": "kbp_new", "merchant": "merchant_x",
          "minor": "1500", "major": "1500", "currency": "JPY", "iso_time": "2027-01-02T03:04:05.006Z",
          "event_id": "evt_new"}


def test_a_template_puts_the_rows_values_where_the_demos_were() -> None:
    rendered = json.loads(bulk.Template(KILLBILL_BODY, NAMES, minor=4990, major="49.90", currency="USD")
                          .render(VALUES))
    metadata = json.loads(rendered["metaData"])
    assert (rendered["accountId"], rendered["objectId"]) == ("A", "P")
    assert metadata == {"paymentTransactionId": "T", "amount": -1500, "currency": "JPY", "status": "SUCCESS",
                        "effectiveDate": "2027-01-02T03:04:05.006Z"}  # the refund's sign is kept

    payment = json.loads(bulk.Template(HYPERSWITCH_BODY, NAMES, minor=4990, major="49.90", currency="USD")
                         .render(VALUES))
    obj = payment["content"]["object"]
    assert (payment["merchant_id"], payment["event_id"], obj["payment_id"]) == ("merchant_x", "evt_new", "kbp_new")
    assert (obj["amount"], obj["net_amount"], obj["amount_capturable"], obj["currency"]) == (1500, 1500, 0, "JPY")
    assert obj["shipping_cost"] == 4990  # only *amount* keys: another number that happens to be equal stays


def test_copy_text_escapes_what_copy_would_read_as_its_own() -> None:
    template = bulk.Template(KILLBILL_BODY, NAMES, minor=4990, major="49.90", currency="USD")
    raw, copied = template.render(VALUES), template.render_copy(VALUES)
    assert copied == bulk.copy_text(raw) == raw.replace("\\", "\\\\")
    assert bulk.copy_text("a\tb\nc\\d") == "a\\tb\\nc\\\\d"


# -- a generated database (PostgreSQL: COPY) -------------------------------------------------------------------
ROWS = 3_000


@pytest.fixture
def generated(empty_database_url: str) -> Iterator[tuple[str, bulk.Generated]]:
    yield empty_database_url, bulk.generate(empty_database_url, bulk.Volume(ROWS, ROWS), MASTER_KEY)


@requires_postgres
@pytest.mark.slow
def test_a_generated_database_is_one_the_bridge_works_on(generated: tuple[str, bulk.Generated],
                                                         tmp_path: Path) -> None:
    url, result = generated
    assert result.rows["payment_transactions"] == ROWS and result.rows["inbound_events"] == ROWS
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            # The indexes and constraints dropped for the load are back: the schema is the migrations'.
            assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []
            counts = {name: conn.scalar(text(f"SELECT COUNT(*) FROM {name}")) for name in bulk.VOLUME_TABLES}
            assert counts == result.rows
            assert conn.scalar(text("SELECT COUNT(*) FROM payment_transactions t WHERE NOT EXISTS (SELECT 1 FROM "
                                    "payment_transaction_history h WHERE h.transaction_id = t.id "
                                    "AND h.from_status IS NULL)")) == 0
            # Every event has its job; failed processing means a dead job.
            assert conn.scalar(text(
                "SELECT COUNT(*) FROM inbound_events e LEFT JOIN jobs j ON j.id = e.job_id WHERE j.id IS NULL "
                "OR j.dedupe_key <> 'inbound' || chr(58) || e.id || chr(58) || 'first' "
                "OR (e.state = 'failed') <> (j.state = 'dead')")) == 0
            # A Hyperswitch event names a transaction of its tenant, which reconciliation finds by that id.
            assert conn.scalar(text(
                "SELECT COUNT(*) FROM inbound_events e WHERE e.source = 'hyperswitch' AND e.object_id NOT LIKE 'pay\\_%' "
                "AND NOT EXISTS (SELECT 1 FROM payment_transactions t WHERE t.kb_tenant_id = e.kb_tenant_id "
                "AND e.object_id IN (t.hs_payment_id, t.hs_refund_id))")) == 0
            for body, key in conn.execute(text("SELECT body, event_key FROM inbound_events WHERE source = 'killbill'")):
                assert key == hashlib.sha256(body.encode()).hexdigest()
    finally:
        engine.dispose()

    runtime = Runtime.from_settings(Settings(database_url=url, master_keys=[MASTER_KEY],
                                             master_key_file=tmp_path / "unused.key", log_format="text"))
    try:
        with session_scope(runtime.sessions) as session:
            tenants = list(session.scalars(select(Tenant.kb_tenant_id)))
            new_job = enqueue(session, "test.kind", {})  # the sequences are past the generated ids
            assert new_job > session.scalar(select(Job.id).where(Job.id != new_job).order_by(Job.id.desc()).limit(1))
        assert len(tenants) == bulk.Volume(ROWS, ROWS).tenants
        for tenant_id in tenants:
            env = runtime.tenant_env(tenant_id)  # its secrets decrypt under the run's master key
            assert env.creds.hs_api_key.startswith("snd_")
            # Not final yet, but younger than the tenant's sweeper age: the sweeper calls no Hyperswitch for them.
            minutes = env.settings.reconciliation.stale_after_minutes
            assert stale_transactions(env, timedelta(minutes=minutes)) == []
    finally:
        runtime.engine.dispose()
