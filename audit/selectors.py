"""Reads of the audit trail. Every read takes `merchant_id`; another merchant's events are not returned."""

from __future__ import annotations

from audit.models import AuditEvent


def audit_event_list_for_entity(*, merchant_id: str, entity_id: str, limit: int = 50) -> list[AuditEvent]:
    """The events about one entity (a payment, a key, ...), newest first: a Query on the `by-entity`
    index, kept to the merchant's own partition by a filter (ids are unique, so the filter only
    guards against an id that another merchant's event happens to name)."""
    if not entity_id:
        return []
    results = AuditEvent.by_entity.query(
        entity_id,
        filter_condition=AuditEvent.merchant_id == merchant_id,
        scan_index_forward=False,
        page_size=limit,
    )
    events = []
    for event in results:
        events.append(event)
        if len(events) >= limit:
            break
    return events
