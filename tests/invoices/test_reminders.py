"""The reminder schedule as a calculation, and the unsubscribe tokens (no servers needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from bridge.invoices import tokens
from bridge.invoices.reminders import Slot, account_zone, slots
from bridge.tenancy.schemas import ReminderSettings, TenantSettings
from killbill_client.models import Account

INVOICE_DATE = date(2026, 3, 1)
UTC_ZONE = account_zone(Account(time_zone="UTC"))


def test_the_schedule_merges_both_lists_in_date_order_and_numbers_it() -> None:
    settings = ReminderSettings(days_after_invoice=[14, 3, 7, 7], days_before_due=[7, 1])
    due = INVOICE_DATE + timedelta(days=14)

    schedule = slots(settings, INVOICE_DATE, due, UTC_ZONE)

    # Day 7 is both "7 days after" and "7 days before the due date": one reminder.
    assert schedule == [Slot(n, INVOICE_DATE + timedelta(days=d), datetime.combine(
        INVOICE_DATE + timedelta(days=d), datetime.min.time(), UTC) + timedelta(hours=9))
        for n, d in ((1, 3), (2, 7), (3, 13), (4, 14))]


def test_without_a_due_date_only_days_after_the_invoice_count_and_none_falls_before_it() -> None:
    settings = ReminderSettings(days_after_invoice=[3], days_before_due=[5])
    assert [s.day for s in slots(settings, INVOICE_DATE, None, UTC_ZONE)] == [date(2026, 3, 4)]
    # Terms of 2 days: "5 days before the due date" would be before the invoice itself.
    assert [s.day for s in slots(settings, INVOICE_DATE, INVOICE_DATE + timedelta(days=2), UTC_ZONE)] == [
        date(2026, 3, 4)]


def test_reminders_go_out_at_the_send_hour_of_the_accounts_time_zone_across_daylight_saving() -> None:
    settings = ReminderSettings(days_after_invoice=[3, 14], send_hour=9)
    new_york = account_zone(Account(time_zone="America/New_York"))

    march_4, march_15 = slots(settings, INVOICE_DATE, None, new_york)

    assert march_4.at == datetime(2026, 3, 4, 14, tzinfo=UTC)  # EST, UTC-5
    assert march_15.at == datetime(2026, 3, 15, 13, tzinfo=UTC)  # EDT from March 8, UTC-4


@pytest.mark.parametrize("zone", [None, "Mars/Olympus_Mons", "../etc/passwd", ""])
def test_an_unknown_time_zone_is_utc(zone: str | None) -> None:
    assert account_zone(Account(time_zone=zone)).key == "UTC"


@pytest.mark.parametrize("reminders", [{"send_hour": 24}, {"days_after_invoice": [400]},
                                       {"days_before_due": [-1]}, {"every": 3}])
def test_reminder_settings_refuse_what_cannot_be_a_schedule(reminders: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationError):
        TenantSettings.model_validate({"reminders": reminders})


def test_payment_terms_and_the_saved_card_default_are_tenant_settings() -> None:
    settings = TenantSettings.model_validate({"pay_by_link": {"payment_terms_days": 30,
                                                              "saved_card_becomes_default": True}})
    assert settings.pay_by_link.payment_terms_days == 30 and settings.pay_by_link.saved_card_becomes_default
    defaults = TenantSettings()
    assert defaults.pay_by_link.payment_terms_days is None and not defaults.pay_by_link.saved_card_becomes_default
    assert defaults.reminders.send_hour == 9
    with pytest.raises(ValidationError):
        TenantSettings.model_validate({"pay_by_link": {"payment_terms_days": 366}})


# -- unsubscribe tokens ------------------------------------------------------------------------------------
def test_unsubscribe_tokens_name_tenant_and_account_and_survive_a_key_rotation() -> None:
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    token = tokens.TokenSigner([old_key]).sign_unsubscribe("tenant-1", "account-9")

    claims = tokens.TokenSigner([new_key, old_key]).verify_unsubscribe(token)

    assert (claims.kb_tenant_id, claims.kb_account_id) == ("tenant-1", "account-9")
    with pytest.raises(tokens.InvalidToken):
        tokens.TokenSigner([new_key]).verify_unsubscribe(token)  # the old key left the ring


def test_unsubscribe_and_pay_link_tokens_are_not_interchangeable_and_tampering_shows() -> None:
    signer = tokens.TokenSigner([Fernet.generate_key().decode()])
    pay_token = signer.sign("tenant-1", 7, datetime.now(UTC) + timedelta(days=1))
    unsubscribe_token = signer.sign_unsubscribe("tenant-1", "account-9")

    for forged in (pay_token, unsubscribe_token[:-2] + "xx", "", "a" * 600, "not.a.token"):
        with pytest.raises(tokens.InvalidToken):
            signer.verify_unsubscribe(forged)
    with pytest.raises(tokens.InvalidToken):
        signer.verify(unsubscribe_token, datetime.now(UTC))
