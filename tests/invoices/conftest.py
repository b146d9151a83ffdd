"""Invoice flow tests reuse the plugin harness: simulators, the mapped tenant, the bridge app; the Kill
Bill simulator calls the bridge's plugin contract served on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from bridge.invoices import paylinks
from bridge.simulators.server import BackgroundServer
from killbill_client.constants import AUTO_PAY_OFF
from killbill_client.models import ExternalCharge
from tests.plugin.conftest import *  # noqa: F401,F403
from tests.plugin.conftest import PLUGIN_SECRET, new_account, save_card

PLUGIN_NAME = "hyperswitch-bridge"


@pytest.fixture
def bridge_server(app, kb_state, tenant_id) -> Iterator[BackgroundServer]:  # type: ignore[no-untyped-def]
    with BackgroundServer(app) as server:
        kb_state.configure_plugin(UUID(tenant_id), PLUGIN_NAME, server.url, PLUGIN_SECRET)
        yield server


@dataclass
class Payor:
    kb: Any
    kb_state: Any
    env: Any
    account_id: UUID

    def invoice(self, amount: str, description: str = "Monthly plan") -> UUID:
        items = self.kb.invoices.create_external_charges(
            self.account_id, [ExternalCharge(amount=Decimal(amount), description=description)])
        assert self.kb_state.wait_idle(timeout=30)
        return items[0].invoice_id

    def link(self, invoice_id: UUID) -> tuple[Any, str]:
        link, url = paylinks.open_pay_link(self.env, self.account_id, invoice_id, "manual_pay")
        return link, "/pay/" + url.rsplit("/pay/", 1)[1]


def make_payor(kb, kb_state, hs, runtime, tenant_id, *, currency: str = "USD",  # type: ignore[no-untyped-def]
               with_card: bool = True) -> Payor:
    """An AUTO_PAY_OFF account (Kill Bill does not auto-pay it), with a card saved through the plugin."""
    from bridge.payments import ids

    account = new_account(kb, currency=currency)
    kb.tags.add_to_account(account.account_id, [AUTO_PAY_OFF])
    if with_card:
        _pm, mandate_id = save_card(hs, ids.customer_id(account.account_id), currency=currency)
        kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True,
                               plugin_info_properties={"hsMandateId": mandate_id})
    return Payor(kb, kb_state, runtime.tenant_env(tenant_id), account.account_id)


@pytest.fixture
def payor(kb, kb_state, hs, runtime, tenant_id, bridge_server) -> Payor:  # type: ignore[no-untyped-def]
    return make_payor(kb, kb_state, hs, runtime, tenant_id)
