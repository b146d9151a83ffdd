"""Every channel by name: an explicit dict, like the job registry."""

from __future__ import annotations

from bridge.channels import CHANNELS
from bridge.channels.delivery import Channel
from bridge.channels.email import EMAIL_CHANNEL
from bridge.channels.text import SMS_CHANNEL, WHATSAPP_CHANNEL

_BY_NAME: dict[str, Channel] = {channel.name: channel for channel in (EMAIL_CHANNEL, SMS_CHANNEL, WHATSAPP_CHANNEL)}
assert tuple(_BY_NAME) == CHANNELS


def get(name: str) -> Channel:
    """The channel called ``name``; raises ValueError for a name the bridge does not know."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown channel {name!r}") from None
