"""The plugin contract's error: ``{"errorType", "errorMessage"}`` with an HTTP status."""

from __future__ import annotations


class PluginApiError(Exception):
    def __init__(self, error_type: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.status = status


def invalid(message: str) -> PluginApiError:
    return PluginApiError("INVALID_REQUEST", message, 400)


def unknown(what: str, message: str) -> PluginApiError:
    return PluginApiError(f"UNKNOWN_{what.upper()}", message, 404)
