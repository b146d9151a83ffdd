"""Every response the simulator returns on a spec'd path is validated against the real spec
(with the corrections, path and query aliases kept in ``tests/contract/spec.py``)."""

from __future__ import annotations

from typing import Any

import requests

from tests.contract import spec as shared

hyperswitch_spec = shared.hyperswitch_spec


def spec_path(path: str) -> str:
    return shared.hyperswitch_spec.spec_path(path)


def validate_exchange(method: str, path: str, response: requests.Response) -> None:
    body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else None
    hyperswitch_spec.validate_response(method, spec_path(path), response.status_code, body)


def validate_webhook(body: dict[str, Any]) -> None:
    hyperswitch_spec.validate_schema("OutgoingWebhook", body)


class HyperswitchHttp:
    """requests against the simulator, checking each request (unless told not to) and each response."""

    def __init__(self, base_url: str, api_key: str | None, *, timeout: float = 10.0) -> None:
        self.base_url = base_url
        self.api_key = api_key
        self.timeout = timeout

    def request(self, method: str, path: str, *, json_body: Any = None, params: dict[str, str] | None = None,
                headers: dict[str, str] | None = None, data: bytes | None = None,
                check_request: bool = True, timeout: float | None = None) -> requests.Response:
        if check_request:
            hyperswitch_spec.validate_request(method, spec_path(path), json_body, params)
        sent_headers = {"api-key": self.api_key} if self.api_key else {}
        sent_headers.update(headers or {})
        response = requests.request(method, self.base_url + path, json=json_body, params=params, data=data,
                                    headers=sent_headers, timeout=timeout or self.timeout)
        validate_exchange(method, path, response)
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json_body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)
