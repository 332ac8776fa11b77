"""Writing audit events. Events are append-only: the application has no update or delete path.

`audit_event_new` builds an event for a caller's transaction (so the event exists exactly when the
change does); `audit_record` writes one on its own for changes outside DynamoDB (logins,
memberships)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from audit import integrity
from audit.models import AuditEvent, retention_days
from core.actor import SYSTEM, Actor
from core.ids import new_id

PLATFORM_PARTITION = "ops"
_SECRET_WORDS = ("secret", "password", "cvc", "cvv", "number", "token", "key_hash", "pan")
_PII_FIELDS = {"email", "name", "phone"}


def redact(value: Any) -> Any:
    """Secrets become "[redacted]" and personal data "[encrypted]", at any depth."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            lowered = str(key).lower()
            if any(word in lowered for word in _SECRET_WORDS):
                out[key] = "[redacted]"
            elif lowered in _PII_FIELDS and item is not None:
                out[key] = "[encrypted]"
            else:
                out[key] = redact(item)
        return out
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def audit_event_new(
    *,
    merchant_id: str | None,
    actor: Actor,
    action: str,
    entity_type: str | None = None,
    entity_id: str | None = None,
    outcome: str = "success",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    detail: str | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    occurred = at or datetime.now(UTC)
    event_id = new_id("evt", occurred)
    occurred_at = occurred.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return AuditEvent(
        merchant_id=merchant_id or PLATFORM_PARTITION,
        occurred_event=f"{occurred_at}#{event_id}",
        event_id=event_id,
        occurred_at=occurred_at,
        actor_type=actor.type,
        actor_id=actor.id,
        action=action,
        outcome=outcome,
        entity_type=entity_type,
        entity_id=entity_id or "-",
        source_ip=actor.ip,
        user_agent=actor.user_agent,
        request_id=actor.request_id,
        before=redact(before) if before is not None else None,
        after=redact(after) if after is not None else None,
        detail=detail,
        expires_at=occurred + timedelta(days=retention_days()),
    )


def audit_condition() -> Any:
    """The condition every audit write carries: never overwrite an existing event."""
    return AuditEvent.occurred_event.does_not_exist()


def audit_record(**fields: Any) -> AuditEvent:
    event = audit_event_new(**fields)
    event.save(condition=audit_condition())
    return event


def audit_seal_run(*, partitions: list[str], through: datetime, actor: Actor = SYSTEM) -> list[Any]:
    """Seal the partitions through `through` and record the run (itself an audit event, platform
    partition) when it wrote seals."""
    runs = integrity.audit_seal(through=through, partitions=partitions)
    seals = sum(run.seals for run in runs)
    if seals:
        audit_record(
            merchant_id=None,
            actor=actor,
            action="audit.seal",
            entity_type="audit_seal",
            entity_id="-",
            after={"seals": seals, "events": sum(run.events for run in runs), "through": integrity.time_key(through)},
        )
    return runs


def audit_verify_run(*, partitions: list[str], since: datetime | None = None, actor: Actor = SYSTEM) -> Any:
    """Verify the chain and record who verified and what was found (PCI DSS 10.2.1.3: access to the
    audit trail is itself audited)."""
    result = integrity.audit_verify(partitions=partitions, since=since)
    audit_record(
        merchant_id=partitions[0] if len(partitions) == 1 else None,
        actor=actor,
        action="audit.verify",
        entity_type="audit_seal",
        entity_id="-",
        outcome="success" if result.ok else "failure",
        after={
            "partitions": len(result.partitions),
            "seals": result.seals,
            "events": result.events,
            "findings": len(result.findings),
        },
    )
    return result


def audit_access_record(*, actor: Actor, merchant_id: str | None, action: str, detail: str | None = None) -> None:
    """Reading or exporting the audit log, downloading a report (PCI DSS 10.2.1.3, 10.2.1.x)."""
    audit_record(
        merchant_id=merchant_id, actor=actor, action=action, entity_type="audit_log", entity_id="-", detail=detail
    )
