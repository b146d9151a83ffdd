"""Hyperswitch's error bodies, codes, messages and HTTP statuses.

Messages follow ``crates/hyperswitch_domain_models/src/errors/api_error_response.rs`` (its ``ErrorSwitch``
to the wire type); the wire ``type`` is ``invalid_request`` for every 4xx and ``api`` for a 500
(reference/hyperswitch.md §1).
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the simulated router answers with ``{"error": {...}}``."""

    def __init__(self, status: int, code: str, message: str, *, error_type: str = "invalid_request",
                 deserialize: bool = False, **extra: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.error_type = error_type
        self.deserialize = deserialize
        self.extra = extra

    def body(self) -> dict[str, Any]:
        # The JSON-deserialize path names the key "error_type", every other path "type".
        type_key = "error_type" if self.deserialize else "type"
        error = {type_key: self.error_type, "message": self.message, "code": self.code}
        error.update(self.extra)
        return {"error": error}


def json_deserialize(detail: str) -> ApiError:
    """A body serde could not read (bad JSON, unknown field, bad id): 400 IR_06 with ``error_type``."""
    return ApiError(400, "IR_06", f"Json deserialize error: {detail}", deserialize=True)


def unauthorized() -> ApiError:
    return ApiError(401, "IR_01", "API key not provided or invalid API key used")


def unrecognized_url() -> ApiError:
    return ApiError(404, "IR_02", "Unrecognized request URL")


def method_not_allowed() -> ApiError:
    return ApiError(405, "IR_03", "The HTTP method is not applicable for this API")


def missing_field(field_name: str) -> ApiError:
    return ApiError(400, "IR_04", f"Missing required param: {field_name}")


def invalid_data_format(field_name: str, expected_format: str) -> ApiError:
    return ApiError(422, "IR_05", f"{field_name} contains invalid data. Expected format is {expected_format}")


def invalid_request_data(message: str) -> ApiError:
    return ApiError(422, "IR_06", message)


def invalid_value(field_name: str) -> ApiError:
    return ApiError(400, "IR_07", f"Invalid value provided: {field_name}")


def mandate_active() -> ApiError:
    return ApiError(400, "IR_10", "Customer has active mandate/subsciption")


def customer_redacted() -> ApiError:
    return ApiError(400, "IR_11", "Customer has already been redacted")


def maximum_refund_count() -> ApiError:
    return ApiError(400, "IR_12", "Reached maximum refund attempts")


def duplicate_customer() -> ApiError:
    # IR_12 doubles as "customer exists" (crates/router/src/core/errors/transformers.rs).
    return ApiError(400, "IR_12", "Customer with the given `customer_id` already exists")


def refund_exceeds_captured() -> ApiError:
    return ApiError(400, "IR_13", "The refund amount exceeds the amount captured")


def unexpected_state(current_flow: str, field_name: str, current_value: str, states: str) -> ApiError:
    return ApiError(400, "IR_14", f"This Payment could not be {current_flow} because it has a {field_name} "
                                  f"of {current_value}. The expected state is {states}")


def precondition_failed(message: str) -> ApiError:
    return ApiError(400, "IR_16", message)


def internal_error() -> ApiError:
    return ApiError(500, "HE_00", "Something went wrong", error_type="api")


def resource_busy() -> ApiError:
    # The lock-contention answer really is 422 with this stray message (reference §9).
    return ApiError(422, "HE_00", "There was an issue processing the webhook body")


def duplicate_payment(payment_id: str) -> ApiError:
    return ApiError(400, "HE_01", "The payment with the specified payment_id already exists in our records",
                    reason=f"{payment_id} already exists")


def duplicate_refund() -> ApiError:
    return ApiError(400, "HE_01", "Duplicate refund request. Refund already attempted with the refund ID")


def payment_not_found() -> ApiError:
    return ApiError(404, "HE_02", "Payment does not exist in our records")


def refund_not_found() -> ApiError:
    return ApiError(404, "HE_02", "Refund does not exist in our records.")


def customer_not_found() -> ApiError:
    return ApiError(404, "HE_02", "Customer does not exist in our records")


def payment_method_not_found() -> ApiError:
    return ApiError(404, "HE_02", "Payment method does not exist in our records")


def mandate_not_found() -> ApiError:
    return ApiError(404, "HE_02", "Mandate does not exist in our records")


def payment_link_not_found() -> ApiError:
    return ApiError(404, "HE_02", "Payment Link does not exist in our records")


def profile_not_found(profile_id: str) -> ApiError:
    return ApiError(404, "HE_02", f"Business profile with the given id {profile_id} does not exist")


def mandate_validation_failed(reason: str) -> ApiError:
    return ApiError(400, "HE_03", "Mandate Validation Failed", reason=reason)


def dispute_not_found() -> ApiError:
    return ApiError(404, "HE_04", "Dispute does not exist in our records")


def duplicate_payout(payout_id: str) -> ApiError:
    return ApiError(400, "HE_01", f"The payout with the specified payout_id '{payout_id}' already exists in our records")


def payout_not_found() -> ApiError:
    return ApiError(404, "HE_02", "Payout does not exist in our records")


def payout_not_allowed(payout_id: str, action: str, status: str) -> ApiError:
    """A payout operation refused for the payout's status (core/payouts: InvalidRequestData, IR_06)."""
    return invalid_request_data(f"Payout {payout_id} cannot be {action} for status {status}")
