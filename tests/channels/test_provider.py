"""The messaging provider client against the local fake provider: what each answer means for a message."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

from bridge.channels.outcomes import DeliveryFailed, Misconfigured, Undeliverable
from bridge.channels.provider import MAX_BODY_CHARS, MAX_RETRY_AFTER_SECONDS, MessagingProvider
from bridge.simulators.smtp import free_port
from tests.channels.conftest import AUTH_TOKEN, PAYOR_PHONE, SMS_SENDER, WHATSAPP_SENDER, Provider


def client(provider: Provider, token: str | None = None, sid: str | None = None) -> MessagingProvider:
    return MessagingProvider(provider.url, sid or provider.account_sid, token or provider.auth_token)


def test_an_sms_is_accepted_with_its_sid_and_recorded_as_sent(provider: Provider) -> None:
    accepted = client(provider).send(to=PAYOR_PHONE, sender=SMS_SENDER, body="Acme: invoice 7. Pay: https://x/pay/t")
    assert accepted.status == "queued" and accepted.sid and accepted.sid.startswith("SM")
    [sent] = provider.sent()
    assert (sent.sid, sent.to, sent.from_, sent.body, sent.channel) == (
        accepted.sid, PAYOR_PHONE, SMS_SENDER, "Acme: invoice 7. Pay: https://x/pay/t", "sms")


def test_the_wire_shape_is_twilios(provider: Provider) -> None:
    """Form-encoded To/From/Body, Basic auth with the account SID, the Message resource back."""
    auth = base64.b64encode(f"{provider.account_sid}:{AUTH_TOKEN}".encode()).decode()
    response = requests.post(f"{provider.url}/2010-04-01/Accounts/{provider.account_sid}/Messages.json",
                             data={"To": f"whatsapp:{PAYOR_PHONE}", "From": f"whatsapp:{WHATSAPP_SENDER}",
                                   "Body": "Hello"}, headers={"Authorization": f"Basic {auth}"}, timeout=5)
    assert response.status_code == 201
    resource = response.json()
    assert resource["to"] == f"whatsapp:{PAYOR_PHONE}" and resource["status"] == "queued"
    assert resource["uri"] == f"/2010-04-01/Accounts/{provider.account_sid}/Messages/{resource['sid']}.json"
    listed = requests.get(f"{provider.url}/2010-04-01/Accounts/{provider.account_sid}/Messages.json",
                          auth=(provider.account_sid, AUTH_TOKEN), timeout=5).json()
    assert [m["sid"] for m in listed["messages"]] == [resource["sid"]]
    assert provider.sent()[0].channel == "whatsapp"


@pytest.mark.parametrize("to, sender, code", [
    ("+1555", SMS_SENDER, 21211),  # not a number
    ("", SMS_SENDER, 21604),  # no recipient
    (f"whatsapp:{PAYOR_PHONE}", SMS_SENDER, 21910),  # channels mixed
])
def test_a_refused_message_is_undeliverable_with_the_providers_code(provider: Provider, to, sender, code) -> None:
    with pytest.raises(Undeliverable, match=f"HTTP 400 \\(code {code}\\)"):
        client(provider).send(to=to, sender=sender, body="Pay")
    assert provider.sent() == [] and provider.state.answers[400] == 1


def test_a_payor_who_replied_stop_is_undeliverable(provider: Provider) -> None:
    provider.state.opt_out(PAYOR_PHONE)
    with pytest.raises(Undeliverable, match="21610.*unsubscribed recipient"):
        client(provider).send(to=PAYOR_PHONE, sender=SMS_SENDER, body="Pay")


def test_wrong_credentials_are_the_tenants_to_fix_and_never_shown(provider: Provider) -> None:
    wrong = "msgtoken-wrong-0000000000000"
    with pytest.raises(Misconfigured) as excinfo:
        client(provider, token=wrong).send(to=PAYOR_PHONE, sender=SMS_SENDER, body="Pay")
    assert "HTTP 401 (code 20003)" in str(excinfo.value) and "messaging_auth_token" in excinfo.value.remedy
    assert wrong not in str(excinfo.value) and wrong not in repr(client(provider, token=wrong))
    other_sid, _ = provider.state.add_account()
    with pytest.raises(Misconfigured, match="HTTP 401"):  # another account's SID with our token
        client(provider, sid=other_sid, token=AUTH_TOKEN).send(to=PAYOR_PHONE, sender=SMS_SENDER, body="Pay")
    wrong_base = MessagingProvider(f"{provider.url}/v1", provider.account_sid, AUTH_TOKEN)
    with pytest.raises(Misconfigured, match="HTTP 404"):  # a base URL that is not the API's
        wrong_base.send(to=PAYOR_PHONE, sender=SMS_SENDER, body="Pay")
    assert provider.sent() == []


def test_rate_limited_is_retried_after_the_providers_retry_after(provider: Provider) -> None:
    provider.state.rate_limit(requests=1, retry_after=7)
    with pytest.raises(DeliveryFailed) as excinfo:
        client(provider).send(to=PAYOR_PHONE, sender=SMS_SENDER, body="Pay")
    assert excinfo.value.retry_after == 7 and "rate limited" in str(excinfo.value) and "20429" in str(excinfo.value)
    assert provider.sent() == []
    assert client(provider).send(to=PAYOR_PHONE, sender=SMS_SENDER, body="Pay").sid  # the next one goes


def test_unavailable_or_limited_without_retry_after_takes_the_jobs_backoff(provider: Provider) -> None:
    provider.state.fail_next(503, None, "maintenance")
    provider.state.fail_next(429, 20429, "Too Many Requests")
    for expected in ("unavailable: HTTP 503: maintenance", "rate limited by HTTP 429 (code 20429)"):
        with pytest.raises(DeliveryFailed) as excinfo:
            client(provider).send(to=PAYOR_PHONE, sender=SMS_SENDER, body="Pay")
        assert expected in str(excinfo.value) and excinfo.value.retry_after is None
    assert provider.sent() == []


def test_retry_after_as_an_http_date_is_capped(provider: Provider) -> None:
    provider.state.fail_next(429, 20429, "Too Many Requests",
                             retry_after=format_datetime(datetime.now(UTC) + timedelta(days=2), usegmt=True))
    with pytest.raises(DeliveryFailed) as excinfo:
        client(provider).send(to=PAYOR_PHONE, sender=SMS_SENDER, body="Pay")
    assert excinfo.value.retry_after == MAX_RETRY_AFTER_SECONDS


def test_an_unreachable_provider_is_retried(provider: Provider) -> None:
    closed = MessagingProvider(f"http://127.0.0.1:{free_port()}", provider.account_sid, AUTH_TOKEN)
    with pytest.raises(DeliveryFailed, match="cannot reach the messaging provider"):
        closed.send(to=PAYOR_PHONE, sender=SMS_SENDER, body="Pay")


def test_a_body_over_the_limit_is_not_sent(provider: Provider) -> None:
    with pytest.raises(Undeliverable, match=str(MAX_BODY_CHARS)):
        client(provider).send(to=PAYOR_PHONE, sender=SMS_SENDER, body="x" * (MAX_BODY_CHARS + 1))
    assert sum(provider.state.answers.values()) == 0
