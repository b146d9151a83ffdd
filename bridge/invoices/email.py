"""Payor emails: Jinja2 templates (per-tenant overrides), a proper MIME message, and SMTP delivery.

Templates live in ``bridge/invoices/templates/email/<kind>.subject.txt|.txt|.html``; with the
``templates_dir`` setting, ``<templates_dir>/<kb_tenant_id>/email/<name>`` wins over the built-in file of
the same name (any file, including the shared ``_layout.html``). The other channels keep theirs the same way
in ``templates/<channel>/`` (:mod:`bridge.channels.text`). Templates run sandboxed; HTML is
autoescaped, plain text and subjects are not. A context key a template uses but the caller did not give
is an error (``StrictUndefined``), never a silently empty link.

Message bodies hold the payor's ``/pay/<token>`` link, a bearer credential: nothing here logs them.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Literal

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from bridge.channels.outcomes import DeliveryFailed
from bridge.settings import Settings

TEMPLATES_ROOT = Path(__file__).resolve().parent / "templates"
BUILTIN_TEMPLATES = TEMPLATES_ROOT / "email"
KINDS = ("pay_link", "reminder", "receipt", "payment_failed", "account_pay_link", "lump_sum_receipt")
# Kinds that are solicitations the payor may opt out of: they carry List-Unsubscribe.
UNSUBSCRIBABLE_KINDS = frozenset({"reminder"})

_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ADDRESS = re.compile(r"^[^@\s<>\"(),;:\\\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.[A-Za-z0-9-]{2,}$")
_MAX_ADDRESS = 254


def valid_address(value: str | None) -> bool:
    """A plain ``local@domain.tld`` address (no display name, no comments, no header tricks)."""
    if not value or len(value) > _MAX_ADDRESS or not _ADDRESS.match(value):
        return False
    try:
        Address(addr_spec=value)
    except (ValueError, IndexError):
        return False
    return True


# -- rendering ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


_environments: dict[tuple[str | None, str, str], SandboxedEnvironment] = {}
_environments_lock = threading.Lock()


def _autoescape(name: str | None) -> bool:
    return bool(name and name.endswith(".html"))


def template_environment(kb_tenant_id: str, templates_dir: Path | None,
                         channel: str = "email") -> SandboxedEnvironment:
    """The tenant's templates of a channel: its override directory first, then the built-in templates."""
    key = (str(templates_dir) if templates_dir else None, kb_tenant_id, channel)
    with _environments_lock:
        cached = _environments.get(key)
        if cached is not None:
            return cached
        loaders = []
        if templates_dir is not None:
            if not _SAFE_SEGMENT.match(kb_tenant_id):
                raise ValueError(f"unusable tenant id for a template directory: {kb_tenant_id!r}")
            # A directory created later is picked up: FileSystemLoader looks on every cache miss, and
            # auto_reload re-reads a changed file.
            loaders.append(FileSystemLoader(str(Path(templates_dir) / kb_tenant_id / channel)))
        loaders.append(FileSystemLoader(str(TEMPLATES_ROOT / channel)))
        env = SandboxedEnvironment(loader=ChoiceLoader(loaders), autoescape=_autoescape, undefined=StrictUndefined,
                                   auto_reload=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
        _environments[key] = env
        return env


# Keys every template may test without the caller having to give them.
_OPTIONAL_KEYS = ("account_name", "invoice_number", "invoice_date", "due_date", "amount_due", "pay_url",
                  "reminder_number", "amount_paid", "remaining_due", "unsubscribe_url", "can_save_card")


def template_values(kind: str, context: dict[str, Any]) -> dict[str, Any]:
    """What a template of ``kind`` sees, on any channel: the context over the defaults of the optional keys."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    values: dict[str, Any] = {key: None for key in _OPTIONAL_KEYS}
    values["items"] = []
    values["brand_name"] = ""
    values.update(context)
    return values


def render(kind: str, context: dict[str, Any], *, kb_tenant_id: str,
           templates_dir: Path | None = None) -> RenderedEmail:
    """Subject, plain text and HTML of one email; raises ``jinja2.TemplateError`` for a broken template."""
    values = template_values(kind, context)
    env = template_environment(kb_tenant_id, templates_dir)
    subject = env.get_template(f"{kind}.subject.txt").render(values)
    subject = " ".join(subject.split())  # one line: no header folding tricks from a template or context
    text = env.get_template(f"{kind}.txt").render(values)
    html = env.get_template(f"{kind}.html").render(values)
    return RenderedEmail(subject=subject, text=text, html=html)


# -- the MIME message -----------------------------------------------------------------------------------
class _Policy(EmailPolicy):
    """The default policy, except that List-Unsubscribe is folded only between its URIs: a URI longer than a
    line stays whole (the default would turn it into RFC 2047 encoded-words, which no mailbox reads as a URL)."""

    def fold(self, name: str, value: Any) -> str:
        if name.lower() != "list-unsubscribe":
            return super().fold(name, value)
        uris = [uri.strip() for uri in str(value).split(",")]
        return f"{name}: " + f",{self.linesep} ".join(uris) + self.linesep

    def fold_binary(self, name: str, value: Any) -> bytes:
        if name.lower() != "list-unsubscribe":
            return super().fold_binary(name, value)
        return self.fold(name, value).encode("ascii")


_POLICY = _Policy()

def message_id_for(message_id: int, kb_tenant_id: str, send_key: str, domain: str) -> str:
    """A stable Message-ID: every (re)send of one message carries the same id, so receivers can dedupe."""
    digest = hashlib.sha256(f"{kb_tenant_id}\0{send_key}".encode()).hexdigest()[:20]
    return f"<bridge.{message_id}.{digest}@{domain}>"


def build_email(*, rendered: RenderedEmail, sender: str, recipient: str, brand_name: str | None = None,
                reply_to: str | None = None, message_id: str, date: datetime,
                unsubscribe: bool = False, unsubscribe_url: str | None = None) -> EmailMessage:
    """A multipart/alternative message (plain text first, HTML preferred) with the bridge's headers.

    ``unsubscribe``: List-Unsubscribe, with the one-click ``unsubscribe_url`` (RFC 8058: an HTTPS URI that
    takes a POST, announced by List-Unsubscribe-Post) before the mailto fallback when there is one.
    """
    email = EmailMessage(policy=_POLICY)
    email["From"] = Address(display_name=brand_name or "", addr_spec=sender)
    email["To"] = Address(addr_spec=recipient)
    if reply_to:
        email["Reply-To"] = Address(addr_spec=reply_to)
    email["Subject"] = rendered.subject
    email["Date"] = format_datetime(date)
    email["Message-ID"] = message_id
    # RFC 3834: an automatic message; autoresponders must not answer it.
    email["Auto-Submitted"] = "auto-generated"
    if unsubscribe:
        mailto = f"<mailto:{reply_to or sender}?subject=unsubscribe>"
        email["List-Unsubscribe"] = f"<{unsubscribe_url}>, {mailto}" if unsubscribe_url else mailto
        if unsubscribe_url:
            email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(rendered.text, subtype="plain", charset="utf-8")
    email.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return email


# -- delivery -------------------------------------------------------------------------------------------
class SendError(DeliveryFailed):
    """The SMTP server did not take the message. ``permanent``: it refused the recipient for good (5xx)."""

    def __init__(self, reason: str, *, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


Security = Literal["none", "starttls", "tls"]


class Mailer:
    """Sends one message per SMTP session, over plain SMTP, STARTTLS or implicit TLS, with optional AUTH."""

    def __init__(self, host: str, port: int, *, security: Security = "none", username: str | None = None,
                 password: str | None = None, timeout: float = 10.0, ssl_context: ssl.SSLContext | None = None,
                 local_hostname: str | None = None) -> None:
        if security not in ("none", "starttls", "tls"):
            raise ValueError(f"unknown SMTP security {security!r}")
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout
        self.ssl_context = ssl_context
        self.local_hostname = local_hostname

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> Mailer:
        options: dict[str, Any] = {
            "security": settings.smtp_security, "username": settings.smtp_username,
            "password": settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            "timeout": settings.smtp_timeout_seconds}
        options.update(overrides)
        return cls(settings.smtp_host, settings.smtp_port, **options)

    def _context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        if self.security == "tls":
            return smtplib.SMTP_SSL(self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout,
                                    context=self._context())
        smtp = smtplib.SMTP(self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout)
        if self.security == "starttls":
            try:
                smtp.starttls(context=self._context())  # refuses to go on in clear if the server lacks STARTTLS
            except BaseException:
                smtp.close()
                raise
        return smtp

    def _login(self, smtp: smtplib.SMTP) -> None:
        """AUTH PLAIN when offered (one attempt: a wrong password is not tried again through every
        mechanism, which would count twice against lockout limits), else smtplib's own choice."""
        smtp.ehlo_or_helo_if_needed()
        offered = smtp.esmtp_features.get("auth", "").upper().split()
        if "PLAIN" in offered:
            smtp.user, smtp.password = self.username or "", self.password or ""
            smtp.auth("PLAIN", smtp.auth_plain)
        else:
            smtp.login(self.username or "", self.password or "")

    def send(self, email: EmailMessage) -> None:
        """Deliver to the SMTP server; raises :class:`SendError` when it did not accept the message."""
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"cannot reach SMTP {self.host}:{self.port}: {_describe(exc)}") from exc
        try:
            if self.username:
                self._login(smtp)
            smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise SendError(f"recipient refused: {_describe(exc)}",
                            permanent=bool(codes) and all(code >= 500 for code in codes)) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"SMTP {self.host}:{self.port}: {_describe(exc)}") from exc
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
                         for code, reply in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        return f"{exc.smtp_code} {error}"
    return f"{type(exc).__name__}: {exc}"
