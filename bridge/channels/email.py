"""The email channel: the tenant's email templates, a MIME message, SMTP (:mod:`bridge.invoices.email`).

The Message-ID derives from the message, so a resend after a crash carries the same id and mailboxes
collapse the duplicate (see :mod:`bridge.invoices.messages`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from jinja2 import TemplateError

from bridge.channels import EMAIL
from bridge.channels.delivery import Delivered, Outgoing
from bridge.channels.outcomes import Misconfigured, Undeliverable
from bridge.invoices.email import (UNSUBSCRIBABLE_KINDS, Mailer, SendError, build_email, message_id_for, render,
                                   valid_address)

if TYPE_CHECKING:
    from bridge.runtime import Runtime
    from killbill_client.models import Account


def _mailer(runtime: Runtime) -> Mailer:
    injected = getattr(runtime, "mailer", None)
    return injected if injected is not None else Mailer.from_settings(runtime.settings)


def _domain(runtime: Runtime) -> str:
    return urlsplit(runtime.settings.base_url).hostname or "bridge.invalid"


class EmailChannel:
    name = EMAIL
    no_address = "no recipient address"

    def address(self, account: Account) -> str | None:
        return account.email.strip() if account.email and account.email.strip() else None

    def refusal(self, recipient: str) -> str | None:
        return None if valid_address(recipient) else "recipient is not a valid email address"

    def log_form(self, recipient: str) -> str:
        return recipient

    def deliver(self, outgoing: Outgoing) -> Delivered:
        message, context, runtime = outgoing.message, outgoing.context, outgoing.runtime
        email_settings = outgoing.env.settings.email
        if not email_settings.sender:
            raise Misconfigured("the tenant has no email sender (tenant setting email.sender)",
                                "set email.sender, then `bridge jobs retry`")
        try:
            rendered = render(message.kind, context, kb_tenant_id=message.kb_tenant_id,
                              templates_dir=runtime.settings.templates_dir)
        except TemplateError as exc:
            raise Misconfigured(f"template error: {type(exc).__name__}: {exc}",
                                f"fix the {message.kind} email template, then `bridge jobs retry`") from exc
        header_id = message_id_for(message.id, message.kb_tenant_id, message.send_key, _domain(runtime))
        unsubscribable = message.kind in UNSUBSCRIBABLE_KINDS
        email = build_email(rendered=rendered, sender=email_settings.sender, recipient=outgoing.recipient,
                            brand_name=context.get("brand_name") or None, reply_to=email_settings.reply_to,
                            message_id=header_id, date=outgoing.now, unsubscribe=unsubscribable,
                            unsubscribe_url=context.get("unsubscribe_url") if unsubscribable else None)
        try:
            _mailer(runtime).send(email)
        except SendError as exc:
            if exc.permanent:
                raise Undeliverable(f"refused by the SMTP server: {exc}") from exc
            raise  # a DeliveryFailed: retried
        return Delivered(provider_message_id=header_id, subject=rendered.subject[:500])


EMAIL_CHANNEL = EmailChannel()
