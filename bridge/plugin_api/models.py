"""The Java types of Kill Bill's PaymentPluginApi as camelCase JSON (DESIGN.md "The plugin contract").

Requests carry the method's parameters by their Java names plus a ``context``; responses are the Java
return values. Amounts travel as decimal strings in major units; dates as ISO-8601 UTC.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_serializer, field_validator

from bridge.payments.status import PluginStatus, TransactionType

JAVA_LONG_MAX = 2**63 - 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PluginProperty(_Model):
    key: str = Field(min_length=1, max_length=255)
    value: Any = None
    isUpdatable: bool = False


class TenantContext(_Model):
    tenantId: UUID
    accountId: UUID | None = None


class CallContext(TenantContext):
    userToken: UUID | None = None
    userName: str | None = None
    callOrigin: Literal["INTERNAL", "EXTERNAL", "TEST"] | None = None
    userType: Literal["SYSTEM", "ADMIN", "CUSTOMER", "MIGRATION", "TEST"] | None = None
    reasonCode: str | None = None
    comments: str | None = None
    createdDate: datetime | None = None
    updatedDate: datetime | None = None


# The bridge stores amounts as NUMERIC(20, 4) (bridge.db.payments.Money): below 10^16 once rounded to 4
# decimals. Real amounts are far smaller (Hyperswitch takes at most 999999999 minor units).
AMOUNT_LIMIT = Decimal(10) ** 16 - 1

# What the contract asks for (and the OpenAPI document says): a decimal string in major units.
DecimalString = Annotated[Decimal, Field(gt=-AMOUNT_LIMIT, lt=AMOUNT_LIMIT), WithJsonSchema(
    {"type": "string", "pattern": r"^-?[0-9]{1,15}(\.[0-9]+)?$", "examples": ["10.50"],
     "description": "a decimal string in major units (Java BigDecimal), of less than 16 digits before the "
                    "point"}, mode="validation")]


def _amount(value: Any) -> Any:
    # A JSON float would already have lost precision; Kill Bill's BigDecimal arrives as a string.
    if isinstance(value, float):
        raise ValueError("amount must be a decimal string (e.g. \"10.50\"), not a JSON number")
    return value


class _WithProperties(_Model):
    properties: list[PluginProperty] = Field(default_factory=list, max_length=100)

    def property(self, key: str) -> str | None:
        """The last value given for ``key`` (Kill Bill appends; the latest wins), as a string."""
        for prop in reversed(self.properties):
            if prop.key == key and prop.value is not None:
                return str(prop.value)
        return None


class PaymentCall(_WithProperties):
    """authorizePayment, capturePayment, purchasePayment, creditPayment, refundPayment."""

    kbAccountId: UUID
    kbPaymentId: UUID
    kbTransactionId: UUID
    kbPaymentMethodId: UUID | None = None
    amount: DecimalString
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    context: CallContext

    _check_amount = field_validator("amount", mode="before")(_amount)


class VoidCall(_WithProperties):
    kbAccountId: UUID
    kbPaymentId: UUID
    kbTransactionId: UUID
    kbPaymentMethodId: UUID | None = None
    context: CallContext


class PaymentInfoCall(_WithProperties):
    kbAccountId: UUID
    kbPaymentId: UUID
    context: CallContext  # a TenantContext in Java; the call-context fields are optional


class SearchCall(_WithProperties):
    searchKey: str = Field(min_length=1, max_length=255)
    offset: int = Field(0, ge=0, le=JAVA_LONG_MAX)  # Kill Bill's Long; more would overflow the database
    limit: int = Field(100, ge=1, le=1000)
    context: CallContext


class PaymentMethodPlugin(_Model):
    kbPaymentMethodId: UUID | None = None
    externalPaymentMethodId: str | None = None
    isDefaultPaymentMethod: bool = False
    properties: list[PluginProperty] = Field(default_factory=list)


class PaymentMethodInfoPlugin(_Model):
    accountId: UUID | None = None
    paymentMethodId: UUID | None = None
    isDefault: bool = False
    externalPaymentMethodId: str | None = None


class AddPaymentMethodCall(_WithProperties):
    kbAccountId: UUID
    kbPaymentMethodId: UUID
    paymentMethodProps: PaymentMethodPlugin = Field(default_factory=PaymentMethodPlugin)
    setDefault: bool = False
    context: CallContext


class PaymentMethodCall(_WithProperties):
    """deletePaymentMethod, setDefaultPaymentMethod (CallContext) and getPaymentMethodDetail."""

    kbAccountId: UUID
    kbPaymentMethodId: UUID
    context: CallContext


class PaymentMethodDetailCall(_WithProperties):
    kbAccountId: UUID
    kbPaymentMethodId: UUID
    context: CallContext


class GetPaymentMethodsCall(_WithProperties):
    kbAccountId: UUID
    refreshFromGateway: bool = False
    context: CallContext


class ResetPaymentMethodsCall(_WithProperties):
    kbAccountId: UUID
    paymentMethods: list[PaymentMethodInfoPlugin] = Field(default_factory=list, max_length=1000)
    context: CallContext


class BuildFormDescriptorCall(_WithProperties):
    kbAccountId: UUID
    customFields: list[PluginProperty] = Field(default_factory=list, max_length=100)
    context: CallContext


class ProcessNotificationCall(_WithProperties):
    notification: str = Field(max_length=1_000_000)
    context: CallContext


# -- responses ------------------------------------------------------------------------------------
class PaymentTransactionInfoPlugin(_Model):
    kbPaymentId: UUID
    kbTransactionPaymentId: UUID
    transactionType: TransactionType
    amount: Decimal | None
    currency: str | None
    createdDate: datetime
    effectiveDate: datetime
    status: PluginStatus
    gatewayError: str | None = None
    gatewayErrorCode: str | None = None
    firstPaymentReferenceId: str | None = None
    secondPaymentReferenceId: str | None = None
    properties: list[PluginProperty] = Field(default_factory=list)

    @field_serializer("amount")
    def _decimal_string(self, value: Decimal | None) -> str | None:
        return None if value is None else format(value, "f")


RecordT = TypeVar("RecordT")


class Pagination(_Model, Generic[RecordT]):
    """Kill Bill's ``Pagination<T>``; ``Pagination[PaymentTransactionInfoPlugin]`` documents its records."""

    currentOffset: int
    nextOffset: int | None
    totalNbRecords: int | None
    maxNbRecords: int | None
    records: list[RecordT]


class HostedPaymentPageFormDescriptor(_Model):
    kbAccountId: UUID
    formMethod: str
    formUrl: str
    formFields: list[PluginProperty] = Field(default_factory=list)
    properties: list[PluginProperty] = Field(default_factory=list)


class GatewayNotification(_Model):
    kbPaymentId: UUID | None = None
    status: int
    entity: str | None = None
    headers: dict[str, list[str]] = Field(default_factory=dict)
    properties: list[PluginProperty] = Field(default_factory=list)


class PluginError(_Model):
    errorType: str
    errorMessage: str
