"""Kill Bill's paginated lists: a JSON array plus ``X-Killbill-Pagination-*`` headers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from killbill_client.constants import PAGINATION_HEADER_PREFIX

T = TypeVar("T")


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(PAGINATION_HEADER_PREFIX + name)
    return int(value) if value not in (None, "") else None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page; ``total_nb_records`` and ``max_nb_records`` are approximate and may be None."""

    items: list[T] = field(default_factory=list)
    current_offset: int | None = None
    next_offset: int | None = None
    total_nb_records: int | None = None
    max_nb_records: int | None = None
    next_page_uri: str | None = None

    @property
    def has_next(self) -> bool:
        return self.next_offset is not None

    @classmethod
    def from_headers(cls, items: list[T], headers: Mapping[str, str]) -> Page[T]:
        return cls(items=items,
                   current_offset=_int_header(headers, "CurrentOffset"),
                   next_offset=_int_header(headers, "NextOffset"),
                   total_nb_records=_int_header(headers, "TotalNbRecords"),
                   max_nb_records=_int_header(headers, "MaxNbRecords"),
                   next_page_uri=headers.get(PAGINATION_HEADER_PREFIX + "NextPageUri") or None)
