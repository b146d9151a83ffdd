"""benchmarks/billing_run.py: how the emails are matched to the invoices and counted, the per-invoice
figures, and (slow) a small run of the whole benchmark on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from benchmarks import billing_run
from benchmarks.billing_run import Invoice, Payor, check_emails
from bridge.simulators.smtp import Received

BASE = "http://127.0.0.1:8787"
COMMITTED = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def _email(to: str, subject: str, body: str, after_seconds: float) -> Received:
    email = EmailMessage()
    email["From"], email["To"], email["Subject"] = "billing@acme.example", to, subject
    email.set_content(body)
    return Received("billing@acme.example", [to], email.as_bytes(), None, False,
                    COMMITTED + timedelta(seconds=after_seconds))


def _run(count: int) -> tuple[list[Invoice], dict[str, Payor]]:
    invoices = [Invoice(f"inv-{n}", f"acct-{n}", 100 + n) for n in range(count)]
    return invoices, {i.account_id: Payor(i.account_id, f"payor-{n}@example.com") for n, i in enumerate(invoices)}


def _pay_email(n: int, after: float, *, link: bool = True, number: int | None = None) -> Received:
    body = f"Review and pay it here:\n{BASE}/pay/tok.{n}-abc_D\n" if link else "Pay by bank transfer.\n"
    return _email(f"payor-{n}@example.com", f"Acme: invoice {number or 100 + n} for $19.99", body, after)


def test_each_invoice_needs_exactly_one_email_with_a_link() -> None:
    invoices, payors = _run(6)
    received = [
        _pay_email(0, 1.0), _pay_email(1, 2.5),
        _pay_email(2, 3.0), _pay_email(2, 4.0),  # a duplicate
        _pay_email(3, 3.5, link=False),  # no /pay link
        # invoice 4 gets nothing; invoice 5's payor gets one about another invoice number
        _pay_email(5, 5.0, number=104),
        _email("stranger@example.com", "Acme: invoice 100 for $19.99", f"{BASE}/pay/x", 6.0),
        _email("payor-1@example.com", "Acme: invoice 1001 for $19.99", f"{BASE}/pay/y", 6.0),  # not 101
    ]

    check = check_emails(received, invoices, payors, BASE)

    assert check.as_dict() == {"invoices": 6, "with_exactly_one_email": 2, "missing": 2, "duplicated": 1,
                               "without_link": 1, "unexpected": 3, "errors": 7}
    assert check.missing == ["inv-4", "inv-5"] and check.duplicated == ["inv-2"] and check.without_link == ["inv-3"]
    assert check.delivered == {"inv-0": (COMMITTED + timedelta(seconds=1.0), "/pay/tok.0-abc_D"),
                               "inv-1": (COMMITTED + timedelta(seconds=2.5), "/pay/tok.1-abc_D")}


def test_figures_time_each_invoice_from_the_commit() -> None:
    invoices, payors = _run(100)
    check = check_emails([_pay_email(n, 1.0 + n / 10) for n in range(100)], invoices, payors, BASE)
    stored = {f"inv-{n}": (COMMITTED + timedelta(seconds=0.5), COMMITTED + timedelta(seconds=0.8),
                           COMMITTED + timedelta(seconds=0.9 + n / 10)) for n in range(100)}

    figures = billing_run._figures(COMMITTED, check, stored)

    assert (figures["first_email_s"], figures["last_email_s"], figures["end_to_end_s"]) == (1.0, 10.9, 10.9)
    assert figures["invoices_per_second"] == round(100 / 10.9, 1)
    assert figures["delay"] == {"p50_s": 5.9, "p99_s": 10.8}
    stages = figures["stages"]
    assert stages["push_delivery"] == {"p50_s": 0.5, "p99_s": 0.5} and stages["sending"]["p99_s"] == 0.1
    assert stages["event_job"]["p50_s"] == 0.3 and stages["send_job_wait"]["p99_s"] == 9.9


@pytest.mark.slow
def test_a_small_billing_run_on_sqlite(tmp_path: Path) -> None:
    figures = billing_run.billing_run(f"sqlite:///{tmp_path / 'bridge.db'}", invoices=40, job_workers=1)

    assert figures["errors"] == 0 and figures["settled"]
    assert figures["emails"]["with_exactly_one_email"] == 40 and figures["pay_links"] == 40
    assert figures["links"]["pages_and_redirects_ok"] == figures["links"]["followed"] == 10
    assert figures["links"]["hyperswitch_links_for_the_balance"] == 10
    # The email and three reminders (days 3, 7 and 14) queued per invoice; the reminders wait for their day.
    assert figures["jobs"]["message.send:done"] == 40 and figures["jobs"]["message.send:pending"] == 120
    assert 0 < figures["first_email_s"] <= figures["delay"]["p50_s"] <= figures["last_email_s"]
    assert figures["cpu_s"]["bridge_worker_1"] > 0 and figures["memory_mib"]["worker_1_mib"] > 0
