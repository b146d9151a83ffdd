"""Base of the per-resource services."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import TypeAdapter

from killbill_client.pagination import Page
from killbill_client.transport import Query, Transport, response_json

M = TypeVar("M")


class Service:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @staticmethod
    def _parse(model: type[M], data: Any) -> M:
        return TypeAdapter(model).validate_python(data)

    @staticmethod
    def _parse_list(model: type[M], data: Any) -> list[M]:
        return TypeAdapter(list[model]).validate_python(data or [])  # type: ignore[valid-type]

    def _page(self, model: type[M], path: str, query: Query) -> Page[M]:
        response = self._transport.get(path, query)
        return Page.from_headers(self._parse_list(model, response_json(response)), response.headers)
