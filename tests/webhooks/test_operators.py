"""Operators and the inbox: `bridge webhooks list|show|replay` and ``/admin/v1/webhooks``.

Events arrive the real way (Kill Bill notifications posted to the tenant's callback) and are processed
by the real worker; a handler registered for the test decides whether processing fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner

from bridge.cli import cli
from bridge.db.base import utcnow
from bridge.db.engine import session_scope
from bridge.db.jobs import Job, JobState
from bridge.db.webhooks import EventSource, EventState, InboundEvent
from bridge.jobs.catalog import build_registry
from bridge.jobs.queue import RetryPolicy
from bridge.jobs.worker import Worker, WorkerConfig
from bridge.webhooks import inbox, killbill
from bridge.webhooks.inbox import EventResult
from tests.webhooks.test_killbill_notifications import (  # noqa: F401  (worker is a fixture)
    drain,
    notification,
    post,
    stored,
    token_of,
    worker,
)


@pytest.fixture
def flaky(monkeypatch) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    """FLAKY_TEST notifications fail while ``failing``; then they are processed."""
    control = {"failing": True}

    def handler(env, note):  # type: ignore[no-untyped-def]
        if control["failing"]:
            raise RuntimeError("the flaky handler failed")
        return EventResult.processed(f"flaky {note.object_id} done")

    monkeypatch.setitem(killbill.KILLBILL_HANDLERS, "FLAKY_TEST", handler)
    return control


@pytest.fixture
def send(client, runtime, tenant_id) -> Callable[..., int]:  # type: ignore[no-untyped-def]
    token = token_of(runtime, tenant_id)

    def deliver(event_type: str, **fields: Any) -> int:
        response = post(client, token, notification(event_type, **fields))
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["id"]

    return deliver


@pytest.fixture
def bridge_cli(cli_env: dict[str, str]) -> Callable[..., Any]:
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(cli, ["webhooks", *args], env=cli_env)

    return invoke


@pytest.fixture
def patient(runtime) -> Worker:  # type: ignore[no-untyped-def]
    """A worker whose failed jobs wait two hours for their next attempt."""
    return Worker(runtime.sessions, build_registry(),
                  WorkerConfig(policy=RetryPolicy(max_attempts=20, base_seconds=7200, max_seconds=7200)),
                  services=runtime)


@pytest.fixture
def inbox_of_four(send, flaky, runtime, tenant_id, patient) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """One processed, one skipped, one failed (its job waiting an hour for the next attempt), one just
    received."""
    ids = {"processed": send("TENANT_CONFIG_CHANGE", object_type="TENANT_KVS", metadata={"key": "CATALOG"}),
           "skipped": send("SUBSCRIPTION_CREATION", object_type="SUBSCRIPTION"),
           "failed": send("FLAKY_TEST", object_id="flaky-1")}
    for _ in range(3):
        assert patient.run_once()
    ids["received"] = send("INVOICE_CREATION", object_type="INVOICE")
    states = {e.id: e.state for e in stored(runtime)}
    assert states == {ids["processed"]: EventState.PROCESSED, ids["skipped"]: EventState.SKIPPED,
                      ids["failed"]: EventState.FAILED, ids["received"]: EventState.RECEIVED}
    return ids


def event(runtime, event_id: int) -> InboundEvent:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        row = session.get(InboundEvent, event_id)
        session.expunge(row)
    return row


def job_of(runtime, event_id: int) -> Job:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        row = session.get(Job, session.get(InboundEvent, event_id).job_id)
        session.expunge(row)
    return row


# -- list ----------------------------------------------------------------------------------------------------
def test_list_newest_first_with_filters(bridge_cli, inbox_of_four, runtime, tenant_id) -> None:
    with session_scope(runtime.sessions) as session:  # a Hyperswitch webhook too, for the source filter
        hs_id = inbox.store(session, source=EventSource.HYPERSWITCH, kb_tenant_id=tenant_id, event_key="evt_1",
                            event_type="payment_succeeded", object_type="payment_details", object_id="pay_1",
                            body="{}", now=utcnow()).event_id

    table = bridge_cli("list")
    assert table.exit_code == 0, table.output
    header, _rule, *rows = table.stdout.splitlines()
    assert header.split() == ["ID", "SOURCE", "TYPE", "STATE", "ATTEMPTS", "RECEIVED", "TENANT", "OBJECT", "OUTCOME"]
    assert [int(row.split()[0]) for row in rows] == [hs_id, inbox_of_four["received"], inbox_of_four["failed"],
                                                     inbox_of_four["skipped"], inbox_of_four["processed"]]
    failed_row = next(row for row in rows if int(row.split()[0]) == inbox_of_four["failed"])
    assert failed_row.split()[1:5] == ["killbill", "FLAKY_TEST", "failed", "1"]
    assert "RuntimeError: the flaky handler failed" in failed_row

    def ids(*args: str) -> list[int]:
        result = bridge_cli("list", "--json", *args)
        assert result.exit_code == 0, result.output
        return [item["id"] for item in json.loads(result.stdout)]

    assert ids("--state", "failed") == [inbox_of_four["failed"]]
    assert ids("--source", "hyperswitch") == [hs_id]
    assert ids("--source", "killbill", "--limit", "2") == [inbox_of_four["received"], inbox_of_four["failed"]]
    assert ids("--tenant", tenant_id, "--state", "processed") == [inbox_of_four["processed"]]
    assert ids("--tenant", "00000000-0000-0000-0000-000000000000") == []
    document = json.loads(bridge_cli("list", "--json", "--state", "skipped").stdout)[0]
    assert document["outcome"] == "SUBSCRIPTION_CREATION notifications are not used by the bridge"
    assert document["source"] == "killbill" and document["kb_tenant_id"] == tenant_id

    wrong = bridge_cli("list", "--state", "dead")
    assert wrong.exit_code == 2 and "Invalid value for '--state'" in wrong.output


# -- show ----------------------------------------------------------------------------------------------------
def test_show_pretty_prints_the_body_with_outcome_attempts_and_job(bridge_cli, inbox_of_four, runtime) -> None:
    event_id = inbox_of_four["failed"]

    shown = bridge_cli("show", str(event_id))

    assert shown.exit_code == 0, shown.output
    text = shown.stdout
    assert re.search(rf"^id +{event_id}$", text, re.MULTILINE)
    assert re.search(r"^state +failed$", text, re.MULTILINE)
    assert re.search(r"^attempts +1$", text, re.MULTILINE)
    assert re.search(r"^outcome +RuntimeError: the flaky handler failed$", text, re.MULTILINE)
    job = job_of(runtime, event_id)
    assert re.search(rf"^job +{job.id} pending, attempt 1/15, run at .+, last error: RuntimeError: the flaky "
                     r"handler failed$", text, re.MULTILINE), text
    body = text.split("\nbody:\n", 1)[1]
    assert json.loads(body)["eventType"] == "FLAKY_TEST"
    assert '\n  "eventType": "FLAKY_TEST",\n' in body  # pretty-printed

    processed = json.loads(bridge_cli("show", str(inbox_of_four["processed"]), "--json").stdout)
    raw = event(runtime, inbox_of_four["processed"]).body
    assert processed["body"] == raw  # exactly as received
    assert processed["payload"]["metaData"] == {"key": "CATALOG"}  # Kill Bill's JSON string, decoded
    assert processed["outcome"] == "tenant configuration CATALOG changed"
    assert processed["job"]["state"] == "done" and processed["job"]["id"] == processed["job_id"]

    missing = bridge_cli("show", "999999")
    assert missing.exit_code == 1 and missing.output.strip() == "error: no event 999999"


# -- replay --------------------------------------------------------------------------------------------------
def test_replay_runs_processing_again(bridge_cli, inbox_of_four, runtime, worker, kb, send) -> None:
    from killbill_client.constants import MANUAL_PAY
    from killbill_client.models import Account

    waiting = bridge_cli("replay", str(inbox_of_four["received"]))
    assert waiting.exit_code == 1
    assert waiting.output.strip() == (f"error: event {inbox_of_four['received']} is waiting for its job "
                                      f"{event(runtime, inbox_of_four['received']).job_id}; nothing to replay yet")
    account = kb.accounts.create(Account(name="Replay", currency="USD"))
    tag_event = send("TAG_CREATION", object_type="TAG", account_id=str(account.account_id),
                     metadata={"tagDefinitionName": "MANUAL_PAY"})
    drain(worker)
    assert "it has neither AUTO_PAY_OFF nor MANUAL_PAY" in event(runtime, tag_event).outcome
    first_job = job_of(runtime, tag_event).id
    kb.tags.add_to_account(account.account_id, [MANUAL_PAY])  # Kill Bill changed since

    replayed = bridge_cli("replay", str(tag_event))

    assert replayed.exit_code == 0, replayed.output
    again = event(runtime, tag_event)
    assert again.state is EventState.RECEIVED and again.job_id != first_job
    assert replayed.stdout.strip() == f"event {tag_event} (killbill TAG_CREATION) queued again as job {again.job_id}"
    drain(worker)
    again = event(runtime, tag_event)
    assert again.state is EventState.PROCESSED and again.attempts == 2
    assert again.outcome.endswith("it now has MANUAL_PAY: Kill Bill will not pay its invoices automatically")

    assert bridge_cli("replay", "424242").output.strip() == "error: no event 424242"
    assert bridge_cli("replay").exit_code == 2
    assert bridge_cli("replay", "1", "--failed").exit_code == 2
    assert bridge_cli("replay", "1", "--source", "killbill").exit_code == 2


def test_replaying_a_failed_event_runs_its_waiting_job_now(bridge_cli, inbox_of_four, runtime, worker,
                                                           flaky) -> None:
    event_id = inbox_of_four["failed"]
    job = job_of(runtime, event_id)
    assert job.state is JobState.PENDING and job.attempts == 1 and job.run_at > utcnow()  # backing off
    flaky["failing"] = False

    replayed = bridge_cli("replay", str(event_id))

    assert replayed.exit_code == 0, replayed.output
    retried = job_of(runtime, event_id)
    assert retried.id == job.id and retried.attempts == 0 and retried.run_at <= utcnow()  # the same job, now
    drain(worker)
    done = event(runtime, event_id)
    assert (done.state, done.outcome, done.attempts) == (EventState.PROCESSED, "flaky flaky-1 done", 2)
    with session_scope(runtime.sessions) as session:  # never two jobs for one event
        assert session.query(Job).filter(Job.payload["event_id"].as_integer() == event_id).count() == 1


def test_replay_failed_replays_every_failed_and_dead_event(bridge_cli, send, runtime, worker, patient,
                                                          flaky) -> None:
    dead = send("FLAKY_TEST", object_id="flaky-dead")
    drain(worker)  # every attempt fails: the job is dead
    assert job_of(runtime, dead).state is JobState.DEAD and event(runtime, dead).state is EventState.FAILED
    waiting = send("FLAKY_TEST", object_id="flaky-waiting")
    assert patient.run_once()
    done = send("SUBSCRIPTION_CREATION")
    assert patient.run_once()
    assert event(runtime, waiting).state is EventState.FAILED and event(runtime, done).state is EventState.SKIPPED
    flaky["failing"] = False

    result = bridge_cli("replay", "--failed")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"replayed 2 failed event(s): {dead}, {waiting}"
    drain(worker)
    assert [(e.id, e.state) for e in stored(runtime)] == [
        (dead, EventState.PROCESSED), (waiting, EventState.PROCESSED), (done, EventState.SKIPPED)]
    assert job_of(runtime, dead).state is JobState.DONE

    nothing = bridge_cli("replay", "--failed", "--source", "killbill")
    assert nothing.exit_code == 0 and nothing.stdout.strip() == "replayed 0 failed event(s)"


# -- the admin API -------------------------------------------------------------------------------------------
def test_the_admin_api_lists_shows_and_replays(client, admin_headers, inbox_of_four, runtime, worker,
                                               flaky) -> None:
    def get(path: str):  # type: ignore[no-untyped-def]
        return client.get(f"/admin/v1/webhooks{path}", headers=admin_headers)

    def post_(path: str):  # type: ignore[no-untyped-def]
        return client.post(f"/admin/v1/webhooks{path}", headers=admin_headers)

    listed = get("")
    assert listed.status_code == 200
    assert [e["id"] for e in listed.get_json()["events"]] == [
        inbox_of_four["received"], inbox_of_four["failed"], inbox_of_four["skipped"], inbox_of_four["processed"]]
    assert [e["id"] for e in get("?state=failed&source=killbill").get_json()["events"]] == [inbox_of_four["failed"]]
    assert [e["id"] for e in get("?limit=1").get_json()["events"]] == [inbox_of_four["received"]]
    for bad in ("?limit=0", "?limit=x", "?state=dead", "?source=stripe"):
        response = get(bad)
        assert response.status_code == 400 and response.get_json()["error"] == "bad_request", bad

    shown = get(f"/{inbox_of_four['failed']}").get_json()
    assert shown["state"] == "failed" and shown["attempts"] == 1
    assert shown["payload"]["eventType"] == "FLAKY_TEST" and shown["job"]["state"] == "pending"
    assert shown["job"]["last_error"] == "RuntimeError: the flaky handler failed"
    assert get("/999999").status_code == 404

    conflict = post_(f"/{inbox_of_four['received']}/replay")
    assert conflict.status_code == 409 and conflict.get_json()["error"] == "conflict"
    assert post_("/999999/replay").status_code == 404

    flaky["failing"] = False
    replayed = post_("/replay-failed")
    assert replayed.status_code == 200 and replayed.get_json() == {"replayed": 1, "ids": [inbox_of_four["failed"]]}
    drain(worker)
    assert event(runtime, inbox_of_four["failed"]).state is EventState.PROCESSED

    done_job = job_of(runtime, inbox_of_four["processed"])
    again = post_(f"/{inbox_of_four['processed']}/replay")
    assert again.status_code == 200 and again.get_json()["state"] == "received"
    assert again.get_json()["job_id"] != done_job.id
    assert job_of(runtime, inbox_of_four["processed"]).state is JobState.PENDING

    assert client.get("/admin/v1/webhooks", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_an_event_whose_job_died_before_recording_anything_is_replayable(bridge_cli, send, runtime,
                                                                         worker) -> None:
    """A job that died without touching its event (e.g. no processor for its source in that worker) leaves
    the event 'received'; its dead job makes it replayable, singly and with --failed."""
    first = send("TENANT_CONFIG_CHANGE", object_type="TENANT_KVS", metadata={"key": "CATALOG"})
    second = send("TENANT_CONFIG_CHANGE", object_type="TENANT_KVS", metadata={"key": "OVERDUE_CONFIG"})
    with session_scope(runtime.sessions) as session:
        for event_id in (first, second):
            session.get(Job, session.get(InboundEvent, event_id).job_id).state = JobState.DEAD

    single = bridge_cli("replay", str(first))
    assert single.exit_code == 0, single.output
    assert bridge_cli("replay", "--failed").stdout.strip() == f"replayed 1 failed event(s): {second}"
    drain(worker)

    assert [(e.id, e.state) for e in stored(runtime)] == [(first, EventState.PROCESSED),
                                                          (second, EventState.PROCESSED)]
