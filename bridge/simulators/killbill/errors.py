"""Kill Bill's error answers: status, ``BillingExceptionJson`` body and the real ErrorCode numbers/texts
(killbill-api ``ErrorCode``; statuses from the jaxrs exception mappers)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

PAYMENT_API_EXCEPTION = "org.killbill.billing.payment.api.PaymentApiException"
ACCOUNT_API_EXCEPTION = "org.killbill.billing.account.api.AccountApiException"
INVOICE_API_EXCEPTION = "org.killbill.billing.invoice.api.InvoiceApiException"
TENANT_API_EXCEPTION = "org.killbill.billing.tenant.api.TenantApiException"
TAG_API_EXCEPTION = "org.killbill.billing.util.api.TagApiException"
TAG_DEFINITION_API_EXCEPTION = "org.killbill.billing.util.api.TagDefinitionApiException"
CUSTOM_FIELD_API_EXCEPTION = "org.killbill.billing.util.api.CustomFieldApiException"
ILLEGAL_ARGUMENT = "java.lang.IllegalArgumentException"
PLUGIN_API_EXCEPTION = "org.killbill.billing.payment.plugin.api.PaymentPluginApiException"


class KillBillApiError(Exception):
    """Rendered as ``BillingExceptionJson`` with the given status; ``location`` for payment outcomes."""

    def __init__(self, status: int, message: str | None, *, class_name: str = ILLEGAL_ARGUMENT,
                 code: int | None = None,
                 cause_class_name: str | None = None, cause_message: str | None = None,
                 location: str | None = None) -> None:
        super().__init__(message or class_name)
        self.status = status
        self.message = message
        self.class_name = class_name
        self.code = code
        self.cause_class_name = cause_class_name
        self.cause_message = cause_message
        self.location = location

    def body(self) -> dict[str, Any]:
        return {"className": self.class_name, "code": self.code, "message": self.message,
                "causeClassName": self.cause_class_name, "causeMessage": self.cause_message, "stackTrace": []}


def bad_request(message: str) -> KillBillApiError:
    """``verifyNonNullOrEmpty`` / ``Preconditions`` failures: IllegalArgumentException → 400."""
    return KillBillApiError(400, message)


def json_error(message: str) -> KillBillApiError:
    return KillBillApiError(400, message, class_name="com.fasterxml.jackson.core.JsonParseException")


def missing_created_by() -> KillBillApiError:
    return bad_request("Header X-Killbill-CreatedBy needs to be set")


# -- tenants ------------------------------------------------------------------------------------
def tenant_exists(api_key: str) -> KillBillApiError:
    return KillBillApiError(409, f"Tenant already exists for key {api_key}", class_name=TENANT_API_EXCEPTION,
                            code=20000)


def no_tenant(tenant_id: Any) -> KillBillApiError:
    return KillBillApiError(404, f"Tenant does not exist for id {tenant_id}", class_name=TENANT_API_EXCEPTION,
                            code=20001)


def no_tenant_for_api_key(api_key: str | None) -> KillBillApiError:
    return KillBillApiError(404, f"Tenant does not exist for api key {api_key}", class_name=TENANT_API_EXCEPTION,
                            code=20003)


# -- accounts -----------------------------------------------------------------------------------
def account_exists(key: str) -> KillBillApiError:
    return KillBillApiError(409, f"Account already exists for key {key}", class_name=ACCOUNT_API_EXCEPTION,
                            code=3000)


def no_account(account_id: Any) -> KillBillApiError:
    return KillBillApiError(404, f"Account does not exist for id {account_id}", class_name=ACCOUNT_API_EXCEPTION,
                            code=3002)


def no_account_for_key(key: str) -> KillBillApiError:
    return KillBillApiError(404, f"Account does not exist for key {key}", class_name=ACCOUNT_API_EXCEPTION,
                            code=3003)


# -- invoices -----------------------------------------------------------------------------------
def no_invoice(invoice_id: Any) -> KillBillApiError:
    return KillBillApiError(404, f"No invoice could be found for id {invoice_id}.",
                            class_name=INVOICE_API_EXCEPTION, code=4006)


def charge_amount_invalid(amount: Any) -> KillBillApiError:
    return KillBillApiError(400, f"External charge amount {amount} should be strictly positive",
                            class_name=INVOICE_API_EXCEPTION, code=4015)


def currency_invalid(account_currency: str, input_currency: str) -> KillBillApiError:
    # Kill Bill fills CURRENCY_INVALID's "%s, expected %s" with (account currency, input currency).
    return KillBillApiError(400, f"Invalid currency {account_currency}, expected {input_currency}",
                            class_name=INVOICE_API_EXCEPTION, code=3)


def invoice_status_invalid(invoice_id: UUID, wanted: str, current: str) -> KillBillApiError:
    return KillBillApiError(400, f"The invoice status {wanted} is invalid for invoice id {invoice_id}. "
                                 f"Current status is {current}", class_name=INVOICE_API_EXCEPTION, code=4023)


def _invoice(status: int, code: int, message: str) -> KillBillApiError:
    return KillBillApiError(status, message, class_name=INVOICE_API_EXCEPTION, code=code)


def adjustment_amount_not_positive(amount: Any) -> KillBillApiError:
    return _invoice(400, 4010, f"Invoice adjustment amount {amount} should be strictly positive")


def no_invoice_item(item_id: Any) -> KillBillApiError:
    return _invoice(404, 4011, f"No invoice item could be found for id {item_id}.")


def adjustment_amount_invalid(amount: Any, left: Any) -> KillBillApiError:
    return _invoice(400, 4020, f"Invoice adjustment amount {amount} should be lower than {left}")


def cannot_void_paid_invoice(invoice_id: UUID) -> KillBillApiError:
    # No mapper entry: ExceptionMapperBase#fallback answers 400 (no cause).
    return _invoice(400, 4028, f"Invoice {invoice_id} can not be voided. Invoice is paid or partially paid.")


def void_invoice_updated(invoice_id: UUID) -> KillBillApiError:
    return _invoice(400, 4031, f"Cannot modify a Voided invoice: id={invoice_id}")


# -- payments -----------------------------------------------------------------------------------
def _payment(status: int, code: int, message: str, **kwargs: Any) -> KillBillApiError:
    return KillBillApiError(status, message, class_name=PAYMENT_API_EXCEPTION, code=code, **kwargs)


def no_payment_method(pm_id: Any) -> KillBillApiError:
    return _payment(404, 7000, f"Payment method {pm_id} does not exist")


def add_payment_method_failed(account_id: UUID, reason: str) -> KillBillApiError:
    return _payment(400, 7005, f"Failed to add payment method for account {account_id} : {reason}")


def get_payment_methods_failed(account_id: UUID, reason: str) -> KillBillApiError:
    return _payment(500, 7004, f"Failed to retrieve payment method for account {account_id} : {reason}")


def delete_payment_method_failed(account_id: UUID, reason: str) -> KillBillApiError:
    return _payment(500, 7007, f"Failed to delete payment method for account {account_id} : {reason}")


def update_payment_method_failed(account_id: UUID, reason: str) -> KillBillApiError:
    return _payment(500, 7008, f"Failed to update payment method for account {account_id} : {reason}")


def refresh_payment_methods_failed(account_id: UUID, reason: str) -> KillBillApiError:
    return _payment(500, 7006, f"Failed to refresh payment methods for account {account_id} : {reason}")


def no_payment(payment_id: Any) -> KillBillApiError:
    return _payment(404, 7020, f"Payment {payment_id} does not exist")


def no_default_payment_method(account_id: UUID) -> KillBillApiError:
    return _payment(404, 7021, f"Account {account_id} does not have a default payment method set")


def delete_default_payment_method(account_id: UUID) -> KillBillApiError:
    return _payment(400, 7022, f"Cannot delete default payment method for account {account_id}")


def not_pending(payment_id: UUID) -> KillBillApiError:
    """PAYMENT_NO_SUCH_SUCCESS_PAYMENT: what notifyStateChanged answers for a transaction not PENDING."""
    return _payment(404, 7024, f"Payment {payment_id} did not succeed")


def no_such_plugin(plugin_name: str) -> KillBillApiError:
    return _payment(400, 7028, f"Payment plugin {plugin_name} is not registered")


def transaction_key_exists(key: str) -> KillBillApiError:
    return _payment(400, 7030, f"Successful transaction with external key {key} already exists")


def invalid_parameter(name: str, value: Any) -> KillBillApiError:
    return _payment(400, 7031, f"Invalid parameter {name}: {value}")


def invalid_operation(operation: str, state: str | None) -> KillBillApiError:
    return _payment(400, 7032, f"Invalid payment transition {operation} from state {state}")


def plugin_timeout(account_id: UUID, plugin_name: str) -> KillBillApiError:
    return _payment(504, 7100, f"Plugin timeout for account {account_id}: Timeout for plugin {plugin_name}")


def plugin_get_payment_info(payment_id: UUID, reason: str) -> KillBillApiError:
    return _payment(500, 7102, f"Failed to retrieve payment plugin info for payment {payment_id}: {reason}")


def control_plugin_aborted(reason: str) -> KillBillApiError:
    return _payment(422, 7106, f"Control plugin aborted call: {reason}")


def plugin_exception(error_message: str) -> KillBillApiError:
    """PaymentApiException(PAYMENT_PLUGIN_EXCEPTION) wrapping the plugin's exception: fallback mapper → 400."""
    return _payment(400, 7199, f"Plugin exception {error_message}", cause_class_name=PLUGIN_API_EXCEPTION,
                    cause_message=error_message)


def payment_outcome(status: int, message: str, location: str) -> KillBillApiError:
    """createPaymentResponse's 402/502/503 body: a PaymentApiException with no code, plus the Location."""
    return _payment(status, None, message, location=location)  # type: ignore[arg-type]


# -- tags and custom fields ------------------------------------------------------------------------
def no_tag_definition(definition_id: Any) -> KillBillApiError:
    return KillBillApiError(404, f"The tag definition {definition_id} does not exist",
                            class_name=TAG_DEFINITION_API_EXCEPTION, code=3902)


def tag_cannot_be_removed(name: str, reason: str) -> KillBillApiError:
    return KillBillApiError(400, f"The tag {name} cannot be removed because {reason}",
                            class_name=TAG_API_EXCEPTION, code=3951)


def custom_field_missing(field_id: Any) -> KillBillApiError:
    return KillBillApiError(400, f"The custom field does not exists for id {field_id}",
                            class_name=CUSTOM_FIELD_API_EXCEPTION, code=9001)


def simulated_failure(status: int, operation: str) -> KillBillApiError:
    """A failure injected through the control API (a Kill Bill outage, as far as the caller can tell)."""
    return KillBillApiError(status, f"Simulated failure of {operation}", class_name="java.lang.RuntimeException")
