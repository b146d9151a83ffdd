"""The bridge's error tree: each error knows its HTTP status and its machine-readable name."""

from __future__ import annotations


class ConfigError(Exception):
    """Configuration that cannot run; the message is one line naming the setting."""


class BridgeError(Exception):
    """An error the caller can act on; rendered as ``{"error": ..., "detail": ...}``."""

    status: int = 500
    error: str = "internal_error"

    def __init__(self, detail: str, *, error: str | None = None, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if error is not None:
            self.error = error
        if status is not None:
            self.status = status

    def to_dict(self) -> dict[str, str]:
        return {"error": self.error, "detail": self.detail}


class BadRequest(BridgeError):
    status = 400
    error = "bad_request"


class Unauthorized(BridgeError):
    status = 401
    error = "unauthorized"


class NotFound(BridgeError):
    status = 404
    error = "not_found"


class Conflict(BridgeError):
    status = 409
    error = "conflict"


class ServiceUnavailable(BridgeError):
    status = 503
    error = "service_unavailable"
