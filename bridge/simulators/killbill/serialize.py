"""Entities as Kill Bill's JSON (field names and order of the ``*Json`` classes; nulls written out)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from uuid import UUID

from bridge.simulators.killbill.model import (
    Account,
    Attempt,
    CustomField,
    Invoice,
    InvoiceItem,
    Payment,
    PaymentMethod,
    Tag,
    Tenant,
    Transaction,
    TxnStatus,
    TxnType,
    round_money,
)

ACCOUNT_FIELDS = ("name", "firstNameLength", "externalKey", "email", "billCycleDayLocal", "currency",
                  "parentAccountId", "isPaymentDelegatedToParent")
ACCOUNT_TAIL_FIELDS = ("timeZone", "address1", "address2", "postalCode", "company", "city", "state", "country",
                       "locale", "phone", "notes", "isMigrated")


def tenant_json(tenant: Tenant) -> dict[str, Any]:
    # The secret is never returned.
    return {"tenantId": tenant.id, "externalKey": tenant.external_key, "apiKey": tenant.api_key, "apiSecret": None,
            "auditLogs": []}


def kv_json(key: str, values: list[str]) -> dict[str, Any]:
    return {"key": key, "values": list(values), "auditLogs": []}


def account_json(account: Account, balance: Decimal | None = None, cba: Decimal | None = None) -> dict[str, Any]:
    fields = account.fields
    body: dict[str, Any] = {"accountId": account.id}
    body.update({name: fields.get(name) for name in ACCOUNT_FIELDS})
    body["billCycleDayLocal"] = fields.get("billCycleDayLocal") or 0
    body["isPaymentDelegatedToParent"] = bool(fields.get("isPaymentDelegatedToParent"))
    body["paymentMethodId"] = account.payment_method_id
    body["referenceTime"] = account.reference_time
    body.update({name: fields.get(name) for name in ACCOUNT_TAIL_FIELDS})
    body["timeZone"] = fields.get("timeZone") or "UTC"
    body.update({"accountBalance": balance, "accountCBA": cba, "auditLogs": []})
    return body


def payment_method_json(pm: PaymentMethod, is_default: bool, plugin_info: dict[str, Any] | None) -> dict[str, Any]:
    return {"paymentMethodId": pm.id, "externalKey": pm.external_key, "accountId": pm.account_id,
            "isDefault": is_default, "pluginName": pm.plugin_name, "pluginInfo": plugin_info, "auditLogs": []}


def properties_json(properties: Iterable[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    if properties is None:
        return None
    return [{"key": p.get("key"), "value": None if p.get("value") is None else str(p.get("value")),
             "isUpdatable": bool(p.get("isUpdatable"))} for p in properties]


def item_json(item: InvoiceItem) -> dict[str, Any]:
    return {"invoiceItemId": item.id, "invoiceId": item.invoice_id, "linkedInvoiceItemId": item.linked_item_id,
            "accountId": item.account_id, "childAccountId": None, "bundleId": None, "subscriptionId": None,
            "productName": None, "planName": None, "phaseName": None, "usageName": None, "prettyProductName": None,
            "prettyPlanName": None, "prettyPhaseName": None, "prettyUsageName": None, "itemType": item.item_type,
            "description": item.description, "startDate": item.start_date, "endDate": item.end_date,
            "amount": item.amount, "rate": None, "currency": item.currency, "quantity": None,
            "itemDetails": item.item_details, "catalogEffectiveDate": None, "childItems": None, "auditLogs": []}


def invoice_json(invoice: Invoice) -> dict[str, Any]:
    return {"amount": invoice.amount, "currency": invoice.currency, "status": invoice.status,
            "creditAdj": invoice.credit_adj, "refundAdj": invoice.refund_adj, "invoiceId": invoice.id,
            "invoiceDate": invoice.invoice_date, "targetDate": invoice.target_date,
            "invoiceNumber": str(invoice.number), "balance": invoice.balance, "accountId": invoice.account_id,
            "bundleKeys": None, "credits": None, "items": [item_json(i) for i in invoice.items],
            "trackingIds": [], "isParentInvoice": False, "parentInvoiceId": None, "parentAccountId": None,
            "auditLogs": []}


def transaction_json(txn: Transaction, payment: Payment, plugin_row: dict[str, Any] | None) -> dict[str, Any]:
    """``plugin_row`` is the plugin's PaymentTransactionInfoPlugin (only with withPluginInfo=true)."""
    row = plugin_row or {}
    return {"transactionId": txn.id, "transactionExternalKey": txn.external_key, "paymentId": payment.id,
            "paymentExternalKey": payment.external_key, "transactionType": txn.type.value, "amount": txn.amount,
            "currency": txn.currency, "effectiveDate": txn.effective_date, "processedAmount": txn.processed_amount,
            "processedCurrency": txn.processed_currency, "status": txn.status.value,
            "gatewayErrorCode": txn.gateway_error_code, "gatewayErrorMsg": txn.gateway_error_msg,
            "firstPaymentReferenceId": row.get("firstPaymentReferenceId"),
            "secondPaymentReferenceId": row.get("secondPaymentReferenceId"),
            "properties": properties_json(row.get("properties")) if plugin_row is not None else None,
            "auditLogs": []}


def attempt_json(attempt: Attempt, payment: Payment) -> dict[str, Any]:
    return {"accountId": attempt.account_id, "paymentMethodId": attempt.payment_method_id,
            "paymentExternalKey": payment.external_key, "transactionId": attempt.transaction_id,
            "transactionExternalKey": attempt.transaction_external_key,
            "transactionType": attempt.transaction_type.value, "effectiveDate": attempt.effective_date,
            "stateName": attempt.state_name, "amount": attempt.amount, "currency": attempt.currency,
            "pluginName": ",".join(attempt.plugin_names),
            "pluginProperties": properties_json(attempt.plugin_properties), "auditLogs": []}


def scheduled_attempt_json(attempt: Attempt, payment: Payment) -> dict[str, Any]:
    """A pending retry as PaymentRefresher#getPaymentAttempts adds it from the retry queue: the RETRIED
    attempt again, in state SCHEDULED at the retry time, without a transaction, named by its first control
    plugin."""
    return {**attempt_json(attempt, payment), "transactionId": None, "effectiveDate": attempt.retry_at,
            "stateName": "SCHEDULED", "pluginName": attempt.plugin_names[0] if attempt.plugin_names else None}


def attempts_json(payment: Payment) -> list[dict[str, Any]]:
    """Past attempts, then the scheduled retries."""
    return ([attempt_json(a, payment) for a in payment.attempts]
            + [scheduled_attempt_json(a, payment) for a in payment.attempts if a.retry_at is not None])


def payment_json(payment: Payment, *, with_attempts: bool = False,
                 plugin_rows: dict[UUID, dict[str, Any]] | None = None,
                 invoice_id: UUID | None = None, as_invoice_payment: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"targetInvoiceId": invoice_id} if as_invoice_payment else {}
    currency = _payment_currency(payment)
    totals = payment_totals(payment, currency)
    body.update({"accountId": payment.account_id, "paymentId": payment.id, "paymentNumber": str(payment.number),
                 "paymentExternalKey": payment.external_key, **totals, "currency": currency,
                 "paymentMethodId": payment.payment_method_id,
                 "transactions": [transaction_json(t, payment, plugin_rows.get(t.id) if plugin_rows is not None
                                                   else None) for t in payment.transactions],
                 "paymentAttempts": attempts_json(payment) if with_attempts else None,
                 "auditLogs": []})
    return body


def _payment_currency(payment: Payment) -> str | None:
    """The first AUTHORIZE/PURCHASE/CREDIT in SUCCESS or PENDING, else the last such (DefaultPayment)."""
    initial = [t for t in payment.transactions if t.type in (TxnType.AUTHORIZE, TxnType.PURCHASE, TxnType.CREDIT)]
    settled = [t for t in initial if t.status in (TxnStatus.SUCCESS, TxnStatus.PENDING)]
    chosen = settled[0] if settled else (initial[-1] if initial else None)
    return chosen.currency if chosen else None


def payment_totals(payment: Payment, currency: str | None) -> dict[str, Decimal]:
    """DefaultPayment: SUCCESS transactions not voided, captures/purchases net of live chargebacks."""
    live = _non_voided(payment.transactions)
    chargebacks = _live_chargeback_amount(payment.transactions)

    def total(kind: TxnType) -> Decimal:
        amount = sum((t.processed_amount for t in live if t.type == kind), Decimal(0))
        if kind in (TxnType.CAPTURE, TxnType.PURCHASE):
            amount = max(amount - chargebacks, Decimal(0))
        return round_money(amount, currency)

    return {"authAmount": total(TxnType.AUTHORIZE), "capturedAmount": total(TxnType.CAPTURE),
            "purchasedAmount": total(TxnType.PURCHASE), "refundedAmount": total(TxnType.REFUND),
            "creditedAmount": total(TxnType.CREDIT)}


def _non_voided(transactions: list[Transaction]) -> list[Transaction]:
    live: list[Transaction] = []
    voids = 0
    for txn in reversed([t for t in transactions if t.status == TxnStatus.SUCCESS]):
        if txn.type == TxnType.VOID:
            voids += 1
        elif voids:
            voids -= 1
        else:
            live.append(txn)
    return live


def _live_chargeback_amount(transactions: list[Transaction]) -> Decimal:
    keys: set[str] = set()
    for txn in transactions:
        if txn.type == TxnType.CHARGEBACK and txn.status == TxnStatus.SUCCESS:
            keys.add(txn.external_key)
        elif txn.type == TxnType.CHARGEBACK and txn.status == TxnStatus.PAYMENT_FAILURE:
            keys.discard(txn.external_key)
    return sum((t.processed_amount for t in transactions if t.external_key in keys), Decimal(0))


def tag_json(tag: Tag) -> dict[str, Any]:
    return {"tagId": tag.id, "objectType": tag.object_type, "objectId": tag.object_id,
            "tagDefinitionId": tag.definition_id, "tagDefinitionName": tag.definition_name, "auditLogs": []}


def custom_field_json(field: CustomField) -> dict[str, Any]:
    return {"customFieldId": field.id, "objectId": field.object_id, "objectType": field.object_type,
            "name": field.name, "value": field.value, "auditLogs": []}
