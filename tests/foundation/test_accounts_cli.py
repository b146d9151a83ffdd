"""`bridge links account` and `bridge reminders status|resubscribe`: a support team's tools on a payor's
account from the command line, against the Kill Bill simulator of a mapped tenant."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bridge.cli import cli
from bridge.db.engine import session_scope
from bridge.db.invoices import AccountPayLink, Message
from bridge.invoices import reminders, tokens
from killbill_client.models import ExternalCharge
from tests.plugin.conftest import *  # noqa: F401,F403  (simulators and the mapped tenant)
from tests.plugin.conftest import new_account


@pytest.fixture
def bridge(cli_env: dict[str, str]):  # type: ignore[no-untyped-def]
    runner = CliRunner()

    def invoke(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(cli, list(args), env=cli_env, catch_exceptions=False)

    return invoke


def account_owing(kb, kb_state, *amounts: str) -> str:  # type: ignore[no-untyped-def]
    account = new_account(kb)
    for amount in amounts:
        kb.invoices.create_external_charges(account.account_id, [ExternalCharge(amount=Decimal(amount),
                                                                                description="Monthly plan")])
    assert kb_state.wait_idle(timeout=30)
    return str(account.account_id)


def notices(runtime) -> list[Message]:  # type: ignore[no-untyped-def]
    with session_scope(runtime.sessions) as session:
        return list(session.scalars(select(Message).where(Message.kind == "account_pay_link")))


def test_links_account_prints_the_link_and_the_open_invoices(bridge, runtime, kb, kb_state, tenant_id) -> None:
    account_id = account_owing(kb, kb_state, "10.00", "25.50")

    shown = bridge("links", "account", tenant_id, account_id)
    issued: dict[str, Any] = json.loads(bridge("links", "account", tenant_id, account_id, "--json").stdout)

    assert shown.exit_code == 0, shown.output
    assert "/pay/account/" in shown.stdout and "35.50 USD" in shown.stdout and "no (--send sends it)" in shown.stdout
    assert [line.split()[3] for line in shown.stdout.splitlines()[-2:]] == ["10.00", "25.50"]
    assert (issued["total"], issued["currency"], issued["sent"]) == ("35.50", "USD", False)
    assert [i["balance"] for i in issued["open_invoices"]] == ["10.00", "25.50"]
    # The URL's token names the account's link in this tenant, signed with the deployment's master keys.
    claims = tokens.for_runtime(runtime).verify_account(issued["url"].rsplit("/", 1)[1], runtime.clock())
    with session_scope(runtime.sessions) as session:
        row = session.get(AccountPayLink, claims.account_link_id)
        assert (claims.kb_tenant_id, row.kb_tenant_id, row.kb_account_id) == (tenant_id, tenant_id, account_id)
    assert notices(runtime) == []


def test_links_account_send_queues_the_notice_once_per_link(bridge, runtime, kb, kb_state, tenant_id) -> None:
    account_id = account_owing(kb, kb_state, "12.00")

    first = json.loads(bridge("links", "account", tenant_id, account_id, "--send", "--json").stdout)
    again = bridge("links", "account", tenant_id, account_id, "--send")

    assert first["sent"] is True and "already sent for this link" in again.stdout
    [message] = notices(runtime)
    assert (message.channel, message.recipient, message.kb_account_id) == ("email", "ada@example.test", account_id)
    assert message.context["total_due"] == "$12.00" and "/pay/" not in json.dumps(message.context)


def test_links_account_says_why_it_cannot(bridge, kb, tenant_id) -> None:
    idle = str(new_account(kb).account_id)
    for args, error in (((str(uuid.uuid4()), idle), "error: no tenant"),
                        ((tenant_id, str(uuid.uuid4())), "has no account"),
                        ((tenant_id, idle), "has no open invoice")):
        result = bridge("links", "account", *args)
        assert result.exit_code == 1 and error in result.output, result.output


def test_reminders_status_and_resubscribe(bridge, runtime, kb, tenant_id) -> None:
    account_id = str(new_account(kb).account_id)
    assert "gets payment reminders" in bridge("reminders", "status", tenant_id, account_id).stdout

    reminders.opt_out(runtime.tenant_env(tenant_id), account_id, "page")
    status = bridge("reminders", "status", tenant_id, account_id)
    as_json = json.loads(bridge("reminders", "status", tenant_id, account_id, "--json").stdout)

    assert "opted out of payment reminders since" in status.stdout and "(page)" in status.stdout
    assert as_json["opted_out"] is True and as_json["source"] == "page" and datetime.fromisoformat(as_json["since"]).utcoffset() == timedelta(0)
    assert "resubscribed" in bridge("reminders", "resubscribe", tenant_id, account_id).stdout
    assert "was not opted out" in bridge("reminders", "resubscribe", tenant_id, account_id).stdout
    assert json.loads(bridge("reminders", "status", tenant_id, account_id, "--json").stdout)["opted_out"] is False
    unknown = bridge("reminders", "resubscribe", tenant_id, str(uuid.uuid4()))
    assert unknown.exit_code == 1 and "has no account" in unknown.output
