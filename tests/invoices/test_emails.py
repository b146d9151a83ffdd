"""Payor emails through a real SMTP server (aiosmtpd): headers, both bodies, templates and overrides,
sending once, SMTP outages, skips, and the TLS/AUTH paths of the mailer."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import uuid
from collections.abc import Iterator
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from bridge.db.engine import session_scope
from bridge.db.invoices import Message, MessageStatus
from bridge.db.jobs import Job, JobState
from bridge.invoices import messages
from bridge.invoices.email import Mailer, SendError, build_email, render
from bridge.invoices.formatting import format_amount, format_date
from bridge.jobs.registry import JobContext
from bridge.jobs.worker import Worker
from bridge.settings import Settings, load_settings
from bridge.simulators.smtp import SmtpSink
from bridge.tenancy import service
from bridge.tenancy.schemas import TenantCreate
from tests.conftest import ADMIN_TOKEN, MASTER_KEY
from tests.foundation.factories import tenant_payload
from tests.jobs import drain, fast_worker

PUBLIC_URL = "https://pay.acme.test"
SENDER = "billing@acme.test"
REPLY_TO = "help@acme.test"
PAYOR = "payor@customer.test"


# -- a real SMTP server (bridge.simulators.smtp, shared with `bridge demo`) -------------------------
SmtpServer = SmtpSink


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def templates_dir(tmp_path: Path) -> Path:
    path = tmp_path / "templates"
    path.mkdir()
    return path


@pytest.fixture
def settings(database_url: str, tmp_path: Path, smtp: SmtpServer, templates_dir: Path) -> Settings:
    return Settings(database_url=database_url, master_keys=[MASTER_KEY], admin_token=ADMIN_TOKEN,
                    master_key_file=tmp_path / "unused.key", log_format="text", public_url=PUBLIC_URL,
                    smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_timeout_seconds=5,
                    templates_dir=templates_dir)


def make_tenant(runtime, email: dict[str, Any] | None = None) -> str:  # type: ignore[no-untyped-def]
    email = {"sender": SENDER, "reply_to": REPLY_TO, "brand_name": "Acme Cloud"} if email is None else email
    payload = tenant_payload(settings={"email": email})
    with session_scope(runtime.sessions) as session:
        service.create_tenant(session, TenantCreate.model_validate(payload), runtime.keyring)
    return payload["kb_tenant_id"]


@pytest.fixture
def tenant(runtime) -> str:  # type: ignore[no-untyped-def]
    return make_tenant(runtime)


@pytest.fixture
def worker(runtime) -> Worker:  # type: ignore[no-untyped-def]
    return fast_worker(runtime, max_attempts=5)


def context(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "account_name": "Bob <b>& Co</b>", "invoice_number": "1042", "invoice_date": "Nov 22, 2026",
        "due_date": "Dec 22, 2026", "amount_due": "$1,234.50",
        "pay_url": f"{PUBLIC_URL}/pay/tok.EN-abc_123?x=1&y=2",
        "items": [{"description": "Pro plan <monthly>", "amount": "$1,200.00"},
                  {"description": "Extra seats", "amount": "$34.50"}]}
    values.update(overrides)
    return values


def queue(runtime, tenant: str, kind: str = "pay_link", send_key: str | None = None,  # type: ignore[no-untyped-def]
          recipient: str | None = PAYOR, **ctx: Any) -> int | None:
    with session_scope(runtime.sessions) as session:
        return messages.queue_message(session, kb_tenant_id=tenant, kind=kind,
                                      send_key=send_key or f"inv-1042:{kind}:{uuid.uuid4().hex[:6]}",
                                      recipient=recipient, kb_account_id=str(uuid.uuid4()),
                                      kb_invoice_id=str(uuid.uuid4()), context=context(**ctx))


def message(runtime, message_id: int) -> Message:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return session.get(Message, message_id)


def send_jobs(runtime) -> list[Job]:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return list(session.scalars(select(Job).where(Job.kind == messages.SEND_JOB).order_by(Job.id)))


def parts(email: EmailMessage) -> tuple[str, str]:
    text = email.get_body(("plain",))
    html = email.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


# -- amounts --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("amount, currency, locale, expected", [
    ("1234.5", "USD", "en_US", "$1,234.50"),
    ("1234.5", "EUR", "fr_FR", "1\u202f234,50\u00a0€"),
    ("1234.5", "JPY", "ja_JP", "￥1,235"),  # no minor unit: rounded half up for display
    ("1234.5", "KWD", "en_US", "KWD\u00a01,234.500".replace("\u00a0", "")),  # three decimals
    ("0.1", "KWD", "en_US", "KWD0.100"),
    ("7", "usd", "en-US", "$7.00"),
    ("7", "USD", "not a locale", "$7.00"),
])
def test_amounts_are_formatted_for_the_locale_and_currency(amount, currency, locale, expected) -> None:
    assert format_amount(Decimal(amount), currency, locale) == expected


def test_amounts_must_be_decimals_and_dates_follow_the_locale() -> None:
    with pytest.raises(TypeError):
        format_amount(12.5, "USD", "en_US")  # type: ignore[arg-type]
    assert format_date("2026-11-22", "en_US") == "Nov 22, 2026"
    assert format_date(dt.date(2026, 11, 22), "fr_FR") == "22 nov. 2026"
    assert format_date(None, "en_US") is None


# -- the emails -----------------------------------------------------------------------------------------
def test_a_pay_link_email_arrives_with_headers_both_bodies_and_the_link(runtime, tenant, worker, smtp) -> None:
    message_id = queue(runtime, tenant)
    assert message_id is not None and smtp.received == []  # queued, not sent in the caller's transaction
    drain(worker)

    assert len(smtp.received) == 1
    got = smtp.received[0]
    assert got.rcpt_tos == [PAYOR] and got.mail_from == SENDER
    email = got.email
    assert email["To"] == PAYOR
    assert email["From"].addresses[0].display_name == "Acme Cloud"
    assert email["From"].addresses[0].addr_spec == SENDER
    assert email["Reply-To"] == REPLY_TO
    assert email["Subject"] == "Acme Cloud: invoice 1042 for $1,234.50"
    assert email["Date"].datetime.tzinfo is not None
    assert email["Auto-Submitted"] == "auto-generated"
    assert email["List-Unsubscribe"] is None
    assert email.get_content_type() == "multipart/alternative"
    assert email["Message-ID"].startswith(f"<bridge.{message_id}.") and email["Message-ID"].endswith("@pay.acme.test>")

    text, html = parts(email)
    link = f"{PUBLIC_URL}/pay/tok.EN-abc_123?x=1&y=2"
    assert link in text
    assert f'href="{PUBLIC_URL}/pay/tok.EN-abc_123?x=1&amp;y=2"' in html  # the same link, escaped as HTML
    assert "Bob <b>& Co</b>" in text and "Pro plan <monthly>" in text and "$34.50" in text
    assert "Bob &lt;b&gt;&amp; Co&lt;/b&gt;" in html and "Pro plan &lt;monthly&gt;" in html
    assert "<b>&" not in html and "<monthly>" not in html
    assert "http://" not in html.replace("http://www.w3.org", "") and "<img" not in html  # no external assets
    assert "Dec 22, 2026" in html and "$1,234.50" in html

    stored = message(runtime, message_id)
    assert stored.status is MessageStatus.SENT and stored.provider_message_id == email["Message-ID"]
    assert stored.sent_at is not None and stored.subject == email["Subject"] and stored.attempts == 1
    assert [job.state for job in send_jobs(runtime)] == [JobState.DONE]


@pytest.mark.parametrize("kind, subject_part, body_part", [
    ("reminder", "Reminder (2): invoice 1042 from Acme Cloud is due Dec 22, 2026", "friendly reminder"),
    ("receipt", "Acme Cloud: payment received for invoice 1042", "we received your payment"),
    ("payment_failed", "Acme Cloud: your payment for invoice 1042 failed", "update your card"),
])
def test_every_kind_renders_and_only_reminders_carry_list_unsubscribe(runtime, tenant, worker, smtp, kind,
                                                                      subject_part, body_part) -> None:
    queue(runtime, tenant, kind=kind, reminder_number=2)
    drain(worker)
    assert len(smtp.received) == 1
    email = smtp.received[0].email
    assert email["Subject"] == subject_part
    text, html = parts(email)
    assert "1042" in text and "1042" in html
    assert body_part.lower() in (text + html).lower() or body_part in html
    if kind == "reminder":
        one_click, mailto = email["List-Unsubscribe"].split(", ")
        assert one_click.startswith(f"<{PUBLIC_URL}/pay/unsubscribe/") and mailto == f"<mailto:{REPLY_TO}?subject=unsubscribe>"
        assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"  # RFC 8058
        assert one_click.encode() in smtp.received[0].content  # whole on the wire, not RFC 2047-encoded
        assert one_click.strip("<>") in text and one_click.strip("<>") in html
        assert "Dec 22, 2026" in text
    else:
        assert email["List-Unsubscribe"] is None and email["List-Unsubscribe-Post"] is None
    if kind == "payment_failed":
        assert f"{PUBLIC_URL}/pay/tok.EN-abc_123" in text


def test_list_unsubscribe_falls_back_to_the_sender_without_a_reply_to(runtime, worker, smtp) -> None:
    tenant = make_tenant(runtime, {"sender": SENDER, "brand_name": "Plain"})
    queue(runtime, tenant, kind="reminder", reminder_number=1)
    drain(worker)
    email = smtp.received[0].email
    assert email["List-Unsubscribe"].endswith(f", <mailto:{SENDER}?subject=unsubscribe>")
    assert email["Reply-To"] is None
    assert email["Subject"] == "Reminder: invoice 1042 from Plain is due Dec 22, 2026"


# -- sending once ---------------------------------------------------------------------------------------
def test_the_same_send_key_queued_twice_sends_one_email(runtime, tenant, worker, smtp) -> None:
    first = queue(runtime, tenant, send_key="inv-9:pay_link:0")
    second = queue(runtime, tenant, send_key="inv-9:pay_link:0", recipient="someone-else@customer.test")
    assert first is not None and second is None
    other_tenant = make_tenant(runtime)
    assert queue(runtime, other_tenant, send_key="inv-9:pay_link:0") is not None  # keys are per tenant
    drain(worker)
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == [PAYOR, PAYOR]
    assert len(send_jobs(runtime)) == 2
    assert message(runtime, first).recipient == PAYOR


def test_a_send_job_run_again_sends_nothing(runtime, tenant, worker, smtp) -> None:
    message_id = queue(runtime, tenant)
    drain(worker)
    assert len(smtp.received) == 1
    job = send_jobs(runtime)[0]
    # The same job delivered again (a replay, or a second worker after a lost lease).
    with session_scope(runtime.sessions) as session:
        ctx = JobContext(job.id, job.kind, job.kb_tenant_id, 2, session, runtime.clock(), runtime)
        messages.send_message(ctx, {"message_id": message_id})
    assert len(smtp.received) == 1
    assert message(runtime, message_id).attempts == 1


def test_smtp_down_then_up_fails_then_sends_exactly_once(runtime, tenant, worker, smtp) -> None:
    smtp.stop()
    message_id = queue(runtime, tenant)
    assert worker.run_once()
    stored = message(runtime, message_id)
    assert stored.status is MessageStatus.FAILED and stored.attempts == 1
    assert "cannot reach SMTP" in stored.last_error
    job = send_jobs(runtime)[0]
    assert job.state is JobState.PENDING and job.attempts == 1 and "SendError" in job.last_error

    smtp.start()  # the same port again
    drain(worker)
    assert len(smtp.received) == 1 and smtp.received[0].rcpt_tos == [PAYOR]
    stored = message(runtime, message_id)
    assert stored.status is MessageStatus.SENT and stored.last_error is None and stored.attempts == 2
    assert send_jobs(runtime)[0].state is JobState.DONE
    drain(worker)
    assert len(smtp.received) == 1


def test_many_messages_queued_during_an_outage_each_go_out_once(runtime, tenant, worker, smtp) -> None:
    smtp.stop()
    ids = [queue(runtime, tenant, send_key=f"inv-{n}:pay_link:0") for n in range(4)]
    for _ in range(4):
        worker.run_once()
    assert {message(runtime, i).status for i in ids} == {MessageStatus.FAILED}
    smtp.start()
    drain(worker)
    assert len(smtp.received) == 4
    assert len({r.email["Message-ID"] for r in smtp.received}) == 4
    assert {message(runtime, i).status for i in ids} == {MessageStatus.SENT}


# -- skipped and failed ---------------------------------------------------------------------------------
@pytest.mark.parametrize("recipient, reason", [
    (None, "no recipient address"),
    ("   ", "no recipient address"),
    ("not-an-address", "recipient is not a valid email address"),
    ("payor@customer.test\r\nBcc: victim@elsewhere.test", "recipient is not a valid email address"),
    ("Bob <payor@customer.test>", "recipient is not a valid email address"),
])
def test_a_missing_or_invalid_recipient_is_skipped_without_retry(runtime, tenant, worker, smtp, recipient,
                                                                  reason) -> None:
    message_id = queue(runtime, tenant, recipient=recipient)
    drain(worker)
    assert smtp.received == []
    stored = message(runtime, message_id)
    assert stored.status is MessageStatus.SKIPPED and stored.last_error == reason
    job = send_jobs(runtime)[0]
    assert job.state is JobState.DONE and job.attempts == 1


def test_a_recipient_the_server_refuses_for_good_is_skipped(runtime, tenant, worker, smtp) -> None:
    smtp.handler.refuse.add("gone@customer.test")
    message_id = queue(runtime, tenant, recipient="gone@customer.test")
    drain(worker)
    stored = message(runtime, message_id)
    assert stored.status is MessageStatus.SKIPPED and "550" in stored.last_error
    assert send_jobs(runtime)[0].attempts == 1 and smtp.received == []


def test_a_precheck_skips_the_message_with_its_reason(runtime, tenant, worker, smtp) -> None:
    seen: list[tuple[str, str]] = []

    def invoice_paid(env, msg: Message) -> str | None:  # type: ignore[no-untyped-def]
        seen.append((env.tenant_id, msg.kind))
        return "invoice paid" if msg.context.get("invoice_number") == "1042" else None

    messages.register_precheck("reminder", invoice_paid)
    messages.register_precheck("reminder", invoice_paid)  # once only
    try:
        paid = queue(runtime, tenant, kind="reminder")
        unpaid = queue(runtime, tenant, kind="reminder", invoice_number="2001")
        other_kind = queue(runtime, tenant, kind="pay_link")
        drain(worker)
    finally:
        messages.unregister_precheck("reminder", invoice_paid)
    assert seen == [(tenant, "reminder"), (tenant, "reminder")]
    assert message(runtime, paid).status is MessageStatus.SKIPPED
    assert message(runtime, paid).last_error == "invoice paid"
    assert message(runtime, unpaid).status is MessageStatus.SENT
    assert message(runtime, other_kind).status is MessageStatus.SENT
    assert len(smtp.received) == 2
    with pytest.raises(ValueError):
        messages.register_precheck("fax", invoice_paid)


def test_a_precheck_that_raises_retries_the_job(runtime, tenant, worker, smtp) -> None:
    calls = []

    def flaky(env, msg):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("Kill Bill unreachable")

    messages.register_precheck("receipt", flaky)
    try:
        message_id = queue(runtime, tenant, kind="receipt")
        drain(worker)
    finally:
        messages.unregister_precheck("receipt", flaky)
    assert len(calls) == 2 and len(smtp.received) == 1
    assert message(runtime, message_id).status is MessageStatus.SENT


def test_a_tenant_without_a_sender_parks_the_job(runtime, worker, smtp) -> None:
    tenant = make_tenant(runtime, {"brand_name": "No Sender"})
    message_id = queue(runtime, tenant)
    drain(worker)
    assert smtp.received == []
    stored = message(runtime, message_id)
    assert stored.status is MessageStatus.FAILED and "email.sender" in stored.last_error
    assert send_jobs(runtime)[0].state is JobState.DEAD


def test_a_template_needing_a_missing_value_fails_visibly(runtime, tenant, worker, smtp, templates_dir) -> None:
    override = templates_dir / tenant / "email"
    override.mkdir(parents=True)
    (override / "receipt.txt").write_text("Paid: {{ payment_reference }}\n")
    message_id = queue(runtime, tenant, kind="receipt")
    drain(worker)
    assert smtp.received == []
    stored = message(runtime, message_id)
    assert stored.status is MessageStatus.FAILED and "payment_reference" in stored.last_error
    assert send_jobs(runtime)[0].state is JobState.DEAD


def test_queue_message_refuses_unknown_kinds_and_unserialisable_context(runtime, tenant) -> None:
    with session_scope(runtime.sessions) as session:
        with pytest.raises(ValueError, match="kind"):
            messages.queue_message(session, kb_tenant_id=tenant, kind="fax", send_key="k", recipient=PAYOR,
                                   context={})
        with pytest.raises(ValueError, match="JSON"):
            messages.queue_message(session, kb_tenant_id=tenant, kind="receipt", send_key="k", recipient=PAYOR,
                                   context={"amount": Decimal("1.00")})
    assert send_jobs(runtime) == []


def test_queueing_is_part_of_the_callers_transaction(runtime, tenant) -> None:
    with pytest.raises(RuntimeError), session_scope(runtime.sessions) as session:
        messages.queue_message(session, kb_tenant_id=tenant, kind="receipt", send_key="rolled-back",
                               recipient=PAYOR, context=context())
        raise RuntimeError("the caller's work failed")
    assert send_jobs(runtime) == []
    assert queue(runtime, tenant, kind="receipt", send_key="rolled-back") is not None


# -- templates ------------------------------------------------------------------------------------------
def test_a_tenant_override_wins_and_other_tenants_keep_the_built_in(runtime, tenant, worker, smtp,
                                                                    templates_dir) -> None:
    override = templates_dir / tenant / "email"
    override.mkdir(parents=True)
    (override / "pay_link.subject.txt").write_text("Your {{ brand_name }} bill #{{ invoice_number }}\n")
    (override / "pay_link.html").write_text(
        "<p>Custom for {{ account_name }}</p><a href=\"{{ pay_url }}\">Pay</a>\n")
    other = make_tenant(runtime)
    queue(runtime, tenant, send_key="mine")
    queue(runtime, other, send_key="theirs")
    drain(worker)
    by_tenant_subject = sorted(r.email["Subject"] for r in smtp.received)
    assert by_tenant_subject == ["Acme Cloud: invoice 1042 for $1,234.50", "Your Acme Cloud bill #1042"]
    custom = next(r.email for r in smtp.received if r.email["Subject"].startswith("Your"))
    text, html = parts(custom)
    assert "<p>Custom for Bob &lt;b&gt;&amp; Co&lt;/b&gt;</p>" in html  # overrides are autoescaped too
    assert "Review and pay it here:" in text  # no text override: the built-in one


def test_render_refuses_unknown_kinds_and_templates_are_sandboxed(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        render("fax", {}, kb_tenant_id="t")
    tenant = str(uuid.uuid4())
    override = tmp_path / tenant / "email"
    override.mkdir(parents=True)
    (override / "receipt.subject.txt").write_text("{{ pay_url.__class__.__mro__ }}")
    from jinja2.exceptions import SecurityError
    with pytest.raises(SecurityError):
        render("receipt", context(), kb_tenant_id=tenant, templates_dir=tmp_path)
    with pytest.raises(ValueError):
        render("receipt", context(), kb_tenant_id="../etc", templates_dir=tmp_path)


def test_the_templates_dir_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path) -> None:
    monkeypatch.setenv("BRIDGE_TEMPLATES_DIR", str(tmp_path))
    assert load_settings().templates_dir == tmp_path
    monkeypatch.delenv("BRIDGE_TEMPLATES_DIR")
    assert load_settings().templates_dir is None


# -- the mailer: TLS and AUTH ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def client_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"bridge", b"s3cret")
    return AuthResult(success=ok, handled=False, auth_data=auth_data)  # handled=False: the server answers 535


def sample_email(recipient: str = PAYOR) -> EmailMessage:
    rendered = render("pay_link", context(), kb_tenant_id="t")
    return build_email(rendered=rendered, sender=SENDER, recipient=recipient, brand_name="Acme",
                       message_id="<x@pay.acme.test>", date=dt.datetime.now(dt.UTC))


@pytest.fixture
def starttls_server(certificate) -> Iterator[SmtpServer]:  # type: ignore[no-untyped-def]
    server = SmtpServer(tls_context=server_context(certificate), require_starttls=True, auth_required=True,
                        authenticator=authenticator).start()
    yield server
    server.stop()


def test_starttls_with_authentication(starttls_server, certificate) -> None:  # type: ignore[no-untyped-def]
    mailer = Mailer("127.0.0.1", starttls_server.port, security="starttls", username="bridge", password="s3cret",
                    timeout=5, ssl_context=client_context(certificate))
    mailer.send(sample_email())
    assert len(starttls_server.received) == 1
    got = starttls_server.received[0]
    assert got.tls and got.authenticated_as == "bridge" and got.rcpt_tos == [PAYOR]


def test_wrong_credentials_plain_text_and_untrusted_certificates_are_refused(starttls_server,  # type: ignore[no-untyped-def]
                                                                            certificate) -> None:
    wrong = Mailer("127.0.0.1", starttls_server.port, security="starttls", username="bridge", password="nope",
                   timeout=5, ssl_context=client_context(certificate))
    with pytest.raises(SendError) as refused:
        wrong.send(sample_email())
    assert not refused.value.permanent and "535" in str(refused.value)
    clear = Mailer("127.0.0.1", starttls_server.port, security="none", username="bridge", password="s3cret",
                   timeout=5)
    with pytest.raises(SendError):  # the server will not take AUTH or mail before STARTTLS
        clear.send(sample_email())
    untrusted = Mailer("127.0.0.1", starttls_server.port, security="starttls", timeout=5)  # system CAs only
    with pytest.raises(SendError, match="cannot reach SMTP"):
        untrusted.send(sample_email())
    assert starttls_server.received == []


def test_starttls_is_required_when_configured(smtp) -> None:  # type: ignore[no-untyped-def]
    mailer = Mailer("127.0.0.1", smtp.port, security="starttls", timeout=5)  # this server offers no STARTTLS
    with pytest.raises(SendError):
        mailer.send(sample_email())
    assert smtp.received == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_with_settings(certificate, settings) -> None:  # type: ignore[no-untyped-def]
    # Implicit TLS: aiosmtpd only knows STARTTLS as "TLS", so AUTH-before-TLS is allowed on this port.
    server = SmtpServer(ssl_context=server_context(certificate), authenticator=authenticator,
                        auth_required=True, auth_require_tls=False).start()
    try:
        configured = settings.model_copy(update={"smtp_port": server.port, "smtp_security": "tls",
                                                 "smtp_username": "bridge"})
        configured = Settings.model_validate({**configured.model_dump(), "smtp_password": "s3cret"})
        mailer = Mailer.from_settings(configured, ssl_context=client_context(certificate))
        assert (mailer.security, mailer.username, mailer.password, mailer.timeout) == ("tls", "bridge", "s3cret", 5)
        mailer.send(sample_email())
        assert len(server.received) == 1 and server.received[0].tls
        assert server.received[0].authenticated_as == "bridge"
        plain = Mailer("127.0.0.1", server.port, security="none", timeout=0.5)
        with pytest.raises(SendError):  # plain SMTP against a TLS port
            plain.send(sample_email())
    finally:
        server.stop()


def test_a_worker_sends_through_an_injected_mailer(runtime, tenant, worker, starttls_server,  # type: ignore[no-untyped-def]
                                                   certificate) -> None:
    runtime.mailer = Mailer("127.0.0.1", starttls_server.port, security="starttls", username="bridge",
                            password="s3cret", timeout=5, ssl_context=client_context(certificate))
    message_id = queue(runtime, tenant)
    drain(worker)
    assert len(starttls_server.received) == 1 and starttls_server.received[0].authenticated_as == "bridge"
    assert message(runtime, message_id).status is MessageStatus.SENT
