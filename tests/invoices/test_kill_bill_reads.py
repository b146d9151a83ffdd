"""What the invoice flow reads from Kill Bill per invoice: on a billing run every read is multiplied by the
number of invoices (benchmarks/billing_run.py), so each decision about an invoice reuses what was read."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from bridge.invoices import paylinks, policy
from bridge.invoices.formatting import format_date
from tests.invoices.conftest import Flow
from tests.invoices.test_flow import payor_of


@pytest.fixture
def kill_bill_reads(flow: Flow, monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts the bridge's reads through its Kill Bill client (the tenant's, as the worker uses it)."""
    counts: Counter[str] = Counter()
    transport = flow.env.killbill._transport
    real_get = transport.get

    def get(path: str, query: Any = None) -> Any:
        counts[path.rsplit("/", 1)[-1] if path.endswith(("customFields", "tags")) else path.split("/")[3]] += 1
        return real_get(path, query)

    monkeypatch.setattr(transport, "get", get)
    return counts


def test_an_invoice_reads_the_accounts_custom_fields_once_for_every_decision(flow: Flow, hs: Any,
                                                                             kill_bill_reads: Counter[str]) -> None:
    payor = payor_of(flow, hs)  # a card with a mandate: only the account's override makes it pay by link
    flow.kb.custom_fields.add_to_account(payor.account_id, {"PAY_BY_LINK": "always", "PAYMENT_TERMS_DAYS": "10",
                                                            "NOTIFICATION_CHANNELS": "email"})
    flow.drain()  # the account's own notifications
    kill_bill_reads.clear()

    invoice_id = payor.invoice("12.00")
    flow.drain()

    link = paylinks.find_for_invoice(flow.env, invoice_id)
    assert link is not None and link.reason == policy.ALWAYS  # PAY_BY_LINK=always
    [email] = flow.emails()
    invoice_date = flow.kb.invoices.get(invoice_id).invoice_date
    [first, *_] = flow.messages(invoice_id, "reminder")
    assert first.context["due_date"] == format_date(invoice_date + timedelta(days=10), "en_US")  # the terms
    assert first.channel == "email" and email["To"] == flow.messages(invoice_id, "pay_link")[0].recipient
    # The INVOICE_CREATION event reads the invoice, the account and its custom fields once each (the override
    # decides: no need for the tags); the pay_link email re-reads what it shows and where it goes when sent.
    assert kill_bill_reads == Counter({"invoices": 2, "accounts": 2, "customFields": 2})
