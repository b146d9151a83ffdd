"""Payments: ``/payments`` (create, retrieve, capture, cancel, list)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from pydantic import Field, StrictInt, StringConstraints, model_validator

from ._requestor import Call, Requestor
from .common import (
    Address,
    BrowserInformation,
    CurrencyCode,
    CustomerAcceptance,
    MerchantId,
    OpenAttemptStatus,
    OpenIntentStatus,
    RequestDatetime,
    RequestModel,
    ResponseModel,
    Secret,
    Text255,
    UtcDatetime,
)
from .enums import (
    AuthenticationType,
    CaptureMethod,
    FutureUsage,
    MitCategory,
    PaymentType,
)
from .refunds import Refund

__all__ = [
    "CardDetails",
    "CustomerDetails",
    "MandateAmountData",
    "MandateData",
    "MandateIdRecurring",
    "MultiUseMandate",
    "NextAction",
    "Payment",
    "PaymentAttempt",
    "PaymentCancelParams",
    "PaymentCaptureParams",
    "PaymentCreateParams",
    "PaymentLink",
    "PaymentLinkConfig",
    "PaymentList",
    "PaymentListParams",
    "PaymentMethodData",
    "PaymentMethodIdRecurring",
    "PaymentsService",
    "ProcessorPaymentToken",
    "ProcessorPaymentTokenRecurring",
    "RecurringDetails",
    "SingleUseMandate",
]

# crates/router/src/consts.rs MAX_ALLOWED_AMOUNT; above it the router answers IR_16.
MAX_AMOUNT = 999_999_999
MinorAmount = Annotated[StrictInt, Field(ge=0, le=MAX_AMOUNT)]
PositiveMinorAmount = Annotated[StrictInt, Field(gt=0, le=MAX_AMOUNT)]


# ---------------------------------------------------------------- request models


class CardDetails(RequestModel):
    """Raw card data; the number and CVC are hidden in ``repr`` and masked in audit records."""

    card_number: Secret
    card_exp_month: str
    card_exp_year: str
    card_holder_name: str
    card_cvc: Secret
    card_network: str | None = None
    nick_name: str | None = None


class PaymentMethodData(RequestModel):
    card: CardDetails | None = None
    billing: Address | None = None


class MandateIdRecurring(RequestModel):
    type: Literal["mandate_id"] = "mandate_id"
    data: str


class PaymentMethodIdRecurring(RequestModel):
    """Charge a saved payment method (``pm_…``): the usual merchant-initiated charge."""

    type: Literal["payment_method_id"] = "payment_method_id"
    data: str


class ProcessorPaymentToken(RequestModel):
    processor_payment_token: str
    merchant_connector_id: str | None = None


class ProcessorPaymentTokenRecurring(RequestModel):
    type: Literal["processor_payment_token"] = "processor_payment_token"
    data: ProcessorPaymentToken


RecurringDetails = Annotated[
    MandateIdRecurring | PaymentMethodIdRecurring | ProcessorPaymentTokenRecurring,
    Field(discriminator="type"),
]


class MandateAmountData(RequestModel):
    amount: MinorAmount
    currency: CurrencyCode
    start_date: RequestDatetime | None = None
    end_date: RequestDatetime | None = None
    metadata: dict[str, Any] | None = None


class SingleUseMandate(RequestModel):
    single_use: MandateAmountData


class MultiUseMandate(RequestModel):
    multi_use: MandateAmountData | None = None


class MandateData(RequestModel):
    customer_acceptance: CustomerAcceptance | None = None
    mandate_type: SingleUseMandate | MultiUseMandate | None = None


class CustomerDetails(RequestModel):
    id: MerchantId | None = None
    name: Text255 | None = None
    email: Text255 | None = None


class PaymentLinkConfig(RequestModel):
    theme: Text255 | None = None
    logo: Text255 | None = None
    seller_name: Text255 | None = None
    sdk_layout: Text255 | None = None
    display_sdk_only: bool | None = None
    enabled_saved_payment_method: bool | None = None
    hide_card_nickname_field: bool | None = None
    show_card_form_by_default: bool | None = None
    payment_button_text: str | None = None
    skip_status_screen: bool | None = None
    is_setup_mandate_flow: bool | None = None
    show_merchant_name: bool | None = None


class PaymentCreateParams(RequestModel):
    """``POST /payments``. ``amount`` is in minor units (see ``money.to_minor_units``).

    Give ``payment_id`` (derived from the Kill Bill transaction) so that the create can be retried
    safely: the merchant-supplied id is Hyperswitch's only idempotency key.
    """

    amount: MinorAmount
    currency: CurrencyCode
    payment_id: MerchantId | None = None
    confirm: bool | None = None
    capture_method: CaptureMethod | None = None
    amount_to_capture: MinorAmount | None = None
    customer_id: MerchantId | None = None
    customer: CustomerDetails | None = None
    off_session: bool | None = None
    setup_future_usage: FutureUsage | None = None
    customer_acceptance: CustomerAcceptance | None = None
    mandate_data: MandateData | None = None
    recurring_details: RecurringDetails | None = None
    payment_type: PaymentType | None = None
    mit_category: MitCategory | None = None
    is_stored_credential: bool | None = None
    payment_method: str | None = None
    payment_method_type: str | None = None
    payment_method_data: PaymentMethodData | None = None
    payment_token: str | None = None
    authentication_type: AuthenticationType | None = None
    browser_info: BrowserInformation | None = None
    billing: Address | None = None
    shipping: Address | None = None
    return_url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    description: str | None = None
    metadata: dict[str, Any] | None = None
    merchant_order_reference_id: Text255 | None = None
    statement_descriptor_name: Text255 | None = None
    statement_descriptor_suffix: Text255 | None = None
    profile_id: str | None = None
    payment_link: bool | None = None
    payment_link_config: PaymentLinkConfig | None = None
    payment_link_config_id: str | None = None
    session_expiry: Annotated[StrictInt, Field(ge=60, le=7_890_000)] | None = None

    @model_validator(mode="after")
    def _router_preconditions(self) -> PaymentCreateParams:
        # Checked here too so a call is not spent on an answer known in advance (helpers.rs).
        if self.payment_link and self.confirm:
            raise ValueError("a payment link cannot be created with confirm=true (IR_06)")
        saved = (MandateIdRecurring, PaymentMethodIdRecurring)
        if isinstance(self.recurring_details, saved):
            if not (self.customer_id or (self.customer and self.customer.id)):
                raise ValueError("recurring_details of this type needs customer_id (IR_04)")
            if not (self.confirm and self.off_session):
                raise ValueError(
                    "recurring_details needs confirm=true and off_session=true (IR_16)"
                )
        if self.mandate_data and self.setup_future_usage is not FutureUsage.OFF_SESSION:
            raise ValueError("mandate_data needs setup_future_usage='off_session' (IR_16)")
        return self


class PaymentCaptureParams(RequestModel):
    """``POST /payments/{id}/capture``; without ``amount_to_capture`` the whole capturable amount."""

    amount_to_capture: PositiveMinorAmount | None = None
    statement_descriptor_suffix: str | None = None


class PaymentCancelParams(RequestModel):
    cancellation_reason: str | None = None


class PaymentListParams(RequestModel):
    """Query of ``GET /payments/list``; results are newest first, ``limit`` 1–100."""

    customer_id: MerchantId | None = None
    limit: Annotated[StrictInt, Field(ge=1, le=100)] | None = None
    starting_after: str | None = None
    ending_before: str | None = None
    created_gte: RequestDatetime | None = None
    created_lte: RequestDatetime | None = None

    def to_query(self) -> dict[str, str]:
        # The router's names are "created.gte"/"created.lte" (PaymentListConstraints renames);
        # the spec's "created_gte" would be refused by its deny_unknown_fields.
        renames = {"created_gte": "created.gte", "created_lte": "created.lte"}
        return {renames.get(key, key): str(value) for key, value in self.to_body().items()}


# ---------------------------------------------------------------- response models


class NextAction(ResponseModel):
    """What the customer must do next; ``redirect_to_url`` for 3DS and redirects."""

    type: str
    redirect_to_url: str | None = None


class PaymentLink(ResponseModel):
    link: str
    payment_link_id: str
    secure_link: str | None = None


class PaymentMethodCard(ResponseModel):
    last4: str | None = None
    card_network: str | None = None
    card_type: str | None = None
    card_exp_month: str | None = None
    card_exp_year: str | None = None
    card_holder_name: str | None = None


class PaymentMethodDataResponse(ResponseModel):
    card: PaymentMethodCard | None = None


class PaymentAttempt(ResponseModel):
    attempt_id: str
    status: OpenAttemptStatus
    amount: int
    currency: str | None = None
    connector: str | None = None
    connector_transaction_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    unified_code: str | None = None
    unified_message: str | None = None
    created_at: UtcDatetime | None = None
    modified_at: UtcDatetime | None = None


class Payment(ResponseModel):
    """``PaymentsResponse``: what create, retrieve, capture and cancel return."""

    payment_id: str
    status: OpenIntentStatus
    amount: int
    currency: str
    merchant_id: str | None = None
    profile_id: str | None = None
    net_amount: int | None = None
    amount_capturable: int | None = None
    amount_received: int | None = None
    customer_id: str | None = None
    description: str | None = None
    metadata: dict[str, Any] | None = None
    merchant_order_reference_id: str | None = None
    created: UtcDatetime | None = None
    modified_at: UtcDatetime | None = None
    expires_on: UtcDatetime | None = None
    capture_method: str | None = None
    setup_future_usage: str | None = None
    off_session: bool | None = None
    payment_method: str | None = None
    payment_method_type: str | None = None
    payment_method_id: str | None = None
    payment_method_data: PaymentMethodDataResponse | None = None
    mandate_id: str | None = None
    connector_mandate_id: str | None = None
    network_transaction_id: str | None = None
    connector: str | None = None
    connector_transaction_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    unified_code: str | None = None
    unified_message: str | None = None
    manual_retry_allowed: bool | None = None
    attempt_count: int | None = None
    cancellation_reason: str | None = None
    next_action: NextAction | None = None
    payment_link: PaymentLink | None = None
    return_url: str | None = None
    client_secret: str | None = None
    refunds: list[Refund] | None = None
    attempts: list[PaymentAttempt] | None = None


class PaymentList(ResponseModel):
    size: int
    data: list[Payment]


# ---------------------------------------------------------------- service


def _payment_path(payment_id: str, suffix: str = "") -> str:
    return f"/payments/{quote(payment_id, safe='')}{suffix}"


class PaymentsService:
    def __init__(self, requestor: Requestor) -> None:
        self._requestor = requestor

    def create(self, params: PaymentCreateParams) -> Payment:
        """Create (and with ``confirm=True`` authorize) a payment.

        With a ``payment_id`` the create is retried on failures that may have been processed; if
        such a retry is answered HE_01 the existing payment is read back and returned. Without one it
        is sent again only when nothing was processed.
        """
        recover = None
        if params.payment_id is not None:
            recover = self._retrieve_call(
                params.payment_id, force_sync=False, expand_attempts=False
            )
        return self._requestor.request(
            Call(
                "POST",
                "/payments",
                parse=Payment.model_validate,
                body=params.to_body(),
                idempotent=params.payment_id is not None,
                recover=recover,
            )
        )

    def retrieve(
        self, payment_id: str, *, force_sync: bool = False, expand_attempts: bool = False
    ) -> Payment:
        """Read a payment; ``force_sync`` asks the connector for non-terminal payments first."""
        return self._requestor.request(
            self._retrieve_call(payment_id, force_sync=force_sync, expand_attempts=expand_attempts)
        )

    def capture(self, payment_id: str, params: PaymentCaptureParams | None = None) -> Payment:
        """Capture an authorized payment (partially with ``amount_to_capture``). Never resent
        after it may have reached Hyperswitch."""
        body = (params or PaymentCaptureParams()).to_body()
        return self._requestor.request(
            Call("POST", _payment_path(payment_id, "/capture"), parse=Payment.model_validate,
                 body=body)
        )  # fmt: skip

    def cancel(self, payment_id: str, params: PaymentCancelParams | None = None) -> Payment:
        """Void an authorization or close an unpaid payment (e.g. an open payment link)."""
        body = (params or PaymentCancelParams()).to_body()
        return self._requestor.request(
            Call("POST", _payment_path(payment_id, "/cancel"), parse=Payment.model_validate,
                 body=body)
        )  # fmt: skip

    def list(self, params: PaymentListParams | None = None) -> PaymentList:
        query = (params or PaymentListParams()).to_query()
        return self._requestor.request(
            Call("GET", "/payments/list", parse=PaymentList.model_validate, query=query,
                 idempotent=True)
        )  # fmt: skip

    def _retrieve_call(
        self, payment_id: str, *, force_sync: bool, expand_attempts: bool
    ) -> Call[Payment]:
        query = {"force_sync": _flag(force_sync)}
        if expand_attempts:
            query["expand_attempts"] = "true"
        return Call(
            "GET",
            _payment_path(payment_id),
            parse=Payment.model_validate,
            query=query,
            idempotent=True,
        )


def _flag(value: bool) -> str:
    return "true" if value else "false"
