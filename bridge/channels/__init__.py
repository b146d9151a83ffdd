"""Channels: how a payor hears from the biller — email, SMS, WhatsApp — behind one interface.

* :mod:`bridge.channels.choice` — which channels a payor gets (the tenant's default, overridden per Kill
  Bill account by the custom field ``NOTIFICATION_CHANNELS``) and the account's address on each.
* :mod:`bridge.channels.delivery` — the interface every channel implements (its address on an account,
  whether a recipient is one, delivering one rendered message) and what a delivery can end in.
* :mod:`bridge.channels.email` — email through SMTP (:mod:`bridge.invoices.email`).
* :mod:`bridge.channels.text` — SMS and WhatsApp: per-channel templates, sent through the tenant's
  messaging provider (:mod:`bridge.channels.provider`, a Twilio-compatible HTTP API).
* :mod:`bridge.channels.phones` — E.164 phone numbers.

Queueing, sending once, retries and the message log are the channel-independent part, in
:mod:`bridge.invoices.messages`.
"""

from __future__ import annotations

EMAIL, SMS, WHATSAPP = "email", "sms", "whatsapp"
CHANNELS = (EMAIL, SMS, WHATSAPP)
