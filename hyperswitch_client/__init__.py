"""Typed client of the Hyperswitch v1 API, webhook verification and minor-unit conversion.

Never imports ``bridge``: the sidecar depends on this package, not the other way round.
"""

from .audit import AuditHook, AuditRecord
from .breaker import BreakerListener, CircuitBreaker, CircuitState
from .client import HyperswitchClient
from .errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    CircuitOpenError,
    ConnectError,
    ConnectionLostError,
    ConnectorError,
    DuplicateResourceError,
    ErrorKind,
    HyperswitchError,
    InvalidRequestError,
    NotFoundError,
    OperationRefusedError,
    PaymentBlockedError,
    PermissionDeniedError,
    RateLimitError,
    ResourceBusyError,
    ThrottledError,
    UnreadableResponseError,
)
from .money import currency_exponent, from_minor_units, to_minor_units
from .pacing import Pacer
from .payouts import Payout, PayoutCreateParams, PayoutsService
from .retry import RetryPolicy
from .webhooks import (
    SIGNATURE_HEADER,
    InvalidWebhookError,
    WebhookEvent,
    compute_signature,
    parse_event,
    verify_signature,
)

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AuditHook",
    "AuditRecord",
    "AuthenticationError",
    "BreakerListener",
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "ConnectError",
    "ConnectionLostError",
    "ConnectorError",
    "DuplicateResourceError",
    "ErrorKind",
    "HyperswitchClient",
    "HyperswitchError",
    "InvalidRequestError",
    "InvalidWebhookError",
    "NotFoundError",
    "OperationRefusedError",
    "Pacer",
    "PaymentBlockedError",
    "Payout",
    "PayoutCreateParams",
    "PayoutsService",
    "PermissionDeniedError",
    "RateLimitError",
    "ResourceBusyError",
    "RetryPolicy",
    "SIGNATURE_HEADER",
    "ThrottledError",
    "UnreadableResponseError",
    "WebhookEvent",
    "compute_signature",
    "currency_exponent",
    "from_minor_units",
    "parse_event",
    "to_minor_units",
    "verify_signature",
]
