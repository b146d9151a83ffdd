"""SMS and WhatsApp messages through the send job and the local messaging provider: rendering, sending once,
skips with their reasons, the tenant's setup, and the provider's errors and rate limits."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bridge.db.engine import session_scope
from bridge.db.invoices import MessageStatus
from bridge.db.jobs import Job, JobState
from bridge.db.tenancy import Tenant
from bridge.invoices import messages
from bridge.jobs import queue as job_queue
from bridge.jobs.registry import JobContext
from bridge.jobs.worker import Worker
from bridge.settings import Settings
from bridge.tenancy import service
from bridge.tenancy.schemas import TenantCreate, TenantUpdate
from tests.channels.conftest import (
    PAYOR_PHONE,
    SMS_SENDER,
    WHATSAPP_SENDER,
    Provider,
    send_job,
    stored,
    text_settings,
)
from tests.conftest import ADMIN_TOKEN, MASTER_KEY
from tests.foundation.factories import tenant_payload
from tests.jobs import drain, fast_worker

PUBLIC_URL = "https://pay.acme.test"
PAY_URL = f"{PUBLIC_URL}/pay/tok.EN-abc_123"


@pytest.fixture
def templates_dir(tmp_path: Path) -> Path:
    path = tmp_path / "templates"
    path.mkdir()
    return path


@pytest.fixture
def settings(database_url: str, tmp_path: Path, templates_dir: Path) -> Settings:
    return Settings(database_url=database_url, master_keys=[MASTER_KEY], admin_token=ADMIN_TOKEN,
                    master_key_file=tmp_path / "unused.key", log_format="text", public_url=PUBLIC_URL,
                    templates_dir=templates_dir)


def make_tenant(runtime, provider: Provider | None, **channels: Any) -> str:  # type: ignore[no-untyped-def]
    payload = tenant_payload(settings={"email": {"sender": "billing@acme.test", "brand_name": "Acme Cloud"},
                                       "channels": text_settings(**channels)},
                             **(provider.credentials() if provider else {}))
    with session_scope(runtime.sessions) as session:
        service.create_tenant(session, TenantCreate.model_validate(payload), runtime.keyring)
    return payload["kb_tenant_id"]


@pytest.fixture
def tenant(runtime, provider: Provider) -> str:  # type: ignore[no-untyped-def]
    return make_tenant(runtime, provider)


@pytest.fixture
def worker(runtime) -> Worker:  # type: ignore[no-untyped-def]
    return fast_worker(runtime, max_attempts=5)


def queue(runtime, tenant: str, channel: str, kind: str = "pay_link",  # type: ignore[no-untyped-def]
          recipient: str | None = PAYOR_PHONE, send_key: str | None = None, **ctx: Any) -> int | None:
    context = {"account_name": "Bob & Co", "invoice_number": "1042", "invoice_date": "Nov 22, 2026",
               "due_date": "Dec 22, 2026", "amount_due": "$1,234.50", "pay_url": PAY_URL, **ctx}
    with session_scope(runtime.sessions) as session:
        return messages.queue_message(session, kb_tenant_id=tenant, kind=kind, channel=channel,
                                      send_key=send_key or f"inv-1042:{kind}:{uuid.uuid4().hex[:6]}",
                                      recipient=recipient, kb_account_id=str(uuid.uuid4()),
                                      kb_invoice_id=str(uuid.uuid4()), context=context)


# -- what goes out ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["pay_link", "reminder", "payment_failed"])
def test_an_sms_is_one_short_line_with_the_pay_link(runtime, tenant, worker, provider, kind) -> None:
    message_id = queue(runtime, tenant, "sms", kind=kind)
    drain(worker)
    [sms] = provider.sent()
    assert (sms.to, sms.from_) == (PAYOR_PHONE, SMS_SENDER)
    assert "\n" not in sms.body and "  " not in sms.body and len(sms.body) <= 160
    assert sms.body.endswith(f"Pay: {PAY_URL}") and "Acme Cloud" in sms.body and "1042" in sms.body
    row = stored(runtime, message_id)
    assert row.status is MessageStatus.SENT and row.provider_message_id == sms.sid and row.attempts == 1
    assert row.channel == "sms" and row.recipient == PAYOR_PHONE and row.subject is None


def test_an_sms_receipt_thanks_and_says_what_remains(runtime, tenant, worker, provider) -> None:
    queue(runtime, tenant, "sms", kind="receipt", amount_paid="$1,000.00", remaining_due="$234.50")
    drain(worker)
    [sms] = provider.sent()
    assert sms.body == ("Acme Cloud: payment of $1,000.00 received for invoice 1042, thank you. "
                        "$234.50 remains to pay.")


def test_a_whatsapp_message_keeps_its_lines_and_goes_to_whatsapp_addresses(runtime, tenant, worker,
                                                                           provider) -> None:
    message_id = queue(runtime, tenant, "whatsapp")
    drain(worker)
    [sent] = provider.sent()
    assert (sent.to, sent.from_, sent.channel) == (f"whatsapp:{PAYOR_PHONE}", f"whatsapp:{WHATSAPP_SENDER}",
                                                   "whatsapp")
    lines = sent.body.splitlines()
    assert lines[0] == "Hello Bob & Co," and PAY_URL in lines and "*$1,234.50*" in sent.body
    assert "\n\n\n" not in sent.body
    assert stored(runtime, message_id).provider_message_id == sent.sid


def test_a_tenant_override_wins_for_its_channel_only(runtime, tenant, worker, provider, templates_dir) -> None:
    override = templates_dir / tenant / "sms"
    override.mkdir(parents=True)
    (override / "pay_link.txt").write_text("{{ brand_name }}\n   bill {{ invoice_number }}:\n{{ pay_url }}\n")
    other = make_tenant(runtime, provider)
    queue(runtime, tenant, "sms")
    queue(runtime, tenant, "whatsapp")
    queue(runtime, other, "sms")
    drain(worker)
    bodies = sorted(m.body for m in provider.sent("sms"))
    assert f"Acme Cloud bill 1042: {PAY_URL}" in bodies  # folded into one line
    assert any(b.startswith("Acme Cloud: invoice 1042") for b in bodies)  # the other tenant: built in
    assert provider.sent("whatsapp")[0].body.startswith("Hello")  # this tenant's WhatsApp: built in


def test_one_send_key_goes_out_once_per_channel(runtime, tenant, worker, provider) -> None:
    first = queue(runtime, tenant, "sms", send_key="inv-9:pay_link:1")
    assert queue(runtime, tenant, "sms", send_key="inv-9:pay_link:1") is None
    by_whatsapp = queue(runtime, tenant, "whatsapp", send_key="inv-9:pay_link:1")
    by_email = queue(runtime, tenant, "email", send_key="inv-9:pay_link:1", recipient="bob@customer.test")
    assert len({first, by_whatsapp, by_email}) == 3
    drain(worker)
    assert len(provider.sent("sms")) == 1 and len(provider.sent("whatsapp")) == 1
    with pytest.raises(ValueError, match="channel"):
        queue(runtime, tenant, "fax")


def test_a_send_job_run_again_sends_nothing(runtime, tenant, worker, provider) -> None:
    message_id = queue(runtime, tenant, "sms")
    drain(worker)
    job = send_job(runtime, message_id)
    with session_scope(runtime.sessions) as session:  # the job delivered again (replay, lost lease)
        messages.send_message(JobContext(job.id, job.kind, job.kb_tenant_id, 2, session, runtime.clock(), runtime),
                              {"message_id": message_id})
    assert len(provider.sent()) == 1 and stored(runtime, message_id).attempts == 1


# -- skipped, never a failing loop ---------------------------------------------------------------------------
@pytest.mark.parametrize("recipient, reason", [
    (None, "the account has no phone number"),
    ("  ", "the account has no phone number"),
    ("415 555 2671", "the account's phone number is not a valid E.164 number"),  # no country code
    ("+1 555 0100", "the account's phone number is not a valid E.164 number"),
    ("+14155552671\r\nTo: +15550000000", "the account's phone number is not a valid E.164 number"),
])
@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
def test_a_missing_or_invalid_phone_skips_the_channel(runtime, tenant, worker, provider, channel, recipient,
                                                      reason) -> None:
    message_id = queue(runtime, tenant, channel, recipient=recipient)
    drain(worker)
    assert provider.sent() == [] and sum(provider.state.answers.values()) == 0
    row = stored(runtime, message_id)
    assert row.status is MessageStatus.SKIPPED and row.last_error == reason
    job = send_job(runtime, message_id)
    assert job.state is JobState.DONE and job.attempts == 1


@pytest.mark.parametrize("refusal, code", [("opted_out", 21610), ("invalid", 21211)])
def test_a_recipient_the_provider_refuses_for_good_is_skipped(runtime, tenant, worker, provider, refusal,
                                                              code) -> None:
    if refusal == "opted_out":
        provider.state.opt_out(PAYOR_PHONE)
    else:
        provider.state.fail_next(400, 21211, "Invalid 'To' Phone Number")
    message_id = queue(runtime, tenant, "sms")
    drain(worker)
    row = stored(runtime, message_id)
    assert row.status is MessageStatus.SKIPPED and f"(code {code})" in row.last_error
    assert send_job(runtime, message_id).attempts == 1 and provider.sent() == []


# -- the provider's bad moments --------------------------------------------------------------------------------
def test_rate_limited_waits_the_providers_retry_after_then_sends_once(runtime, tenant, worker, provider) -> None:
    provider.state.rate_limit(requests=1, retry_after=30)
    message_id = queue(runtime, tenant, "sms")
    assert worker.run_once()
    row, job = stored(runtime, message_id), send_job(runtime, message_id)
    assert row.status is MessageStatus.FAILED and "rate limited" in row.last_error and row.attempts == 1
    assert job.state is JobState.PENDING and job.attempts == 1 and "RetryLater" in job.last_error
    assert job.run_at - job.updated_at == timedelta(seconds=30)  # Retry-After, not the backoff
    assert not worker.run_once()  # not before then
    with session_scope(runtime.sessions) as session:
        session.get(Job, job.id).run_at = runtime.clock()  # time passes
    drain(worker)
    [sms] = provider.sent()
    row = stored(runtime, message_id)
    assert row.status is MessageStatus.SENT and row.provider_message_id == sms.sid and row.attempts == 2
    assert provider.state.answers == {429: 1, 201: 1}


def test_a_provider_outage_is_retried_with_backoff_until_it_sends(runtime, tenant, worker, provider) -> None:
    provider.state.fail_next(503, None, "maintenance", requests=2)
    message_id = queue(runtime, tenant, "whatsapp")
    drain(worker)
    row = stored(runtime, message_id)
    assert row.status is MessageStatus.SENT and row.attempts == 3 and row.last_error is None
    assert len(provider.sent()) == 1 and provider.state.answers[503] == 2


def test_without_a_provider_the_job_is_parked_until_the_operator_sets_it(runtime, worker, provider) -> None:
    tenant = make_tenant(runtime, None)
    message_id = queue(runtime, tenant, "sms")
    drain(worker)
    row, job = stored(runtime, message_id), send_job(runtime, message_id)
    assert row.status is MessageStatus.FAILED and "no messaging provider" in row.last_error
    assert job.state is JobState.DEAD and "bridge tenants update" in job.last_error
    with session_scope(runtime.sessions) as session:
        service.update_tenant(session, tenant, TenantUpdate.model_validate(provider.credentials()), runtime.keyring)
        job_queue.retry(session, job.id)  # `bridge jobs retry`
    drain(worker)
    assert stored(runtime, message_id).status is MessageStatus.SENT and len(provider.sent()) == 1


@pytest.mark.parametrize("problem, expected", [
    ("no_sender", "no SMS sender (tenant setting channels.sms_sender)"),
    ("wrong_token", "HTTP 401 (code 20003)"),
    ("broken_template", "template error: UndefinedError"),
])
def test_a_setup_the_tenant_must_fix_fails_visibly_without_retrying(runtime, worker, provider, templates_dir,
                                                                    problem, expected) -> None:
    tenant = make_tenant(runtime, provider, sms_sender=None if problem == "no_sender" else SMS_SENDER)
    if problem == "wrong_token":
        with session_scope(runtime.sessions) as session:
            service.update_tenant(session, tenant, TenantUpdate(messaging_auth_token="msgtoken-wrong-00000000"),
                                  runtime.keyring)
    if problem == "broken_template":
        (templates_dir / tenant / "sms").mkdir(parents=True)
        (templates_dir / tenant / "sms" / "pay_link.txt").write_text("Pay {{ payment_reference }}\n")
    message_id = queue(runtime, tenant, "sms")
    drain(worker)
    row, job = stored(runtime, message_id), send_job(runtime, message_id)
    assert row.status is MessageStatus.FAILED and expected in row.last_error
    assert job.state is JobState.DEAD and job.attempts == 1 and provider.sent() == []
    assert "msgtoken-wrong" not in (row.last_error + (job.last_error or ""))


def test_the_tenants_provider_token_is_read_when_sending(runtime, tenant, worker, provider) -> None:
    with session_scope(runtime.sessions) as session:
        stored_token = session.get(Tenant, tenant).messaging_auth_token_encrypted
    assert stored_token.startswith("gAAAAA") and provider.auth_token not in stored_token
    queue(runtime, tenant, "sms")
    drain(worker)
    assert len(provider.sent()) == 1
