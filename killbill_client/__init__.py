"""Typed Kill Bill 0.24 REST client (requests + pydantic). Never imports ``bridge``."""

from killbill_client.client import KillBillClient
from killbill_client.errors import (
                                    BadRequestError,
                                    ConflictError,
                                    CreatedButUnreadableError,
                                    KillBillAPIError,
                                    KillBillConnectionError,
                                    KillBillError,
                                    KillBillTimeoutError,
                                    NotFoundError,
                                    PaymentAbortedError,
                                    PaymentDeclinedError,
                                    PaymentPluginFailureError,
                                    PaymentPluginTimeoutError,
                                    PaymentTransactionError,
                                    PaymentUnknownError,
                                    ServerError,
                                    UnauthorizedError,
)
from killbill_client.pagination import Page

__all__ = [
    "BadRequestError", "ConflictError", "CreatedButUnreadableError", "KillBillAPIError", "KillBillClient",
    "KillBillConnectionError", "KillBillError", "KillBillTimeoutError", "NotFoundError", "Page",
    "PaymentAbortedError", "PaymentDeclinedError", "PaymentPluginFailureError", "PaymentPluginTimeoutError",
    "PaymentTransactionError", "PaymentUnknownError", "ServerError", "UnauthorizedError",
]
