"""The payment operations of the plugin contract: thin handlers from Java's calls to the service."""

from __future__ import annotations

from decimal import Decimal

from bridge.db.payments import Transaction
from bridge.payments import service
from bridge.payments.killbill_sync import mark_reported
from bridge.payments.status import TransactionType
from bridge.plugin_api import models as m
from bridge.tenancy.env import TenantEnv
from hyperswitch_client import currency_exponent


def _major_units(amount: Decimal | None, currency: str | None) -> Decimal | None:
    """The stored amount with exactly the currency's decimals (10.5000 USD → 10.50)."""
    if amount is None or currency is None:
        return amount
    return amount.quantize(Decimal(1).scaleb(-currency_exponent(currency)))


def transaction_info(txn: Transaction) -> m.PaymentTransactionInfoPlugin:
    """``PaymentTransactionInfoPlugin`` from a stored transaction: the same live and on every refresh."""
    properties = []
    for key, value in (("hsPaymentId", txn.hs_payment_id), ("hsRefundId", txn.hs_refund_id),
                       ("hsStatus", txn.hs_status), (service.PROP_REDIRECT_URL, txn.redirect_url)):
        if value:
            properties.append(m.PluginProperty(key=key, value=value))
    return m.PaymentTransactionInfoPlugin(
        kbPaymentId=txn.kb_payment_id, kbTransactionPaymentId=txn.kb_transaction_id,
        transactionType=txn.transaction_type, amount=_major_units(txn.processed_amount or txn.amount, txn.currency),
        currency=txn.currency,
        createdDate=txn.created_at, effectiveDate=txn.updated_at, status=txn.status,
        gatewayError=txn.gateway_error, gatewayErrorCode=txn.gateway_error_code,
        firstPaymentReferenceId=txn.hs_refund_id or txn.hs_payment_id,
        secondPaymentReferenceId=txn.second_reference_id, properties=properties)


def _answer(env: TenantEnv, txn: Transaction) -> m.PaymentTransactionInfoPlugin:
    """The answer Kill Bill gets; remembered, so reconciliation knows what Kill Bill believes."""
    mark_reported(env, [txn])
    return transaction_info(txn)


def authorize_payment(env: TenantEnv, call: m.PaymentCall) -> m.PaymentTransactionInfoPlugin:
    return _answer(env, service.charge(env, call, TransactionType.AUTHORIZE))


def purchase_payment(env: TenantEnv, call: m.PaymentCall) -> m.PaymentTransactionInfoPlugin:
    return _answer(env, service.charge(env, call, TransactionType.PURCHASE))


def capture_payment(env: TenantEnv, call: m.PaymentCall) -> m.PaymentTransactionInfoPlugin:
    return _answer(env, service.capture(env, call))


def void_payment(env: TenantEnv, call: m.VoidCall) -> m.PaymentTransactionInfoPlugin:
    return _answer(env, service.void(env, call))


def refund_payment(env: TenantEnv, call: m.PaymentCall) -> m.PaymentTransactionInfoPlugin:
    return _answer(env, service.refund(env, call))


def credit_payment(env: TenantEnv, call: m.PaymentCall) -> m.PaymentTransactionInfoPlugin:
    return _answer(env, service.credit(env, call))


def get_payment_info(env: TenantEnv, call: m.PaymentInfoCall) -> list[m.PaymentTransactionInfoPlugin]:
    transactions = service.payment_transactions(env, call.kbPaymentId)
    mark_reported(env, transactions)
    return [transaction_info(txn) for txn in transactions]


def search_payments(env: TenantEnv, call: m.SearchCall) -> m.Pagination[m.PaymentTransactionInfoPlugin]:
    rows, total = service.search(env, call.searchKey, call.offset, call.limit)
    following = call.offset + len(rows)
    return m.Pagination[m.PaymentTransactionInfoPlugin](
        currentOffset=call.offset, nextOffset=following if following < total else None, totalNbRecords=total,
        maxNbRecords=total, records=[transaction_info(txn) for txn in rows])


def process_notification(env: TenantEnv, call: m.ProcessNotificationCall) -> m.GatewayNotification:
    from bridge.payments.notifications import process_notification as process

    return process(env, call)
