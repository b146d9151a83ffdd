"""What happens to invoices after they are made: retries of failed automatic payments (reference/killbill.md §A4),
voids, item adjustments with the account credit they can create, and account updates, each with the push
notification Kill Bill sends for it. Every exchange is checked against the 0.24 swagger."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest

from bridge.simulators.killbill import KillBillState
from killbill_client import BadRequestError, KillBillClient, NotFoundError
from killbill_client.models import (
    Account,
    ExternalCharge,
    Invoice,
    Payment,
    PaymentMethod,
    Tenant,
    TransactionStatus,
    TransactionType,
)
from tests.simulators.killbill.support import PLUGIN_NAME, PushReceiver, StubPlugin

EIGHT_DAYS = timedelta(days=8)


@pytest.fixture
def card(kb: KillBillClient, account: Account, stub_plugin: StubPlugin) -> PaymentMethod:
    """The account's default payment method: Kill Bill pays its invoices automatically."""
    return kb.payment_methods.add(account.account_id, PLUGIN_NAME, is_default=True)  # type: ignore[arg-type]


def charge(kb: KillBillClient, kb_state: KillBillState, account: Account, *amounts: str) -> Invoice:
    items = kb.invoices.create_external_charges(account.account_id,  # type: ignore[arg-type]
                                                [ExternalCharge(amount=Decimal(a)) for a in amounts])
    assert kb_state.wait_idle()
    return kb.invoices.get(items[0].invoice_id)  # type: ignore[arg-type]


def the_payment(kb: KillBillClient, invoice: Invoice) -> Payment:
    [payment] = kb.invoice_payments.list_for_invoice(invoice.invoice_id, with_attempts=True)  # type: ignore[arg-type]
    return payment


def attempt_states(payment: Payment) -> list[str | None]:
    return [a.state_name for a in payment.payment_attempts or []]


def purchases(payment: Payment) -> list[TransactionStatus | None]:
    return [t.status for t in payment.transactions or [] if t.transaction_type == TransactionType.PURCHASE]


def events(kb_state: KillBillState, tenant: Tenant, event_type: str) -> list[dict]:
    return [e for e in kb_state.event_log(tenant.tenant_id) if e["eventType"] == event_type]


def move(kb_state: KillBillState, delta: timedelta) -> None:
    kb_state.advance_clock(delta)
    assert kb_state.wait_idle()


# -- retries of automatic payments ------------------------------------------------------------------------
def test_a_declined_automatic_payment_is_retried_on_kill_bills_schedule_then_given_up(
        kb: KillBillClient, kb_state: KillBillState, tenant: Tenant, account: Account, card: PaymentMethod,
        stub_plugin: StubPlugin) -> None:
    stub_plugin.statuses.extend(["ERROR"] * 4)
    invoice = charge(kb, kb_state, account, "15")
    declined_at = kb_state.clock.now()

    payment = the_payment(kb, invoice)
    assert attempt_states(payment) == ["RETRIED", "SCHEDULED"]
    failed, scheduled = payment.payment_attempts  # type: ignore[misc]
    # The scheduled retry is the same attempt, at its time, without a transaction yet.
    assert scheduled.transaction_id is None and scheduled.plugin_name == "__INVOICE_PAYMENT_CONTROL_PLUGIN__"
    assert scheduled.transaction_external_key == failed.transaction_external_key
    assert abs(scheduled.effective_date - (declined_at + EIGHT_DAYS)) < timedelta(minutes=1)  # type: ignore[operator]

    move(kb_state, EIGHT_DAYS - timedelta(minutes=1))
    assert purchases(the_payment(kb, invoice)) == [TransactionStatus.PAYMENT_FAILURE]  # not before its time
    for retries in (1, 2, 3):
        move(kb_state, EIGHT_DAYS if retries > 1 else timedelta(minutes=1))
        payment = the_payment(kb, invoice)
        assert purchases(payment) == [TransactionStatus.PAYMENT_FAILURE] * (retries + 1)
        # Every retry is a new transaction of the same payment, with the attempt's transaction external key.
        assert {t.transaction_external_key for t in payment.transactions or []} == {failed.transaction_external_key}
        assert attempt_states(payment) == (["RETRIED", "SCHEDULED"] if retries < 3 else ["ABORTED"])

    assert stub_plugin.operations().count("purchasePayment") == 4
    assert len(events(kb_state, tenant, "INVOICE_PAYMENT_FAILED")) == 4
    assert kb.invoices.get(invoice.invoice_id).balance == Decimal("15")  # type: ignore[arg-type]
    move(kb_state, timedelta(days=30))
    assert stub_plugin.operations().count("purchasePayment") == 4


def test_a_retry_that_succeeds_pays_the_invoice(kb: KillBillClient, kb_state: KillBillState, tenant: Tenant,
                                                account: Account, card: PaymentMethod,
                                                stub_plugin: StubPlugin) -> None:
    stub_plugin.statuses.append("ERROR")
    invoice = charge(kb, kb_state, account, "15")

    move(kb_state, EIGHT_DAYS)

    payment = the_payment(kb, invoice)
    assert purchases(payment) == [TransactionStatus.PAYMENT_FAILURE, TransactionStatus.SUCCESS]
    assert attempt_states(payment) == ["SUCCESS"]
    assert payment.payment_attempts[0].transaction_id == payment.transactions[-1].transaction_id  # type: ignore[index]
    assert kb.invoices.get(invoice.invoice_id).balance == Decimal("0")  # type: ignore[arg-type]
    [paid] = events(kb_state, tenant, "INVOICE_PAYMENT_SUCCESS")
    assert json.loads(paid["metaData"])["paymentId"] == str(payment.payment_id)
    # The PURCHASE reached the plugin with Kill Bill's system context, as an automatic payment.
    assert stub_plugin.last("purchasePayment")["context"]["callOrigin"] == "INTERNAL"


def test_a_retry_of_an_invoice_paid_meanwhile_is_aborted_without_calling_the_plugin(
        kb: KillBillClient, kb_state: KillBillState, account: Account, card: PaymentMethod,
        stub_plugin: StubPlugin) -> None:
    stub_plugin.statuses.append("ERROR")
    invoice = charge(kb, kb_state, account, "15")
    kb.invoice_payments.pay_invoice(invoice.invoice_id, account.account_id, external_payment=True)  # type: ignore[arg-type]

    move(kb_state, EIGHT_DAYS)

    [payment] = [p for p in kb.invoice_payments.list_for_invoice(invoice.invoice_id, with_attempts=True)  # type: ignore[arg-type]
                 if p.payment_method_id == card.payment_method_id]
    assert attempt_states(payment) == ["ABORTED"]
    assert stub_plugin.operations().count("purchasePayment") == 1


def test_a_plugin_failure_is_retried_within_minutes(kb: KillBillClient, kb_state: KillBillState, account: Account,
                                                    card: PaymentMethod, stub_plugin: StubPlugin) -> None:
    stub_plugin.statuses.append("CANCELED")
    invoice = charge(kb, kb_state, account, "15")
    assert purchases(the_payment(kb, invoice)) == [TransactionStatus.PLUGIN_FAILURE]

    move(kb_state, timedelta(seconds=300))

    assert purchases(the_payment(kb, invoice)) == [TransactionStatus.PLUGIN_FAILURE, TransactionStatus.SUCCESS]


def test_a_declined_api_payment_is_not_retried(kb: KillBillClient, kb_state: KillBillState, account: Account,
                                               stub_plugin: StubPlugin) -> None:
    invoice = charge(kb, kb_state, account, "15")  # no payment method yet: no automatic payment
    card = kb.payment_methods.add(account.account_id, PLUGIN_NAME)  # type: ignore[arg-type]
    stub_plugin.statuses.append("ERROR")

    paid_by_api = kb.invoice_payments.pay_invoice(invoice.invoice_id, account.account_id,  # type: ignore[arg-type]
                                                  payment_method_id=card.payment_method_id)

    assert paid_by_api is not None
    payment = kb.invoice_payments.get(paid_by_api.payment_id, with_attempts=True)  # type: ignore[arg-type]
    assert purchases(payment) == [TransactionStatus.PAYMENT_FAILURE] and attempt_states(payment) == ["ABORTED"]
    move(kb_state, EIGHT_DAYS)
    assert stub_plugin.operations().count("purchasePayment") == 1


# -- voids -------------------------------------------------------------------------------------------------
def test_voiding_an_unpaid_invoice(kb: KillBillClient, kb_state: KillBillState, tenant: Tenant, account: Account,
                                   push_receiver: tuple[PushReceiver, str]) -> None:
    receiver, url = push_receiver
    invoice = charge(kb, kb_state, account, "30")  # no payment method: nothing is paid
    kb.tenants.register_push_callback(url)

    kb.invoices.void(invoice.invoice_id)  # type: ignore[arg-type]

    voided = kb.invoices.get(invoice.invoice_id)  # type: ignore[arg-type]
    assert (str(voided.status), voided.balance, voided.amount) == ("VOID", Decimal("0"), Decimal("30"))
    assert kb.invoices.list_for_account(account.account_id) == []  # type: ignore[arg-type]
    assert [i.invoice_id for i in kb.invoices.list_for_account(account.account_id,  # type: ignore[arg-type]
                                                                 include_voided=True)] == [invoice.invoice_id]
    assert kb_state.wait_idle()
    # Kill Bill announces a void as an adjustment (killbill#1448).
    adjustment = next(b for b in receiver.bodies() if b["eventType"] == "INVOICE_ADJUSTMENT")
    assert adjustment == {"eventType": "INVOICE_ADJUSTMENT", "accountId": str(account.account_id),
                          "objectType": "INVOICE", "objectId": str(invoice.invoice_id), "metaData": None}
    with pytest.raises(BadRequestError) as again:
        kb.invoices.void(invoice.invoice_id)  # type: ignore[arg-type]
    assert again.value.code == 4023


def test_a_paid_invoice_cannot_be_voided(kb: KillBillClient, kb_state: KillBillState, account: Account) -> None:
    invoice = charge(kb, kb_state, account, "30")
    kb.invoice_payments.pay_invoice(invoice.invoice_id, account.account_id, external_payment=True,  # type: ignore[arg-type]
                                    amount=Decimal("10"))

    with pytest.raises(BadRequestError) as refused:
        kb.invoices.void(invoice.invoice_id)  # type: ignore[arg-type]

    assert refused.value.code == 4028 and "paid or partially paid" in (refused.value.message or "")
    assert kb.invoices.get(invoice.invoice_id).balance == Decimal("20")  # type: ignore[arg-type]


def test_a_voided_invoice_is_not_retried(kb: KillBillClient, kb_state: KillBillState, account: Account,
                                         card: PaymentMethod, stub_plugin: StubPlugin) -> None:
    stub_plugin.statuses.append("ERROR")
    invoice = charge(kb, kb_state, account, "15")
    kb.invoices.void(invoice.invoice_id)  # type: ignore[arg-type]

    move(kb_state, EIGHT_DAYS)

    assert attempt_states(the_payment(kb, invoice)) == ["ABORTED"]
    assert stub_plugin.operations().count("purchasePayment") == 1


# -- item adjustments ----------------------------------------------------------------------------------------
def test_adjusting_items_lowers_the_balance_and_is_announced(kb: KillBillClient, kb_state: KillBillState,
                                                            tenant: Tenant, account: Account) -> None:
    invoice = charge(kb, kb_state, account, "30", "12")
    first, _second = invoice.items  # type: ignore[misc]

    adjusted = kb.invoices.adjust_item(invoice.invoice_id, account.account_id, first.invoice_item_id,  # type: ignore[arg-type]
                                       amount=Decimal("10"), description="Goodwill")
    assert adjusted is not None and adjusted.balance == Decimal("32") and adjusted.amount == Decimal("32")
    [item] = [i for i in adjusted.items or [] if i.item_type == "ITEM_ADJ"]
    assert (item.amount, item.linked_invoice_item_id, item.description) == (
        Decimal("-10"), first.invoice_item_id, "Goodwill")
    [event] = events(kb_state, tenant, "INVOICE_ADJUSTMENT")
    assert (event["objectId"], event["objectType"], event["metaData"]) == (str(invoice.invoice_id), "INVOICE", None)

    # Without an amount, all that is left of the item; then nothing is left and Kill Bill answers a bare 404.
    rest = kb.invoices.adjust_item(invoice.invoice_id, account.account_id, first.invoice_item_id)  # type: ignore[arg-type]
    assert rest is not None and rest.balance == Decimal("12")
    assert kb.invoices.adjust_item(invoice.invoice_id, account.account_id, first.invoice_item_id) is None  # type: ignore[arg-type]
    assert len(events(kb_state, tenant, "INVOICE_ADJUSTMENT")) == 2


def test_adjustments_kill_bill_refuses(kb: KillBillClient, kb_state: KillBillState, account: Account) -> None:
    invoice = charge(kb, kb_state, account, "30")
    [item] = invoice.items  # type: ignore[misc]
    adjust = kb.invoices.adjust_item

    with pytest.raises(BadRequestError) as too_much:
        adjust(invoice.invoice_id, account.account_id, item.invoice_item_id, amount=Decimal("31"))  # type: ignore[arg-type]
    assert too_much.value.code == 4020
    with pytest.raises(BadRequestError) as negative:
        adjust(invoice.invoice_id, account.account_id, item.invoice_item_id, amount=Decimal("-1"))  # type: ignore[arg-type]
    assert negative.value.code == 4010
    with pytest.raises(NotFoundError) as unknown:
        adjust(invoice.invoice_id, account.account_id, uuid4())  # type: ignore[arg-type]
    assert unknown.value.code == 4011
    with pytest.raises(BadRequestError) as currency:
        adjust(invoice.invoice_id, account.account_id, item.invoice_item_id, currency="EUR")  # type: ignore[arg-type]
    assert currency.value.code == 3
    kb.invoices.void(invoice.invoice_id)  # type: ignore[arg-type]
    with pytest.raises(BadRequestError) as voided:
        adjust(invoice.invoice_id, account.account_id, item.invoice_item_id)  # type: ignore[arg-type]
    assert voided.value.code == 4031
    assert kb.invoices.get(invoice.invoice_id).items == invoice.items  # type: ignore[arg-type]


def test_adjusting_a_paid_invoice_credits_the_account_and_the_next_invoice_uses_it(
        kb: KillBillClient, kb_state: KillBillState, account: Account) -> None:
    invoice = charge(kb, kb_state, account, "30")
    kb.invoice_payments.pay_invoice(invoice.invoice_id, account.account_id, external_payment=True)  # type: ignore[arg-type]
    [item] = invoice.items  # type: ignore[misc]

    adjusted = kb.invoices.adjust_item(invoice.invoice_id, account.account_id, item.invoice_item_id,  # type: ignore[arg-type]
                                       amount=Decimal("12"))

    assert adjusted is not None
    assert (adjusted.amount, adjusted.credit_adj, adjusted.balance) == (Decimal("18"), Decimal("12"), Decimal("0"))
    with_cba = kb.accounts.get(account.account_id, with_balance_and_cba=True)  # type: ignore[arg-type]
    assert (with_cba.account_balance, with_cba.account_cba) == (Decimal("-12"), Decimal("12"))

    nxt = charge(kb, kb_state, account, "20")
    assert (nxt.credit_adj, nxt.balance) == (Decimal("-12"), Decimal("8"))
    with_cba = kb.accounts.get(account.account_id, with_balance_and_cba=True)  # type: ignore[arg-type]
    assert (with_cba.account_balance, with_cba.account_cba) == (Decimal("8"), Decimal("0"))


# -- account updates -------------------------------------------------------------------------------------------
def test_updating_an_account_changes_only_what_is_given_and_is_announced(
        kb: KillBillClient, kb_state: KillBillState, tenant: Tenant, account: Account,
        push_receiver: tuple[PushReceiver, str]) -> None:
    receiver, url = push_receiver
    kb.tenants.register_push_callback(url)

    kb.accounts.update(account.account_id, Account(email="ada@new.example", city="London"))  # type: ignore[arg-type]

    updated = kb.accounts.get(account.account_id)  # type: ignore[arg-type]
    assert (updated.email, updated.city, updated.name, updated.currency) == (
        "ada@new.example", "London", "Ada Lovelace", "USD")
    assert kb_state.wait_idle()
    [change] = [b for b in receiver.bodies() if b["eventType"] == "ACCOUNT_CHANGE"]
    assert change == {"eventType": "ACCOUNT_CHANGE", "accountId": str(account.account_id), "objectType": "ACCOUNT",
                      "objectId": str(account.account_id), "metaData": None}

    # A full round trip (GET, change, PUT) is accepted; with treatNullAsReset the missing fields are cleared.
    kb.accounts.update(account.account_id, updated.model_copy(update={"phone": "+44 20 1234"}))  # type: ignore[arg-type]
    assert kb.accounts.get(account.account_id).phone == "+44 20 1234"  # type: ignore[arg-type]
    kb.accounts.update(account.account_id, Account(external_key=account.external_key, currency="USD",  # type: ignore[arg-type]
                                                   time_zone="UTC", name="Ada King"), treat_null_as_reset=True)
    reset = kb.accounts.get(account.account_id)  # type: ignore[arg-type]
    assert (reset.name, reset.email, reset.city, reset.phone) == ("Ada King", None, None, None)
    assert len(events(kb_state, tenant, "ACCOUNT_CHANGE")) == 3


@pytest.mark.parametrize(("change", "reset", "field"), [
    (Account(currency="EUR"), False, "currency"),
    (Account(external_key="another-key"), False, "external key"),
    (Account(time_zone="Europe/Paris"), False, "timeZone"),
    (Account(name="No key"), True, "external key"),
])
def test_what_kill_bill_does_not_let_an_update_change(kb: KillBillClient, kb_state: KillBillState, tenant: Tenant,
                                                      account: Account, change: Account, reset: bool,
                                                      field: str) -> None:
    with pytest.raises(BadRequestError, match=f"doesn't support updating the account {field}"):
        kb.accounts.update(account.account_id, change, treat_null_as_reset=reset)  # type: ignore[arg-type]

    assert kb.accounts.get(account.account_id) == account  # type: ignore[arg-type]
    assert events(kb_state, tenant, "ACCOUNT_CHANGE") == []


def test_an_unknown_invoice_is_not_found(kb: KillBillClient, account: Account) -> None:
    with pytest.raises(NotFoundError) as void:
        kb.invoices.void(UUID(int=7))
    with pytest.raises(NotFoundError) as adjust:
        kb.invoices.adjust_item(UUID(int=7), account.account_id, UUID(int=8))  # type: ignore[arg-type]
    assert void.value.code == adjust.value.code == 4006
