"""Accounts."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from killbill_client.models import Account
from killbill_client.pagination import Page
from killbill_client.service import Service
from killbill_client.transport import paths


def _balance_query(with_balance: bool, with_balance_and_cba: bool) -> dict[str, bool]:
    return {"accountWithBalance": with_balance, "accountWithBalanceAndCBA": with_balance_and_cba}


class AccountService(Service):
    def create(self, account: Account, *, reason: str | None = None, comment: str | None = None) -> Account:
        """``currency`` must be set for the account to take payments."""
        _, data = self._transport.create("POST", paths("accounts"), body=account.to_wire(), reason=reason,
                                         comment=comment)
        return self._parse(Account, data)

    def update(self, account_id: UUID, account: Account, *, treat_null_as_reset: bool = False,
               reason: str | None = None, comment: str | None = None) -> None:
        """Change the fields that are set (all updatable fields with ``treat_null_as_reset``: unset ones are
        cleared). Kill Bill refuses to change the external key, currency, time zone or a set bill cycle day.
        Kill Bill posts ACCOUNT_CHANGE."""
        self._transport.write("PUT", paths("accounts", account_id), query={"treatNullAsReset": treat_null_as_reset},
                              body=account.to_wire(), reason=reason, comment=comment)

    def get(self, account_id: UUID, *, with_balance: bool = False, with_balance_and_cba: bool = False) -> Account:
        data = self._transport.get_json(paths("accounts", account_id),
                                        _balance_query(with_balance, with_balance_and_cba))
        return self._parse(Account, data)

    def get_by_external_key(self, external_key: str, *, with_balance: bool = False,
                            with_balance_and_cba: bool = False) -> Account:
        query = {"externalKey": external_key, **_balance_query(with_balance, with_balance_and_cba)}
        return self._parse(Account, self._transport.get_json(paths("accounts"), query))

    def list(self, *, offset: int = 0, limit: int = 100, with_balance: bool = False) -> Page[Account]:
        return self._page(Account, paths("accounts", "pagination"),
                          {"offset": offset, "limit": limit, "accountWithBalance": with_balance})

    def iterate(self, *, page_size: int = 100) -> Iterator[Account]:
        """Every account of the tenant, page by page."""
        offset: int | None = 0
        while offset is not None:
            page = self.list(offset=offset, limit=page_size)
            yield from page.items
            offset = page.next_offset if page.items else None
