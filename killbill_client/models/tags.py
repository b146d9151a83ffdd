"""Tag and custom field models."""

from __future__ import annotations

from uuid import UUID

from killbill_client.models.base import AuditLog, KillBillModel, ObjectType


class Tag(KillBillModel):
    tag_id: UUID | None = None
    object_type: ObjectType | None = None
    object_id: UUID | None = None
    tag_definition_id: UUID | None = None
    tag_definition_name: str | None = None
    audit_logs: list[AuditLog] | None = None


class CustomField(KillBillModel):
    custom_field_id: UUID | None = None
    object_id: UUID | None = None
    object_type: ObjectType | None = None
    name: str
    value: str
    audit_logs: list[AuditLog] | None = None
