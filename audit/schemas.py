"""The audit event as the API serialises it (and the CSV export and pages show it)."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema

from audit.models import AuditEvent


class AuditEventOut(Schema):
    id: str = Field(..., description="`evt_` + ULID")
    object: str = "audit_event"
    occurred_at: str = Field(..., description="RFC 3339, microseconds, UTC")
    actor_type: str = Field(..., description="`user`, `api_key`, `system` or `anonymous`")
    actor_id: str
    action: str = Field(..., description="e.g. `payment.create`, `api_key.revoke`, `auth.login_failed`")
    outcome: str = Field(..., description="`success` or `failure`")
    entity_type: str | None
    entity_id: str | None
    source_ip: str | None
    user_agent: str | None
    request_id: str | None
    before: dict[str, Any] | None = Field(None, description="Secrets redacted, personal data marked `[encrypted]`.")
    after: dict[str, Any] | None
    detail: str | None

    @staticmethod
    def resolve_id(event: AuditEvent) -> str:
        return event.event_id

    @staticmethod
    def resolve_object(event: AuditEvent) -> str:
        return "audit_event"

    @staticmethod
    def resolve_entity_id(event: AuditEvent) -> str | None:
        return None if event.entity_id == "-" else event.entity_id  # "-": an event about no one object


class AuditEventListOut(Schema):
    object: str = "list"
    data: list[AuditEventOut]
    has_more: bool
    next_cursor: str | None = Field(None, description="Pass as `starting_after` for the next page.")
