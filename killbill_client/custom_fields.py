"""Account custom fields."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from uuid import UUID

from killbill_client.models import CustomField
from killbill_client.service import Service
from killbill_client.transport import paths


class CustomFieldService(Service):
    def add_to_account(self, account_id: UUID, fields: Mapping[str, str], *, reason: str | None = None,
                       comment: str | None = None) -> list[CustomField]:
        """Returns all the account's custom fields after the change."""
        body = [CustomField(name=name, value=value).to_wire() for name, value in fields.items()]
        _, data = self._transport.create("POST", paths("accounts", account_id, "customFields"), body=body,
                                         reason=reason, comment=comment)
        return self._parse_list(CustomField, data)

    def list_for_account(self, account_id: UUID) -> list[CustomField]:
        return self._parse_list(CustomField, self._transport.get_json(paths("accounts", account_id, "customFields")))

    def modify_on_account(self, account_id: UUID, fields: Iterable[CustomField], *, reason: str | None = None,
                          comment: str | None = None) -> None:
        """Each field needs its ``custom_field_id`` and the new ``value``."""
        body = [{"customFieldId": f.custom_field_id, "name": f.name, "value": f.value} for f in fields]
        self._transport.write("PUT", paths("accounts", account_id, "customFields"), body=body, reason=reason,
                              comment=comment)

    def remove_from_account(self, account_id: UUID, custom_field_ids: Iterable[UUID] | None = None, *,
                            reason: str | None = None, comment: str | None = None) -> None:
        """Removes the given fields, or all of them when ``custom_field_ids`` is None."""
        ids = [str(i) for i in custom_field_ids] if custom_field_ids is not None else []
        if custom_field_ids is not None and not ids:
            return  # Kill Bill reads an empty list as "all fields"
        self._transport.write("DELETE", paths("accounts", account_id, "customFields"),
                              query={"customField": ids}, reason=reason, comment=comment)

    def get_value(self, account_id: UUID, name: str) -> str | None:
        for field in self.list_for_account(account_id):
            if field.name == name:
                return field.value
        return None
