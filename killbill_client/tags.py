"""Account tags, including the control tags AUTO_PAY_OFF and MANUAL_PAY."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from killbill_client.constants import AUTO_PAY_OFF, MANUAL_PAY
from killbill_client.models import Tag
from killbill_client.service import Service
from killbill_client.transport import paths


class TagService(Service):
    def add_to_account(self, account_id: UUID, tag_definition_ids: Iterable[UUID], *, reason: str | None = None,
                       comment: str | None = None) -> list[Tag]:
        """Returns all the account's tags after the change."""
        body = [str(tag) for tag in tag_definition_ids]
        _, data = self._transport.create("POST", paths("accounts", account_id, "tags"), body=body, reason=reason,
                                         comment=comment)
        return self._parse_list(Tag, data)

    def remove_from_account(self, account_id: UUID, tag_definition_ids: Iterable[UUID], *,
                            reason: str | None = None, comment: str | None = None) -> None:
        """Removing AUTO_PAY_OFF fails (400) while the account has no default payment method."""
        self._transport.write("DELETE", paths("accounts", account_id, "tags"),
                              query={"tagDef": [str(tag) for tag in tag_definition_ids]}, reason=reason,
                              comment=comment)

    def list_for_account(self, account_id: UUID, *, included_deleted: bool = False) -> list[Tag]:
        data = self._transport.get_json(paths("accounts", account_id, "tags"), {"includedDeleted": included_deleted})
        return self._parse_list(Tag, data)

    def has_tag(self, account_id: UUID, tag_definition_id: UUID) -> bool:
        return any(tag.tag_definition_id == tag_definition_id for tag in self.list_for_account(account_id))

    def is_manual_pay(self, account_id: UUID) -> bool:
        """True when Kill Bill will not auto-pay the account's invoices (AUTO_PAY_OFF or MANUAL_PAY)."""
        return any(tag.tag_definition_id in (AUTO_PAY_OFF, MANUAL_PAY) for tag in self.list_for_account(account_id))
