"""The payor's invoice page: rendering, states, tokens (404/410), and that GET never creates anything."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bridge.db.invoices import PayLinkState
from bridge.invoices import paylinks, tokens
from killbill_client.models import InvoiceStatus
from tests.invoices.conftest import make_payor


def test_the_page_shows_the_invoice_and_a_pay_form(client, payor, hs_state) -> None:
    invoice_id = payor.invoice("49.90", "Pro plan")
    _link, path = payor.link(invoice_id)
    before = len(hs_state.payments_overview())

    page = client.get(path)

    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert '<html lang="en">' in html and 'name="viewport"' in html and "<h1>Invoice " in html
    assert "Pro plan" in html and "$49.90" in html and 'data-state="open"' in html
    assert f'<form method="post" action="{path}">' in html and "Pay now $49.90" in html
    assert "http://" not in html.split("<main>")[0].replace('http-equiv', '')  # no external assets
    assert page.headers["Referrer-Policy"] == "no-referrer" and "default-src 'none'" in page.headers[
        "Content-Security-Policy"]
    assert len(hs_state.payments_overview()) == before  # GET created nothing


def test_the_merchant_name_is_the_tenant_brand(client, payor, runtime, tenant_id) -> None:
    from bridge.db.engine import session_scope
    from bridge.db.tenancy import Tenant

    with session_scope(runtime.sessions) as session:
        tenant = session.get(Tenant, tenant_id)
        tenant.settings = {**tenant.settings, "email": {"brand_name": "Acme <Cloud>"}}
    _link, path = payor.link(payor.invoice("10"))

    html = client.get(path).get_data(as_text=True)

    assert "Acme &lt;Cloud&gt;" in html  # escaped


def test_zero_decimal_currency(client, kb, kb_state, hs, runtime, tenant_id, bridge_server) -> None:
    yen = make_payor(kb, kb_state, hs, runtime, tenant_id, currency="JPY")
    _link, path = yen.link(yen.invoice("1500"))

    html = client.get(path).get_data(as_text=True)

    assert "¥1,500" in html and "1,500.00" not in html and "Pay now ¥1,500" in html


def test_a_paid_invoice_shows_paid_and_no_button(client, kb, payor) -> None:
    invoice_id = payor.invoice("20.00")
    link, path = payor.link(invoice_id)
    kb.invoice_payments.pay_invoice(invoice_id, payor.account_id, external_payment=True)

    html = client.get(path).get_data(as_text=True)
    posted = client.post(path)

    assert 'data-state="paid"' in html and "<form" not in html
    assert posted.status_code == 200 and "already paid" in posted.get_data(as_text=True)
    assert paylinks.get(payor.env, link.id).state is PayLinkState.PAID


def test_a_voided_invoice_shows_voided_and_no_button(client, kb_state, payor, tenant_id) -> None:
    from uuid import UUID

    invoice_id = payor.invoice("20.00")
    link, path = payor.link(invoice_id)
    kb_state.invoice(UUID(tenant_id), invoice_id).status = "VOID"

    html = client.get(path).get_data(as_text=True)

    assert 'data-state="voided"' in html and "<form" not in html and "Nothing is due" in html
    assert paylinks.get(payor.env, link.id).state is PayLinkState.VOIDED


def test_a_partial_balance_is_what_is_due(client, kb, payor) -> None:
    invoice_id = payor.invoice("100.00")
    _link, path = payor.link(invoice_id)
    kb.invoice_payments.pay_invoice(invoice_id, payor.account_id, external_payment=True, amount=Decimal("60"))

    html = client.get(path).get_data(as_text=True)

    assert "$100.00" in html and "Pay now $40.00" in html


def test_an_expired_token_is_410(client, payor, runtime) -> None:
    _link, path = payor.link(payor.invoice("5"))
    later = runtime.clock() + timedelta(days=payor.env.settings.pay_by_link.link_valid_days, minutes=1)
    runtime.clock = lambda: later

    for response in (client.get(path), client.post(path), client.get(path + "/return")):
        assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
        assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"),
                                    lambda t: "x" + t, lambda t: "nonsense"])
def test_a_tampered_token_is_404(client, payor, mangle) -> None:
    _link, path = payor.link(payor.invoice("5"))
    token = path.rsplit("/", 1)[1]

    response = client.get(f"/pay/{mangle(token)}")

    assert response.status_code == 404 and "not valid" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_a_token_naming_no_link_is_404(client, payor, runtime, tenant_id) -> None:
    signer = tokens.for_runtime(runtime)
    token = signer.sign(tenant_id, 999_999, runtime.clock() + timedelta(days=1))
    other_tenant = signer.sign("00000000-0000-0000-0000-00000000beef", 1, runtime.clock() + timedelta(days=1))

    assert client.get(f"/pay/{token}").status_code == 404
    assert client.get(f"/pay/{other_tenant}").status_code == 404


def test_tokens_survive_a_key_rotation() -> None:
    from datetime import UTC, datetime

    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    now = datetime.now(UTC)
    token = tokens.TokenSigner([old]).sign("t", 7, now + timedelta(days=1))

    assert tokens.TokenSigner([new, old]).verify(token, now).pay_link_id == 7
    with pytest.raises(tokens.InvalidToken):
        tokens.TokenSigner([new]).verify(token, now)
    with pytest.raises(tokens.ExpiredToken):
        tokens.TokenSigner([new, old]).verify(token, now + timedelta(days=2))


def test_invoice_state_rules() -> None:
    from killbill_client.models import Invoice

    def state(**fields):  # type: ignore[no-untyped-def]
        return paylinks.invoice_state(Invoice(currency="USD", **fields)).state

    assert state(status=InvoiceStatus.COMMITTED, amount=Decimal(10), balance=Decimal(10)) is PayLinkState.OPEN
    assert state(status=InvoiceStatus.COMMITTED, amount=Decimal(10), balance=Decimal(0)) is PayLinkState.PAID
    assert state(status=InvoiceStatus.COMMITTED, amount=Decimal(0), balance=Decimal(0)) is PayLinkState.VOIDED
    assert state(status=InvoiceStatus.VOID, amount=Decimal(10), balance=Decimal(10)) is PayLinkState.VOIDED
