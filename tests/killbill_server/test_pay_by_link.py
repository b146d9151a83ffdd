"""Pay by link on a real Kill Bill: an AUTO_PAY_OFF account is not charged by Kill Bill; the bridge, told of the
invoice by Kill Bill's push notification, emails the payor a link to its /pay page; paying there goes through
a Hyperswitch payment link, and the bridge records the payment in Kill Bill exactly once."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import urljoin

import requests

from bridge.payments import ids
from bridge.simulators.payors import APPROVED_CARD
from bridge.simulators.smtp import SmtpSink
from killbill_client.models import TransactionStatus, TransactionType
from tests.killbill_server.harness import Biller, eventually
from tests.stack import HTTP_TIMEOUT


def pay_link_in_mail(smtp: SmtpSink, recipient: str, bridge_url: str) -> str | None:
    for received in smtp.received:
        if recipient not in received.rcpt_tos:
            continue
        body = received.email.get_body(("plain",))
        text = body.get_content() if body is not None else ""  # type: ignore[attr-defined]
        match = re.search(re.escape(bridge_url) + r"/pay/[A-Za-z0-9._-]+(?=\s|$)", text)
        if match:
            return match.group(0)
    return None


def redirect(http: requests.Session, method: str, url: str, **kwargs: object) -> str:
    response = http.request(method, url, allow_redirects=False, timeout=HTTP_TIMEOUT, **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 303, (method, url, response.status_code, response.text[:300])
    return urljoin(url, response.headers["Location"])


def test_auto_pay_off_invoice_is_paid_through_the_emailed_link(biller: Biller, smtp_sink: SmtpSink) -> None:
    payor = biller.payor("Grace Hopper", auto_pay_off=True)

    invoice_id = payor.invoice("75.00", "Team plan, annual")

    pay_url = eventually(lambda: pay_link_in_mail(smtp_sink, payor.email, biller.sidecar.url),
                         "the bridge's pay-by-link email")
    assert payor.payments(invoice_id) == []  # AUTO_PAY_OFF: Kill Bill charged nothing

    # The payor's browser: "Pay" (a POST) on the bridge's page, the card on Hyperswitch's hosted payment-link
    # page, then back to the bridge's return page.
    with requests.Session() as browser:
        hosted = redirect(browser, "POST", pay_url)
        back = redirect(browser, "POST", hosted, data={
            "card_number": APPROVED_CARD, "card_exp_month": "12", "card_exp_year": "2035",
            "card_holder_name": "Grace Hopper", "card_cvc": "123"})
        page = browser.get(back, timeout=HTTP_TIMEOUT)
        assert page.status_code == 200

    eventually(lambda: payor.balance(invoice_id) == Decimal(0), "the invoice to be paid in Kill Bill")
    [payment] = payor.payments(invoice_id, with_plugin_info=True)
    [purchase] = payment.transactions or []
    assert (purchase.transaction_type, purchase.status, purchase.amount) == (
        TransactionType.PURCHASE, TransactionStatus.SUCCESS, Decimal("75.00"))
    # Recorded against the payment the payor made through the link, not a new charge.
    link_payment = biller.hs.payments.retrieve(purchase.first_payment_reference_id or "")
    assert str(link_payment.status) == "succeeded" and link_payment.amount == 7500
    kind, _ = ids.parse(link_payment.payment_id) or (None, None)
    assert kind is ids.IdKind.LINK
    # No merchant-initiated charge was made for Kill Bill's transaction: only the link's payment exists.
    assert [row["payment_id"] for row in biller.charges_in_hyperswitch()
            if ids.parse(row["payment_id"])[0] is ids.IdKind.PAYMENT] == []
    # Opening the page again shows it paid, and nothing is recorded twice.
    assert 'data-state="paid"' in requests.get(pay_url, timeout=HTTP_TIMEOUT).text
    assert len(payor.payments(invoice_id)) == 1
