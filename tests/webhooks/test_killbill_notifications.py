"""Kill Bill push notifications (reference/killbill.md §B3): found by the callback token, stored raw and
deduplicated before 2xx, processed by the real worker (which re-reads Kill Bill and Hyperswitch), and the
callback registered with Kill Bill by `tenants add` / `tenants verify --register-callback`.

The Kill Bill simulator delivers to the bridge served on loopback, with Kill Bill's payload and its retry
schedule (compressed to tenths of a second).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

import killbill_client as kb_errors
from bridge.cli import cli
from bridge.db.engine import session_scope
from bridge.db.jobs import Job, JobState
from bridge.db.payments import HsCustomer
from bridge.db.tenancy import Tenant
from bridge.db.webhooks import EventSource, EventState, InboundEvent
from bridge.jobs.worker import Worker
from bridge.payment_methods.customers import ensure_customer
from bridge.payments import ids
from bridge.simulators.killbill import create_app as killbill_app
from bridge.simulators.server import BackgroundServer
from bridge.tenancy import service
from bridge.tenancy.schemas import TenantCreate
from bridge.tenancy.verify import CALLBACK_CHECK, callback_target, register_callback
from bridge.webhooks import killbill
from bridge.webhooks.hyperswitch import WEBHOOKS_RECEIVED
from killbill_client import KillBillClient
from killbill_client.constants import (
    AUTO_PAY_OFF,
    EXTERNAL_PAYMENT_PLUGIN,
    MANUAL_PAY,
    TEST,
)
from killbill_client.models import Account, TransactionType
from tests.foundation.factories import tenant_payload
from tests.jobs import drain, fast_worker
from tests.plugin.conftest import (
    KB_API_KEY,
    KB_API_SECRET,
    MERCHANT,
    PLUGIN_SECRET,
    new_account,
    save_card,
)

PLUGIN_NAME = "hyperswitch-bridge"


# -- harness ---------------------------------------------------------------------------------------------
@dataclass
class Switch:
    """Makes the Kill Bill simulator answer 503 to every request while ``down``."""

    down: bool = False


@pytest.fixture
def kb_switch() -> Switch:
    return Switch()


@pytest.fixture
def kb_server(kb_state, kb_switch: Switch) -> Iterator[BackgroundServer]:  # type: ignore[no-untyped-def]
    """The plugin harness's Kill Bill simulator, behind a switch that takes it down."""
    app = killbill_app(kb_state)

    def front(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if kb_switch.down:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"Kill Bill is down"]
        return app(environ, start_response)

    with BackgroundServer(front) as server:
        yield server


@dataclass
class Front:
    """In front of the bridge: fails the first delivery of each distinct notification, either before the
    bridge sees it (``refuse``) or after the bridge stored it, the answer then lost (``lose``)."""

    app: Any
    mode: str | None = None
    seen: set[bytes] = field(default_factory=set)
    answers: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.mode is None or not environ.get("PATH_INFO", "").startswith("/webhooks/killbill/"):
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        with self.lock:
            first = body not in self.seen
            self.seen.add(body)
        if first and self.mode == "lose":
            answer = self.app(environ, lambda status, headers, exc_info=None: None)  # stored, answer dropped
            getattr(answer, "close", lambda: None)()
        if first:
            self.answers.append(503)
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"try again"]
        self.answers.append(200)
        return self.app(environ, start_response)


@dataclass
class Bridge:
    url: str
    front: Front


@pytest.fixture
def bridge(app, runtime, kb_state) -> Iterator[Bridge]:  # type: ignore[no-untyped-def]
    """The bridge on loopback, known as BRIDGE_PUBLIC_URL; Kill Bill's push schedule compressed."""
    kb_state.config.push_retries = tuple(timedelta(seconds=s) for s in (0.05, 0.1, 0.15))
    kb_state.config.push_timeout = 5.0
    front = Front(app)
    with BackgroundServer(front) as server:
        runtime.settings = runtime.settings.model_copy(update={"public_url": server.url})
        yield Bridge(server.url, front)


def token_of(runtime, tenant_id: str) -> str:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        token = service.callback_token(session.get(Tenant, tenant_id), runtime.keyring)
    assert token
    return token


@pytest.fixture
def registered(runtime, tenant_id: str, bridge: Bridge, kb_state) -> str:  # type: ignore[no-untyped-def]
    """The tenant's callback registered with Kill Bill the bridge's own way; returns the URL."""
    with session_scope(runtime.sessions) as session:
        tenant = session.get(Tenant, tenant_id)
        target = callback_target(tenant, runtime.keyring, bridge.url, registering=True)
        creds = service.credentials(tenant, runtime.keyring)
    check = register_callback(creds, target)
    assert check.status == "pass", check
    assert kb_state.wait_idle()  # Kill Bill announces the new callback to it (TENANT_CONFIG_CHANGE)
    return target.url


@pytest.fixture
def worker(runtime) -> Worker:  # type: ignore[no-untyped-def]
    return fast_worker(runtime)


def settled(kb_state, timeout: float = 10.0) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Kill Bill's deliveries once each is delivered or dropped (retries are scheduled a little later)."""
    deadline = time.monotonic() + timeout
    while True:
        assert kb_state.wait_idle()
        deliveries = kb_state.push_deliveries()
        if all(d["delivered"] or d["dropped"] for d in deliveries) or time.monotonic() > deadline:
            return deliveries
        time.sleep(0.02)


def stored(runtime, event_type: str | None = None) -> list[InboundEvent]:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        query = select(InboundEvent).where(InboundEvent.source == EventSource.KILLBILL).order_by(InboundEvent.id)
        if event_type is not None:
            query = query.where(InboundEvent.event_type == event_type)
        rows = list(session.scalars(query))
        session.expunge_all()
    return rows


def count_rows(runtime, model) -> int:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return session.scalar(select(func.count()).select_from(model))


def notification(event_type: str, *, object_type: str | None = "ACCOUNT", object_id: str | None = None,
                 account_id: str | None = None, metadata: dict[str, Any] | None = None) -> bytes:
    """A body the way Kill Bill writes it: compact, in NotificationJson's order, metaData a JSON string."""
    object_id = object_id or str(uuid.uuid4())
    return json.dumps({"eventType": event_type, "accountId": account_id, "objectType": object_type,
                       "objectId": object_id, "metaData": None if metadata is None else json.dumps(metadata)},
                      separators=(",", ":")).encode()


def post(client, token: str, body: bytes):  # type: ignore[no-untyped-def]
    return client.post(f"/webhooks/killbill/{token}", data=body, content_type="application/json; charset=UTF-8",
                       headers={"User-Agent": "KillBill/1.0"})


def received(outcome: str) -> float:
    return WEBHOOKS_RECEIVED.labels("killbill", outcome)._value.get()


# -- receiving ---------------------------------------------------------------------------------------------
def test_a_wrong_token_is_404_and_nothing_is_stored(client, runtime, tenant_id) -> None:
    body = notification("ACCOUNT_CHANGE")
    before = received("unknown_token")
    for token in ["wrong-token", token_of(runtime, tenant_id)[:-1], "x" * 500]:
        response = post(client, token, body)
        assert response.status_code == 404
        assert response.get_json()["error"] == "unknown_callback"
    assert received("unknown_token") == before + 3
    assert count_rows(runtime, InboundEvent) == 0 and count_rows(runtime, Job) == 0


def test_the_token_picks_the_tenant(client, runtime, tenant_id) -> None:
    other = tenant_payload()
    with session_scope(runtime.sessions) as session:
        service.create_tenant(session, TenantCreate.model_validate(other), runtime.keyring)
    body = notification("ACCOUNT_CHANGE")

    for tenant in (tenant_id, other["kb_tenant_id"]):
        assert post(client, token_of(runtime, tenant), body).status_code == 200

    assert sorted(e.kb_tenant_id for e in stored(runtime)) == sorted([tenant_id, other["kb_tenant_id"]])


def test_stored_raw_keyed_by_its_digest_and_acknowledged_without_calling_anyone(client, runtime, tenant_id,
                                                                                monkeypatch) -> None:
    def no_calls(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the request path called out")

    monkeypatch.setattr("requests.Session.send", no_calls)
    account_id = str(uuid.uuid4())
    body = notification("TAG_CREATION", object_type="TAG", account_id=account_id,
                        metadata={"tagDefinitionName": "AUTO_PAY_OFF"})
    token = token_of(runtime, tenant_id)
    before_stored, before_duplicate = received("stored"), received("duplicate")

    first = post(client, token, body)

    assert first.status_code == 200
    assert first.get_json() == {"status": "accepted", "id": first.get_json()["id"]}
    [event] = stored(runtime)
    assert event.id == first.get_json()["id"] and event.kb_tenant_id == tenant_id
    assert event.body.encode() == body  # exactly as received
    assert event.event_key == hashlib.sha256(body).hexdigest()
    assert (event.event_type, event.object_type, event.state) == ("TAG_CREATION", "TAG", EventState.RECEIVED)
    with session_scope(runtime.sessions) as session:
        job = session.get(Job, event.job_id)
        assert (job.kind, job.state, job.payload) == ("inbound_event.process", JobState.PENDING, {"event_id": event.id})

    again = post(client, token, body)  # what Kill Bill's retry sends

    assert again.status_code == 200 and again.get_json() == {"status": "duplicate", "id": event.id}
    assert len(stored(runtime)) == 1 and count_rows(runtime, Job) == 1
    assert (received("stored"), received("duplicate")) == (before_stored + 1, before_duplicate + 1)

    other = post(client, token, body.replace(b"TAG_CREATION", b"TAG_DELETION"))  # another notification
    assert other.get_json()["status"] == "accepted" and len(stored(runtime)) == 2


def test_the_same_body_after_processing_started_is_a_new_notification(client, runtime, tenant_id, worker) -> None:
    """Every ACCOUNT_CHANGE of an account has the same body: once the first one is being (or has been)
    processed, the same body again is a later change, stored and processed again."""
    account_id = str(uuid.uuid4())
    body = notification("ACCOUNT_CHANGE", object_id=account_id, account_id=account_id)
    token = token_of(runtime, tenant_id)
    first = post(client, token, body).get_json()["id"]
    assert post(client, token, body).get_json() == {"status": "duplicate", "id": first}  # still waiting
    with session_scope(runtime.sessions) as session:  # a worker has claimed its job
        session.get(Job, session.get(InboundEvent, first).job_id).state = JobState.RUNNING

    second = post(client, token, body).get_json()

    assert second["status"] == "accepted" and second["id"] != first
    assert post(client, token, body).get_json() == {"status": "duplicate", "id": second["id"]}
    with session_scope(runtime.sessions) as session:
        session.get(Job, session.get(InboundEvent, first).job_id).state = JobState.PENDING
    drain(worker)
    third = post(client, token, body).get_json()  # after both were processed

    assert third["status"] == "accepted"
    events = stored(runtime)
    assert [e.id for e in events] == [first, second["id"], third["id"]]
    digest = hashlib.sha256(body).hexdigest()
    assert [e.event_key for e in events] == [digest, f"{digest}:{first}", f"{digest}:{second['id']}"]
    assert [e.state for e in events] == [EventState.SKIPPED, EventState.SKIPPED, EventState.RECEIVED]


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b'"TAG_CREATION"', b"{}", b'{"objectType":"ACCOUNT"}', b'{"eventType":""}',
    b'{"eventType":7}', b'{"eventType":"ACCOUNT_CHANGE","accountId":7}',
    b'{"eventType":"TENANT_CONFIG_CHANGE","metaData":{"key":"CATALOG"}}',
    b'{"eventType":"PAYMENT_SUCCESS","metaData":"not json"}',
    b'{"eventType":"TENANT_CONFIG_CHANGE","metaData":"[1]"}',
    '{"eventType":"ACCOUNT_CHANGE","objectId":"é"}'.encode("latin-1"),
], ids=["text", "array", "string", "empty", "no-type", "blank-type", "number-type", "number-account",
        "object-metadata", "metadata-not-json", "metadata-not-object", "not-utf8"])
def test_what_is_not_a_notification_is_400_and_not_stored(client, runtime, tenant_id, body: bytes) -> None:
    before = received("malformed")
    response = post(client, token_of(runtime, tenant_id), body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"] == "malformed_notification"
    assert received("malformed") == before + 1
    assert count_rows(runtime, InboundEvent) == 0 and count_rows(runtime, Job) == 0
    assert post(client, "wrong-token", body).status_code == 404  # the token is checked first


@pytest.mark.parametrize("mode", ["refuse", "lose"])
def test_kill_bill_retries_store_one_event_per_notification(mode: str, bridge: Bridge, registered: str, kb, kb_state,
                                                            runtime, worker) -> None:
    """Each notification's first delivery fails (before the bridge stored it, or after, the answer lost);
    Kill Bill retries with the same body and the bridge keeps and processes it once."""
    bridge.front.mode = mode
    account = kb.accounts.create(Account(name="Retry", currency="USD"))
    kb.tags.add_to_account(account.account_id, [AUTO_PAY_OFF])
    kb.tags.add_to_account(account.account_id, [MANUAL_PAY])

    deliveries = [d for d in settled(kb_state) if d["url"] == registered
                  and json.loads(d["body"])["eventType"] != "TENANT_CONFIG_CHANGE"]
    assert len(deliveries) == 3  # ACCOUNT_CREATION and two TAG_CREATION
    assert all([a["status"] for a in d["attempts"]] == [503, 200] and d["delivered"] for d in deliveries)
    events = [e for e in stored(runtime) if e.event_type != "TENANT_CONFIG_CHANGE"]
    assert sorted(e.body for e in events) == sorted(d["body"] for d in deliveries)

    drain(worker)

    events = [e for e in stored(runtime) if e.event_type != "TENANT_CONFIG_CHANGE"]
    # Kill Bill posts from several bus threads: the arrival order is not the order of the events.
    assert sorted((e.event_type, e.state, e.attempts) for e in events) == [
        ("ACCOUNT_CREATION", EventState.SKIPPED, 1), ("TAG_CREATION", EventState.PROCESSED, 1),
        ("TAG_CREATION", EventState.PROCESSED, 1)]
    assert count_rows(runtime, Job) == len(stored(runtime))  # one processing job per event


# -- processing, through the real worker --------------------------------------------------------------------
def test_the_bridge_worker_command_processes_kill_bill_notifications(client, runtime, tenant_id, cli_env) -> None:
    """In its own process, as deployed: `bridge worker --once` knows how to process Kill Bill events."""
    post(client, token_of(runtime, tenant_id), notification("TENANT_CONFIG_CHANGE", object_type="TENANT_KVS",
                                                             metadata={"key": "CATALOG"}))
    bridge_command = str(Path(sys.executable).with_name("bridge"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_")} | cli_env

    done = subprocess.run([bridge_command, "worker", "--once"], env=env, capture_output=True, text=True, timeout=60,
                          check=False)

    assert done.returncode == 0, done.stderr
    [event] = stored(runtime)
    assert (event.state, event.outcome) == (EventState.PROCESSED, "tenant configuration CATALOG changed")


def test_unknown_types_are_skipped_as_not_used(client, runtime, tenant_id, worker) -> None:
    for event_type in ("SUBSCRIPTION_CREATION", "ACCOUNT_CREATION", "SOMETHING_NEW"):
        assert post(client, token_of(runtime, tenant_id), notification(event_type)).status_code == 200

    drain(worker)

    events = stored(runtime)
    assert [e.state for e in events] == [EventState.SKIPPED] * 3
    assert all(e.outcome == f"{e.event_type} notifications are not used by the bridge" for e in events)


def test_tenant_config_change_with_the_bare_key_real_kill_bill_sends(client, runtime, tenant_id, worker) -> None:
    body = b'{"eventType":"TENANT_CONFIG_CHANGE","accountId":null,"objectType":"TENANT_KVS",' \
           b'"objectId":"b2af0e8f-408e-4da5-b831-2511d6b1a6d0","metaData":"PLUGIN_CONFIG_hyperswitch-bridge"}'
    assert post(client, token_of(runtime, tenant_id), body).status_code == 200

    drain(worker)

    [event] = stored(runtime, "TENANT_CONFIG_CHANGE")
    assert event.state is EventState.PROCESSED
    assert event.outcome == "tenant configuration PLUGIN_CONFIG_hyperswitch-bridge changed"


def test_tenant_config_change_notes_the_key(bridge: Bridge, registered: str, runtime, worker) -> None:
    drain(worker)

    [event] = stored(runtime, "TENANT_CONFIG_CHANGE")  # sent by Kill Bill when the callback was registered
    assert event.state is EventState.PROCESSED
    assert event.outcome == "tenant configuration PUSH_NOTIFICATION_CB changed"


def test_tag_events_report_the_accounts_control_tags(bridge: Bridge, registered: str, kb, kb_state, runtime,
                                                     worker) -> None:
    account = kb.accounts.create(Account(name="Tags", currency="USD"))

    def change(action: Callable[[], Any]) -> InboundEvent:
        action()
        drain(worker, kb_state)
        # The tag's push: Kill Bill's bus threads may deliver the account's own creation push after it.
        return [e for e in stored(runtime) if e.event_type.startswith("TAG_")][-1]

    added = change(lambda: kb.tags.add_to_account(account.account_id, [AUTO_PAY_OFF]))
    assert (added.event_type, added.state) == ("TAG_CREATION", EventState.PROCESSED)
    assert added.outcome == (f"AUTO_PAY_OFF added to account {account.account_id}; it now has AUTO_PAY_OFF: "
                             "Kill Bill will not pay its invoices automatically")

    both = change(lambda: kb.tags.add_to_account(account.account_id, [MANUAL_PAY]))
    assert both.outcome.endswith("it now has AUTO_PAY_OFF and MANUAL_PAY: Kill Bill will not pay its invoices "
                                 "automatically")

    kb.payment_methods.add(account.account_id, EXTERNAL_PAYMENT_PLUGIN, is_default=True)  # needed to remove it
    removed = change(lambda: kb.tags.remove_from_account(account.account_id, [AUTO_PAY_OFF]))
    assert (removed.event_type, removed.state) == ("TAG_DELETION", EventState.PROCESSED)
    assert removed.outcome == f"AUTO_PAY_OFF removed from account {account.account_id}; it now has MANUAL_PAY: " \
                              "Kill Bill will not pay its invoices automatically"

    other = change(lambda: kb.tags.add_to_account(account.account_id, [TEST]))
    assert (other.state, other.outcome) == (EventState.SKIPPED, "tag TEST is not used by the bridge")


def test_the_payload_is_only_a_hint_tags_are_read_from_kill_bill(client, kb, runtime, tenant_id, worker) -> None:
    """A TAG_CREATION processed after the tag was removed again reports what Kill Bill has now."""
    account = kb.accounts.create(Account(name="Hint", currency="USD"))
    body = notification("TAG_CREATION", object_type="TAG", account_id=str(account.account_id),
                        metadata={"tagDefinitionName": "MANUAL_PAY"})
    post(client, token_of(runtime, tenant_id), body)

    drain(worker)

    [event] = stored(runtime)
    assert event.state is EventState.PROCESSED
    assert event.outcome == (f"MANUAL_PAY added to account {account.account_id}; it has neither AUTO_PAY_OFF nor "
                             "MANUAL_PAY: Kill Bill pays its invoices automatically")


def _rename(kb_state, tenant_id: str, account_id: UUID, **fields: str) -> None:  # type: ignore[no-untyped-def]
    """Change the account in Kill Bill (the simulator has no account update call) and let it notify."""
    with kb_state.lock:
        kb_state.accounts[account_id].fields.update(fields)
    kb_state.post_event(UUID(tenant_id), "ACCOUNT_CHANGE", "ACCOUNT", account_id, account_id)


@pytest.fixture
def customer(runtime, kb, tenant_id) -> tuple[UUID, str]:  # type: ignore[no-untyped-def]
    """An account with its Hyperswitch customer (made the payment-methods way); (account id, customer id)."""
    account = new_account(kb)
    customer_id = ensure_customer(runtime.tenant_env(tenant_id), account.account_id)
    return account.account_id, customer_id


def test_account_change_updates_the_hyperswitch_customer(bridge: Bridge, registered: str, customer, kb_state, hs,
                                                         runtime, tenant_id, worker) -> None:
    account_id, customer_id = customer
    assert hs.customers.retrieve(customer_id).email == "ada@example.test"

    _rename(kb_state, tenant_id, account_id, name="Ada King", email="ada.king@example.test", phone="5550100")
    drain(worker, kb_state)

    [event] = stored(runtime, "ACCOUNT_CHANGE")
    assert event.state is EventState.PROCESSED
    assert event.outcome == f"customer {customer_id} updated from account {account_id}: email, name, phone"
    updated = hs.customers.retrieve(customer_id)
    assert (updated.name, updated.email, updated.phone) == ("Ada King", "ada.king@example.test", "5550100")

    # Kill Bill changes something the customer does not carry (the account's notes): nothing to copy.
    _rename(kb_state, tenant_id, account_id, notes="VIP")
    drain(worker, kb_state)
    assert stored(runtime, "ACCOUNT_CHANGE")[-1].outcome == \
        f"customer {customer_id} already matches account {account_id}"


def test_account_change_without_a_customer_is_skipped(client, kb, runtime, tenant_id, worker, hs_state) -> None:
    account = new_account(kb)
    body = notification("ACCOUNT_CHANGE", object_id=str(account.account_id), account_id=str(account.account_id))
    post(client, token_of(runtime, tenant_id), body)

    drain(worker)

    [event] = stored(runtime)
    assert event.state is EventState.SKIPPED
    assert event.outcome.startswith(f"account {account.account_id} has no Hyperswitch customer yet")
    assert count_rows(runtime, HsCustomer) == 0


def test_kill_bill_down_during_account_change_fails_then_recovers(client, customer, kb_switch: Switch, kb_state,
                                                                    hs, runtime, tenant_id, worker) -> None:
    account_id, customer_id = customer
    with kb_state.lock:
        kb_state.accounts[account_id].fields.update(name="Ada Byron")
    body = notification("ACCOUNT_CHANGE", object_id=str(account_id), account_id=str(account_id))
    post(client, token_of(runtime, tenant_id), body)
    kb_switch.down = True

    assert worker.run_once()

    [event] = stored(runtime)
    assert event.state is EventState.FAILED and event.attempts == 1
    assert event.outcome == "ServerError: HTTP 503: Kill Bill is down"
    with session_scope(runtime.sessions) as session:
        job = session.get(Job, event.job_id)
        assert job.state is JobState.PENDING and job.attempts == 1 and job.last_error
    assert hs.customers.retrieve(customer_id).name == "Ada Lovelace"

    kb_switch.down = False
    drain(worker)

    [event] = stored(runtime)
    assert event.state is EventState.PROCESSED and event.attempts == 2
    assert hs.customers.retrieve(customer_id).name == "Ada Byron"
    with session_scope(runtime.sessions) as session:
        assert session.get(Job, event.job_id).state is JobState.DONE


@dataclass
class Payments:
    """An account paying through the bridge: Kill Bill's simulator calls the bridge's plugin contract."""

    kb: KillBillClient
    account_id: UUID
    mandate_id: str

    def purchase(self, amount: str) -> tuple[UUID, UUID]:
        """(payment id, transaction id); a declined purchase is not an error here."""
        try:
            payment = self.kb.payments.create(self.account_id, TransactionType.PURCHASE, Decimal(amount))
        except kb_errors.PaymentTransactionError as exc:
            payment = self.kb.payments.get(exc.payment_id)  # type: ignore[arg-type]
        return payment.payment_id, payment.transactions[-1].transaction_id  # type: ignore[index,return-value]


@pytest.fixture
def payments(bridge: Bridge, registered: str, kb, kb_state, hs, tenant_id) -> Payments:  # type: ignore[no-untyped-def]
    kb_state.configure_plugin(UUID(tenant_id), PLUGIN_NAME, bridge.url, PLUGIN_SECRET)
    account = new_account(kb)
    _pm, mandate_id = save_card(hs, ids.customer_id(account.account_id))
    kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True,
                           plugin_info_properties={"hsMandateId": mandate_id})
    assert kb_state.wait_idle()
    return Payments(kb, account.account_id, mandate_id)


def test_payment_pending_is_not_a_failure_and_its_refresh_reaches_kill_bill(payments: Payments, kb, kb_state,
                                                                            hs_state, runtime, worker) -> None:
    hs_state.set_mandate_behaviour(payments.mandate_id, "processing")
    payment_id, txn_id = payments.purchase("12.00")
    assert kb.payments.get(payment_id).transactions[-1].status == "PENDING"
    assert kb_state.wait_idle()
    [pending] = stored(runtime, "PAYMENT_SUCCESS")  # Kill Bill sends PAYMENT_SUCCESS for PENDING too
    assert json.loads(json.loads(pending.body)["metaData"])["status"] == "PENDING"
    # Hyperswitch finishes; the notification is what makes the bridge look again (no webhook here).
    hs_state.settle_payment(ids.payment_id(txn_id), "succeeded", merchant_id=MERCHANT["merchant_id"], notify=False)

    drain(worker, kb_state)

    first, second = stored(runtime, "PAYMENT_SUCCESS")
    assert first.id == pending.id and first.state is EventState.PROCESSED
    assert first.outcome == (f"Kill Bill: PURCHASE {txn_id} PENDING (pending, not a failure); "
                             f"bridge: PURCHASE {txn_id} PROCESSED")
    assert kb.payments.get(payment_id).transactions[-1].status == "SUCCESS"  # told through notifyStateChanged
    assert second.state is EventState.PROCESSED  # Kill Bill's own notification of that success
    assert second.outcome == f"Kill Bill: PURCHASE {txn_id} SUCCESS (succeeded); bridge: PURCHASE {txn_id} PROCESSED"
    assert not stored(runtime, "PAYMENT_FAILED")


def test_payment_pending_still_pending_stays_pending(payments: Payments, kb, kb_state, hs_state, runtime,
                                                     worker) -> None:
    hs_state.set_mandate_behaviour(payments.mandate_id, "processing")
    payment_id, txn_id = payments.purchase("3.00")

    drain(worker, kb_state)

    [event] = stored(runtime, "PAYMENT_SUCCESS")
    assert event.outcome == (f"Kill Bill: PURCHASE {txn_id} PENDING (pending, not a failure); "
                             f"bridge: PURCHASE {txn_id} PENDING")
    assert kb.payments.get(payment_id).transactions[-1].status == "PENDING"
    with session_scope(runtime.sessions) as session:
        assert session.scalar(select(func.count()).select_from(Job).where(Job.kind == "killbill.sync_transaction")) == 0


def test_payment_failed(payments: Payments, kb, kb_state, hs_state, runtime, worker) -> None:
    hs_state.set_mandate_behaviour(payments.mandate_id, "decline")
    payment_id, txn_id = payments.purchase("9.99")
    assert kb.payments.get(payment_id).transactions[-1].status == "PAYMENT_FAILURE"

    drain(worker, kb_state)

    [event] = stored(runtime, "PAYMENT_FAILED")
    assert event.state is EventState.PROCESSED
    assert event.outcome == (f"Kill Bill: PURCHASE {txn_id} PAYMENT_FAILURE (failed); "
                             f"bridge: PURCHASE {txn_id} ERROR")
    assert not stored(runtime, "PAYMENT_SUCCESS")


def test_a_payment_the_bridge_does_not_carry_is_skipped(bridge: Bridge, registered: str, kb, kb_state, runtime,
                                                        worker) -> None:
    account = new_account(kb)
    kb.payment_methods.add(account.account_id, EXTERNAL_PAYMENT_PLUGIN, is_default=True)
    payment = kb.payments.create(account.account_id, TransactionType.PURCHASE, Decimal(5))

    drain(worker, kb_state)

    [event] = stored(runtime, "PAYMENT_SUCCESS")
    assert event.state is EventState.SKIPPED
    assert event.outcome.endswith(f"payment {payment.payment_id} is not carried by the bridge "
                                  "(another payment plugin's)")
    assert "SUCCESS (succeeded)" in event.outcome


def test_other_capabilities_register_their_handlers(client, runtime, tenant_id, worker, monkeypatch) -> None:
    monkeypatch.setattr(killbill, "KILLBILL_HANDLERS", dict(killbill.KILLBILL_HANDLERS))
    seen: list[killbill.Notification] = []

    def invoice_created(env, note: killbill.Notification):  # type: ignore[no-untyped-def]
        seen.append(note)
        return killbill.EventResult.processed(f"invoice {note.object_id} for tenant {env.tenant_id}")

    # The invoice flow registers the real INVOICE_* handlers; this test brings its own registry.
    monkeypatch.setattr(killbill, "KILLBILL_HANDLERS", {k: v for k, v in killbill.KILLBILL_HANDLERS.items()
                                                         if not k.startswith("INVOICE_")})
    killbill.register_handler("INVOICE_CREATION", invoice_created)
    killbill.register_handler("INVOICE_CREATION", invoice_created)  # the same one again is harmless
    with pytest.raises(ValueError, match="INVOICE_CREATION notifications already go to"):
        killbill.register_handler("INVOICE_CREATION", lambda env, note: None)  # type: ignore[arg-type,return-value]
    invoice_id = str(uuid.uuid4())
    post(client, token_of(runtime, tenant_id), notification("INVOICE_CREATION", object_type="INVOICE",
                                                             object_id=invoice_id))

    drain(worker)

    [note] = seen
    assert (note.event_type, note.object_type, note.object_id) == ("INVOICE_CREATION", "INVOICE", invoice_id)
    assert stored(runtime)[0].outcome == f"invoice {invoice_id} for tenant {tenant_id}"


# -- registering the callback ---------------------------------------------------------------------------------
@pytest.fixture
def add_cli(cli_env, kb_tenant_id, kb_server, hs_server):  # type: ignore[no-untyped-def]
    """`bridge tenants add` for the simulators' tenant, with BRIDGE_PUBLIC_URL unless told otherwise."""
    runner = CliRunner()

    def invoke(*extra: str, public_url: str | None = "https://bridge.example.test", **overrides: str):  # type: ignore[no-untyped-def]
        env = {**cli_env, "BRIDGE_TENANT_KB_API_SECRET": KB_API_SECRET, "BRIDGE_TENANT_KB_PASSWORD": "password",
               "BRIDGE_TENANT_HS_API_KEY": MERCHANT["api_key"],
               "BRIDGE_TENANT_HS_WEBHOOK_SECRET": MERCHANT["payment_response_hash_key"]}
        if public_url:
            env["BRIDGE_PUBLIC_URL"] = public_url
        env.update(overrides)
        args = ["tenants", "add", "--tenant-id", kb_tenant_id, "--name", "Sim", "--killbill-url", kb_server.url,
                "--kb-api-key", KB_API_KEY, "--kb-username", "admin", "--hs-base-url", hs_server.url,
                "--merchant-id", MERCHANT["merchant_id"], "--profile-id", MERCHANT["profile_id"], *extra]
        return runner.invoke(cli, args, env=env)

    return invoke


def verify_cli(cli_env, tenant_id: str, *args: str, public_url: str | None = "https://bridge.example.test"):  # type: ignore[no-untyped-def]
    env = {**cli_env, **({"BRIDGE_PUBLIC_URL": public_url} if public_url else {})}
    return CliRunner().invoke(cli, ["tenants", "verify", tenant_id, *args], env=env)


def warnings(result) -> str:  # type: ignore[no-untyped-def]
    """What the command wrote on stderr, without the in-process simulators' request logs."""
    return "".join(line for line in result.stderr.splitlines(keepends=True) if " werkzeug " not in line)


def check_lines(output: str) -> dict[str, tuple[str, str]]:
    lines = {}
    for line in output.splitlines():
        status, _, rest = line.partition("  ")
        name, _, detail = rest.partition(": ")
        lines[name] = (status.strip(), detail)
    return lines


def test_add_registers_the_callback_with_kill_bill(add_cli, kb, kb_tenant_id, runtime, client) -> None:
    result = add_cli("--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["kb_tenant_id"] == kb_tenant_id and data["callback"]["status"] == "registered"
    token = token_of(runtime, kb_tenant_id)
    assert kb.tenants.get_push_callback() == f"https://bridge.example.test/webhooks/killbill/{token}"
    assert token not in result.output and data["callback"]["detail"].endswith(f"/webhooks/killbill/****{token[-4:]}")
    assert warnings(result) == ""
    # The URL Kill Bill was given reaches this tenant.
    assert post(client, token, notification("ACCOUNT_CHANGE")).status_code == 200


def test_add_can_leave_the_callback_alone(add_cli, kb, kb_tenant_id) -> None:
    result = add_cli("--no-register-callback")

    assert result.exit_code == 0, result.output
    assert re.search(r"^push callback +skipped: not registered, as asked; to register it: bridge tenants verify "
                     rf"{kb_tenant_id} --register-callback", result.stdout, re.MULTILINE), result.stdout
    assert warnings(result) == ""
    assert kb.tenants.get_push_callback() is None


def test_add_without_a_public_url_does_not_guess_one(add_cli, kb, kb_tenant_id) -> None:
    result = add_cli("--json", public_url=None)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["callback"]["status"] == "skipped"
    assert warnings(result).startswith("warning: Kill Bill push callback: not registered: BRIDGE_PUBLIC_URL is not set")
    assert f"bridge tenants verify {kb_tenant_id} --register-callback" in warnings(result)
    assert kb.tenants.get_push_callback() is None


def test_a_registration_failure_keeps_the_mapping_and_says_how_to_retry(add_cli, kb, kb_tenant_id, cli_env) -> None:
    result = add_cli("--json", BRIDGE_TENANT_KB_PASSWORD="not-the-password")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["callback"]["status"] == "failed"
    assert warnings(result).startswith("warning: Kill Bill push callback: the mapping is stored, but the callback is "
                                       "not registered: registering the callback: Kill Bill refused")
    assert f"bridge tenants verify {kb_tenant_id} --register-callback" in warnings(result)
    assert kb.tenants.get_push_callback() is None
    shown = CliRunner().invoke(cli, ["tenants", "show", kb_tenant_id], env=cli_env)
    assert shown.exit_code == 0 and kb_tenant_id in shown.output


def test_add_does_not_replace_another_receivers_callback_verify_does(add_cli, kb, kb_tenant_id, runtime,
                                                                     cli_env) -> None:
    kb.tenants.register_push_callback("https://other.example.test/hooks/s3cr3t-of-theirs")

    added = add_cli("--json")

    assert added.exit_code == 0
    callback = json.loads(added.stdout)["callback"]
    assert callback["status"] == "failed" and "https://other.example.test/…" in callback["detail"]
    assert "s3cr3t-of-theirs" not in added.output and "to replace it:" in callback["detail"]
    assert kb.tenants.get_push_callback() == "https://other.example.test/hooks/s3cr3t-of-theirs"

    checked = verify_cli(cli_env, kb_tenant_id)
    assert checked.exit_code == 1
    status, detail = check_lines(checked.stdout)[CALLBACK_CHECK]
    assert status == "FAIL" and detail.startswith("Kill Bill posts the tenant's notifications elsewhere "
                                                  "(https://other.example.test/…), not to the bridge")

    replaced = verify_cli(cli_env, kb_tenant_id, "--register-callback")
    assert replaced.exit_code == 0, replaced.output
    status, detail = check_lines(replaced.stdout)[CALLBACK_CHECK]
    assert status == "PASS" and detail.endswith("(replacing https://other.example.test/…)")
    assert kb.tenants.get_push_callback() == \
        f"https://bridge.example.test/webhooks/killbill/{token_of(runtime, kb_tenant_id)}"


def test_verify_checks_the_callback_read_only(add_cli, kb, kb_tenant_id, cli_env) -> None:
    assert add_cli("--no-register-callback").exit_code == 0

    missing = verify_cli(cli_env, kb_tenant_id)
    assert missing.exit_code == 1
    lines = check_lines(missing.stdout)
    assert list(lines) == ["hyperswitch api key and profile", "hyperswitch webhook secret",
                           "kill bill user and tenant", "kill bill api secret", CALLBACK_CHECK]
    assert lines[CALLBACK_CHECK][0] == "FAIL"
    assert lines[CALLBACK_CHECK][1].startswith("Kill Bill has no push callback for the tenant")
    assert kb.tenants.get_push_callback() is None  # read-only

    registered = verify_cli(cli_env, kb_tenant_id, "--register-callback")
    assert registered.exit_code == 0, registered.output
    assert check_lines(registered.stdout)[CALLBACK_CHECK][1].startswith("registered: Kill Bill posts")

    ok = verify_cli(cli_env, kb_tenant_id)
    assert ok.exit_code == 0 and check_lines(ok.stdout)[CALLBACK_CHECK][0] == "PASS"

    moved = verify_cli(cli_env, kb_tenant_id, public_url="https://new-address.example.test")
    assert moved.exit_code == 1
    assert "(BRIDGE_PUBLIC_URL changed?)" in check_lines(moved.stdout)[CALLBACK_CHECK][1]

    without_url = verify_cli(cli_env, kb_tenant_id, public_url=None)
    assert without_url.exit_code == 0 and CALLBACK_CHECK not in check_lines(without_url.stdout)
    refused = verify_cli(cli_env, kb_tenant_id, "--register-callback", public_url=None)
    assert refused.exit_code == 1
    assert check_lines(refused.stdout)[CALLBACK_CHECK] == (
        "FAIL", ("BRIDGE_PUBLIC_URL is not set, so the bridge cannot tell Kill Bill where to post; set it to the "
                 "address Kill Bill reaches the bridge at"))


def test_verify_skips_the_callback_when_kill_bill_refuses_the_tenant(add_cli, kb_tenant_id, cli_env) -> None:
    assert add_cli("--no-register-callback", BRIDGE_TENANT_KB_PASSWORD="wrong-password").exit_code == 0

    result = verify_cli(cli_env, kb_tenant_id, "--register-callback")

    assert result.exit_code == 1
    assert check_lines(result.stdout)[CALLBACK_CHECK] == ("SKIP", "needs the Kill Bill tenant and secret")


def test_the_admin_api_registers_on_create_and_on_verify(client, admin_headers, runtime, kb, kb_tenant_id, kb_server,
                                                         hs_server) -> None:
    runtime.settings = runtime.settings.model_copy(update={"public_url": "https://bridge.example.test"})
    payload = tenant_payload(kb_tenant_id=kb_tenant_id, killbill_url=kb_server.url, kb_api_key=KB_API_KEY,
                             kb_api_secret=KB_API_SECRET, kb_password="password", hs_base_url=hs_server.url,
                             hs_merchant_id=MERCHANT["merchant_id"], hs_profile_id=MERCHANT["profile_id"],
                             hs_api_key=MERCHANT["api_key"], hs_webhook_secret=MERCHANT["payment_response_hash_key"])

    refused = client.post("/admin/v1/tenants?register_callback=maybe", json=payload, headers=admin_headers)
    assert refused.status_code == 400 and "register_callback" in refused.get_json()["detail"]
    assert count_rows(runtime, Tenant) == 0

    created = client.post("/admin/v1/tenants?register_callback=false", json=payload, headers=admin_headers)
    assert created.status_code == 201
    assert created.get_json()["callback"]["status"] == "skipped" and kb.tenants.get_push_callback() is None

    checked = client.post(f"/admin/v1/tenants/{kb_tenant_id}/verify", headers=admin_headers).get_json()
    assert checked["ok"] is False and checked["checks"][-1]["name"] == CALLBACK_CHECK
    assert checked["checks"][-1]["status"] == "fail"

    registered = client.post(f"/admin/v1/tenants/{kb_tenant_id}/verify?register_callback=true", headers=admin_headers)
    assert registered.status_code == 200 and registered.get_json()["ok"] is True
    token = token_of(runtime, kb_tenant_id)
    assert kb.tenants.get_push_callback() == f"https://bridge.example.test/webhooks/killbill/{token}"
    assert token not in registered.get_data(as_text=True)

    assert client.delete(f"/admin/v1/tenants/{kb_tenant_id}", headers=admin_headers).status_code == 204
    kb.tenants.delete_push_callback()
    again = client.post("/admin/v1/tenants", json=payload, headers=admin_headers)  # registering is the default
    assert again.status_code == 201 and again.get_json()["callback"]["status"] == "registered"
    assert kb.tenants.get_push_callback() == \
        f"https://bridge.example.test/webhooks/killbill/{token_of(runtime, kb_tenant_id)}"
