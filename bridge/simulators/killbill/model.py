"""The simulator's entities and Kill Bill's vocabulary (transaction types, statuses, state names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

EXTERNAL_PAYMENT_PLUGIN = "__EXTERNAL_PAYMENT__"
INVOICE_PAYMENT_CONTROL_PLUGIN = "__INVOICE_PAYMENT_CONTROL_PLUGIN__"
IPCD_INVOICE_ID = "IPCD_INVOICE_ID"
PUSH_NOTIFICATION_CB = "PUSH_NOTIFICATION_CB"
PLUGIN_CONFIG_PREFIX = "PLUGIN_CONFIG_"


class TxnType(StrEnum):
    AUTHORIZE = "AUTHORIZE"
    CAPTURE = "CAPTURE"
    CHARGEBACK = "CHARGEBACK"
    CREDIT = "CREDIT"
    PURCHASE = "PURCHASE"
    REFUND = "REFUND"
    VOID = "VOID"


class TxnStatus(StrEnum):
    SUCCESS = "SUCCESS"
    UNKNOWN = "UNKNOWN"
    PENDING = "PENDING"
    PAYMENT_FAILURE = "PAYMENT_FAILURE"
    PLUGIN_FAILURE = "PLUGIN_FAILURE"
    PAYMENT_SYSTEM_OFF = "PAYMENT_SYSTEM_OFF"


# PaymentTransactionInfoPluginConverter#toTransactionStatus (reference/killbill.md §A3); anything else,
# null included, is UNKNOWN.
PLUGIN_STATUS_TO_TXN_STATUS = {
    "PROCESSED": TxnStatus.SUCCESS,
    "PENDING": TxnStatus.PENDING,
    "ERROR": TxnStatus.PAYMENT_FAILURE,
    "CANCELED": TxnStatus.PLUGIN_FAILURE,
    "UNDEFINED": TxnStatus.UNKNOWN,
}

INCOMPLETE_STATUSES = frozenset({TxnStatus.PENDING, TxnStatus.UNKNOWN})

_STATE_PREFIX = {TxnType.AUTHORIZE: "AUTH", TxnType.CAPTURE: "CAPTURE", TxnType.PURCHASE: "PURCHASE",
                 TxnType.REFUND: "REFUND", TxnType.CREDIT: "CREDIT", TxnType.VOID: "VOID",
                 TxnType.CHARGEBACK: "CHARGEBACK"}
_STATE_SUFFIX = {TxnStatus.SUCCESS: "SUCCESS", TxnStatus.PENDING: "PENDING", TxnStatus.PAYMENT_FAILURE: "FAILED",
                 TxnStatus.PLUGIN_FAILURE: "ERRORED", TxnStatus.UNKNOWN: "ERRORED",
                 TxnStatus.PAYMENT_SYSTEM_OFF: "ERRORED"}

# PaymentStates.xml linkStateMachines: operation allowed from the payment's last successful state.
ALLOWED_FROM_STATE: dict[str | None, frozenset[TxnType]] = {
    None: frozenset({TxnType.AUTHORIZE, TxnType.PURCHASE, TxnType.CREDIT}),
    "AUTH_SUCCESS": frozenset({TxnType.CAPTURE, TxnType.VOID}),
    "CAPTURE_SUCCESS": frozenset({TxnType.REFUND, TxnType.CAPTURE, TxnType.CHARGEBACK}),
    "REFUND_SUCCESS": frozenset({TxnType.REFUND, TxnType.CHARGEBACK}),
    "PURCHASE_SUCCESS": frozenset({TxnType.REFUND, TxnType.CHARGEBACK}),
    "CHARGEBACK_SUCCESS": frozenset({TxnType.CHARGEBACK}),
    "CHARGEBACK_FAILED": frozenset({TxnType.REFUND}),
}


def state_name(txn_type: TxnType, status: TxnStatus) -> str:
    return f"{_STATE_PREFIX[txn_type]}_{_STATE_SUFFIX[status]}"


# java.util.Currency default fraction digits, for KillBillMoney rounding of payment totals.
_ZERO_DECIMAL = frozenset({"BIF", "BYR", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
                           "VND", "VUV", "XAF", "XOF", "XPF"})
_THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})


def round_money(amount: Decimal, currency: str | None) -> Decimal:
    digits = 0 if currency in _ZERO_DECIMAL else 3 if currency in _THREE_DECIMAL else 2
    return amount.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def new_id() -> UUID:
    return uuid4()


@dataclass
class PluginEndpoint:
    """Where the simulated forwarding plugin sends ``POST /plugin/v1/<operation>`` for one plugin name."""

    url: str
    secret: str
    timeout: float | None = None


@dataclass
class Tenant:
    id: UUID
    api_key: str
    api_secret: str
    external_key: str | None
    created: datetime
    kv: dict[str, list[str]] = field(default_factory=dict)
    kv_ids: dict[str, UUID] = field(default_factory=dict)
    plugins: dict[str, PluginEndpoint] = field(default_factory=dict)
    payment_numbers: int = 0
    invoice_numbers: int = 0


@dataclass
class Account:
    id: UUID
    tenant_id: UUID
    fields: dict[str, Any]
    reference_time: datetime
    payment_method_id: UUID | None = None

    @property
    def currency(self) -> str | None:
        return self.fields.get("currency")


@dataclass
class PaymentMethod:
    id: UUID
    tenant_id: UUID
    account_id: UUID
    plugin_name: str
    external_key: str
    plugin_info: dict[str, Any] | None = None
    active: bool = True


@dataclass
class InvoiceItem:
    id: UUID
    invoice_id: UUID
    account_id: UUID
    item_type: str
    amount: Decimal
    currency: str
    description: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    linked_item_id: UUID | None = None
    item_details: str | None = None


@dataclass
class InvoicePaymentRecord:
    """Kill Bill's invoice_payments row: ATTEMPT, REFUND or CHARGED_BACK; only SUCCESS rows move the balance."""

    id: UUID
    invoice_id: UUID
    payment_id: UUID | None
    attempt_id: UUID | None
    kind: str
    amount: Decimal
    currency: str
    status: str
    cookie_id: str | None
    payment_date: datetime
    linked_id: UUID | None = None


@dataclass
class Invoice:
    id: UUID
    tenant_id: UUID
    account_id: UUID
    number: int
    invoice_date: date
    target_date: date
    currency: str
    status: str
    items: list[InvoiceItem] = field(default_factory=list)
    payments: list[InvoicePaymentRecord] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        return sum((item.amount for item in self.items if item.item_type != "CBA_ADJ"), Decimal(0))

    @property
    def credit_adj(self) -> Decimal:
        """Account credit this invoice generated (positive CBA_ADJ) or used (negative)."""
        return sum((item.amount for item in self.items if item.item_type == "CBA_ADJ"), Decimal(0))

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments if p.status == "SUCCESS"), Decimal(0))

    @property
    def refund_adj(self) -> Decimal:
        return sum((p.amount for p in self.payments if p.status == "SUCCESS" and p.kind == "REFUND"), Decimal(0))

    @property
    def balance(self) -> Decimal:
        # DRAFT and VOID invoices owe nothing (InvoiceCalculatorUtils).
        return self.amount + self.credit_adj - self.paid if self.status == "COMMITTED" else Decimal(0)

    def adjustable(self, item: InvoiceItem) -> Decimal:
        """What is left of an item after its ITEM_ADJ/REPAIR_ADJ items (InvoiceDaoHelper)."""
        adjusted = sum((-i.amount for i in self.items if i.linked_item_id == item.id
                        and i.item_type in ("ITEM_ADJ", "REPAIR_ADJ")), Decimal(0))
        return max(item.amount - adjusted, Decimal(0))


@dataclass
class Transaction:
    id: UUID
    payment_id: UUID
    external_key: str
    type: TxnType
    amount: Decimal | None
    currency: str | None
    effective_date: datetime
    status: TxnStatus = TxnStatus.UNKNOWN
    processed_amount: Decimal = Decimal(0)
    processed_currency: str | None = None
    gateway_error_code: str | None = None
    gateway_error_msg: str | None = None
    properties: list[dict[str, Any]] = field(default_factory=list)
    status_since: datetime | None = None
    janitor_attempts: int = 0
    next_janitor_at: datetime | None = None


@dataclass
class Attempt:
    id: UUID
    account_id: UUID
    payment_method_id: UUID | None
    payment_external_key: str
    transaction_id: UUID | None
    transaction_external_key: str
    transaction_type: TxnType
    effective_date: datetime
    amount: Decimal | None
    currency: str | None
    plugin_names: list[str]
    plugin_properties: list[dict[str, Any]]
    is_api: bool
    state_name: str = "INIT"
    # When Kill Bill's retry notification for this attempt fires (RETRIED attempts only); GET …?withAttempts
    # shows it as a SCHEDULED attempt until then.
    retry_at: datetime | None = None


@dataclass
class Payment:
    id: UUID
    tenant_id: UUID
    account_id: UUID
    payment_method_id: UUID
    number: int
    external_key: str
    transactions: list[Transaction] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    state_name: str | None = None
    last_success_state: str | None = None
    invoice_id: UUID | None = None

    def transaction(self, txn_id: UUID) -> Transaction | None:
        return next((t for t in self.transactions if t.id == txn_id), None)


@dataclass
class Tag:
    id: UUID
    tenant_id: UUID
    object_id: UUID
    object_type: str
    definition_id: UUID
    definition_name: str


@dataclass
class CustomField:
    id: UUID
    tenant_id: UUID
    object_id: UUID
    object_type: str
    name: str
    value: str


@dataclass(frozen=True)
class TagDefinition:
    id: UUID
    name: str
    description: str
    auto_payment_off: bool
    applicable: tuple[str, ...] = ("ACCOUNT",)


# killbill-api ControlTagType.
CONTROL_TAGS: dict[UUID, TagDefinition] = {
    d.id: d for d in (
        TagDefinition(UUID(int=1), "AUTO_PAY_OFF", "Suspends payments until removed.", True),
        TagDefinition(UUID(int=2), "AUTO_INVOICING_OFF", "Suspends invoicing until removed.", False),
        TagDefinition(UUID(int=3), "OVERDUE_ENFORCEMENT_OFF",
                      "Suspends overdue enforcement behaviour until removed.", False),
        TagDefinition(UUID(int=4), "WRITTEN_OFF",
                      "Indicates that an invoice is written off. No billing or payment effect.", False, ("INVOICE",)),
        TagDefinition(UUID(int=5), "MANUAL_PAY",
                      "Indicates that Killbill doesn't process payments for that account (external payments only)",
                      True),
        TagDefinition(UUID(int=6), "TEST", "Indicates that this is a test account", False),
        TagDefinition(UUID(int=7), "PARTNER", "Indicates that this is a partner account", False),
        TagDefinition(UUID(int=8), "AUTO_INVOICING_DRAFT", "Generate account invoices in DRAFT mode.", False),
        TagDefinition(UUID(int=9), "AUTO_INVOICING_REUSE_DRAFT", "Use existing draft invoice if exists.", False),
    )
}
AUTO_PAY_OFF_ID = UUID(int=1)
