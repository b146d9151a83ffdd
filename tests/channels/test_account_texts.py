"""The account-level messages by SMS and WhatsApp, as deployed: "pay your open invoices" with the account page
link, and the one receipt of a payment of several invoices, listing each invoice and its part."""

from __future__ import annotations

import re
from uuid import UUID

from bridge.invoices import lump_sums
from tests.channels import test_flow as deployed
from tests.channels.test_flow import texting  # noqa: F401  (the fixture)
from tests.invoices.conftest import *  # noqa: F401,F403  (the deployed flow: simulators, worker, SMTP sink)
from tests.invoices.conftest import Flow
from tests.invoices.test_lump_sums import come_back, pay_all
from tests.invoices.test_pay_flow import pay_on_hosted_page


def account_path(flow: Flow, text: str) -> str:
    found = re.search(rf"{re.escape(flow.url)}(/pay/account/[A-Za-z0-9._-]+)", text)
    assert found, text
    return found.group(1)


def numbers(flow: Flow, invoices: list[UUID]) -> list[str]:
    return [str(flow.kb.invoices.get(i).invoice_number) for i in invoices]


def test_the_account_notice_goes_out_by_text_with_the_account_page_link(texting, provider, client,  # noqa: F811
                                                                        admin_headers) -> None:
    flow = texting
    account_id = deployed.payor(flow)
    invoices = [deployed.invoice(flow, account_id, "10.00"), deployed.invoice(flow, account_id, "25.50")]
    flow.drain()

    issued = client.post(f"/admin/v1/tenants/{flow.tenant_id}/accounts/{account_id}/pay-link", headers=admin_headers,
                         json={"send": True})
    flow.drain()

    assert issued.json["sent"] is True
    [sms] = [m for m in provider.sent("sms") if "open invoices" in m.body]
    [whatsapp] = [m for m in provider.sent("whatsapp") if "open invoices" in m.body]
    first, second = numbers(flow, invoices)
    assert "\n" not in sms.body and f"2 open invoices ({first}, {second}), $35.50 to pay" in sms.body
    assert f"Invoice {first}: $10.00" in whatsapp.body.splitlines() and "*$35.50*" in whatsapp.body
    for body in (sms.body, whatsapp.body):
        page = client.get(account_path(flow, body))
        assert page.status_code == 200 and 'id="total-due">$35.50<' in page.get_data(as_text=True)


def test_a_payment_of_several_invoices_gets_one_text_receipt_listing_each(texting, provider, client) -> None:  # noqa: F811
    flow = texting
    flow.configure(pay_by_link={"record_as_external_payment": True})  # the payor has no card of the plugin
    account_id = deployed.payor(flow)
    invoices = [deployed.invoice(flow, account_id, amount) for amount in ("10.00", "25.50", "4.50")]
    flow.drain()
    _row, url = lump_sums.open_account_link(flow.env, account_id)
    path = "/pay/account/" + url.rsplit("/pay/account/", 1)[1]

    come_back(client, path, pay_on_hosted_page(pay_all(client, path)))
    flow.drain()

    [sms] = [m for m in provider.sent("sms") if "received" in m.body]
    [whatsapp] = [m for m in provider.sent("whatsapp") if "received" in m.body]
    [_email] = flow.emails("received")
    first, second, third = numbers(flow, invoices)
    assert "\n" not in sms.body and "payment of $40.00 received" in sms.body
    assert f"Invoices {first}: $10.00, {second}: $25.50, {third}: $4.50." in sms.body
    lines = whatsapp.body.splitlines()
    assert "*$40.00*" in whatsapp.body
    assert [f"Invoice {first}: $10.00", f"Invoice {second}: $25.50", f"Invoice {third}: $4.50"] == [
        line for line in lines if line.startswith("Invoice ")]
    assert all(flow.messages(i, "receipt") == [] for i in invoices)
