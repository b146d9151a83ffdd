"""SMS and WhatsApp: text from the tenant's templates, sent through its messaging provider.

Templates: ``bridge/invoices/templates/<sms|whatsapp>/<kind>.txt``, overridden per tenant by
``<templates_dir>/<kb_tenant_id>/<sms|whatsapp>/<kind>.txt`` (the same loader as email, plain text, never
autoescaped). An SMS is one short line with the ``/pay`` link: whatever the template's layout, its
whitespace is folded into single spaces. A WhatsApp message keeps its lines.

Recipients are E.164 numbers (:mod:`bridge.channels.phones`); the provider's WhatsApp addresses are the same
numbers behind ``whatsapp:``. The sender is the tenant's ``channels.sms_sender`` / ``channels.whatsapp_sender``
and the provider its ``messaging_*`` credentials.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from jinja2 import TemplateError

from bridge.channels import SMS, WHATSAPP
from bridge.channels.delivery import Delivered, Outgoing
from bridge.channels.outcomes import Misconfigured
from bridge.channels.phones import e164, is_e164, masked
from bridge.channels.provider import MAX_BODY_CHARS, MessagingProvider
from bridge.invoices.email import template_environment, template_values

if TYPE_CHECKING:
    from bridge.tenancy.env import TenantEnv
    from killbill_client.models import Account

_BLANK_LINES = re.compile(r"\n{3,}")
_SETTINGS = ("`bridge tenants update --messaging-base-url … --messaging-account-sid … "
             "--set-secret messaging_auth_token`")


def provider_for(env: TenantEnv) -> MessagingProvider:
    """The tenant's messaging provider; Misconfigured when it has none."""
    creds = env.creds
    if not (creds.messaging_base_url and creds.messaging_account_sid and creds.messaging_auth_token):
        raise Misconfigured("the tenant has no messaging provider (messaging_base_url, messaging_account_sid, "
                            "messaging_auth_token)", f"set them with {_SETTINGS}, then `bridge jobs retry`")
    return MessagingProvider(creds.messaging_base_url, creds.messaging_account_sid, creds.messaging_auth_token)


class TextChannel:
    """A channel of short texts to a phone number: SMS or WhatsApp."""

    def __init__(self, name: str, *, one_line: bool, address_prefix: str, sender_setting: str, label: str) -> None:
        self.name = name
        self.one_line = one_line
        self.address_prefix = address_prefix  # how the provider tells this channel's numbers apart
        self.sender_setting = sender_setting  # the attribute of ChannelSettings naming the sender
        self.label = label
        self.no_address = "the account has no phone number"

    def address(self, account: Account) -> str | None:
        """The account's phone in E.164 (read in the account's country when written nationally); the text as
        it is when it is not a valid number, so the skip says so."""
        phone = (account.phone or "").strip()
        if not phone:
            return None
        return e164(phone, account.country) or phone

    def refusal(self, recipient: str) -> str | None:
        return None if is_e164(recipient) else "the account's phone number is not a valid E.164 number"

    def log_form(self, recipient: str) -> str:
        return masked(recipient)

    def render(self, outgoing: Outgoing) -> str:
        message = outgoing.message
        env = template_environment(message.kb_tenant_id, outgoing.runtime.settings.templates_dir, self.name)
        try:
            text = env.get_template(f"{message.kind}.txt").render(template_values(message.kind, outgoing.context))
        except TemplateError as exc:
            raise Misconfigured(f"template error: {type(exc).__name__}: {exc}",
                                f"fix the {message.kind} {self.label} template, then `bridge jobs retry`") from exc
        text = " ".join(text.split()) if self.one_line else _BLANK_LINES.sub("\n\n", text.strip())
        if not text:
            raise Misconfigured(f"the {message.kind} {self.label} template rendered nothing",
                                f"fix the {message.kind} {self.label} template, then `bridge jobs retry`")
        if len(text) > MAX_BODY_CHARS:
            raise Misconfigured(f"the {message.kind} {self.label} template rendered {len(text)} characters, over "
                                f"the provider's {MAX_BODY_CHARS}", "shorten the template, then `bridge jobs retry`")
        return text

    def deliver(self, outgoing: Outgoing) -> Delivered:
        sender = getattr(outgoing.env.settings.channels, self.sender_setting)
        if not sender:
            setting = f"channels.{self.sender_setting}"
            raise Misconfigured(f"the tenant has no {self.label} sender (tenant setting {setting})",
                                f"set {setting}, then `bridge jobs retry`")
        provider = provider_for(outgoing.env)
        body = self.render(outgoing)
        accepted = provider.send(to=self.address_prefix + outgoing.recipient, sender=self.address_prefix + sender,
                                 body=body)
        return Delivered(provider_message_id=accepted.sid)


SMS_CHANNEL = TextChannel(SMS, one_line=True, address_prefix="", sender_setting="sms_sender", label="SMS")
WHATSAPP_CHANNEL = TextChannel(WHATSAPP, one_line=False, address_prefix="whatsapp:",
                               sender_setting="whatsapp_sender", label="WhatsApp")
