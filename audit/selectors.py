"""Reads of the audit trail. Every read takes `merchant_id`; another merchant's events are not returned."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC

from audit.anchors import anchored_partitions
from audit.models import AuditEvent, AuditSeal
from core.pagination import Page


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


# --- the audit log: pages, one event, partitions (audit pages, API and sealing) -------------------

from dataclasses import dataclass  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from core.errors import NotFound  # noqa: E402
from core.ids import id_time, is_id  # noqa: E402

PLATFORM_PARTITION = "ops"
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


class AuditEventNotFound(NotFound):
    title = "No such audit event"


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None  # exact, or a prefix ending in "." ("payment." matches payment.create, ...)
    entity_id: str | None = None
    actor: str | None = None  # actor id (a username, an API key id, "paysite")
    outcome: str | None = None  # success | failure
    occurred_gte: datetime | None = None
    occurred_lt: datetime | None = None


def _time_key(at: datetime) -> str:
    return at.astimezone(UTC).strftime(_TIME_FORMAT)


def _key_condition(filters: AuditFilters) -> Any:
    low = _time_key(filters.occurred_gte) if filters.occurred_gte else None
    high = _time_key(filters.occurred_lt) if filters.occurred_lt else None
    field = AuditEvent.occurred_event
    if low and high:
        return field.between(low, high)  # keys carry "#evt_..." after the time: `high` itself is excluded
    if low:
        return field >= low
    if high:
        return field < high
    return None


def _filter_condition(filters: AuditFilters, *, merchant_id: str | None) -> Any:
    conditions = []
    if merchant_id is not None:
        conditions.append(AuditEvent.merchant_id == merchant_id)
    if filters.action:
        conditions.append(
            AuditEvent.action.startswith(filters.action)
            if filters.action.endswith(".")
            else AuditEvent.action == filters.action
        )
    if filters.actor:
        conditions.append(AuditEvent.actor_id == filters.actor)
    if filters.outcome:
        conditions.append(AuditEvent.outcome == filters.outcome)
    combined = None
    for condition in conditions:
        combined = condition if combined is None else combined & condition
    return combined


def _event_key(*, merchant_id: str, event_id: str) -> str | None:
    """The sort key of one event from its id: the id carries the time to the millisecond, so one small
    Query over that millisecond finds it."""
    if not is_id(event_id, "evt"):
        return None
    at = id_time(event_id)
    results = AuditEvent.query(
        merchant_id,
        range_key_condition=AuditEvent.occurred_event.between(_time_key(at), _time_key(at + timedelta(milliseconds=1))),
        filter_condition=AuditEvent.event_id == event_id,
    )
    for event in results:
        return event.occurred_event
    return None


def audit_event_get(*, merchant_id: str, event_id: str) -> AuditEvent:
    key = _event_key(merchant_id=merchant_id, event_id=event_id)
    if key is None:
        raise AuditEventNotFound(f"No audit event {event_id}.", param="event_id")
    return AuditEvent.get(merchant_id, key)


def audit_event_list(
    *, merchant_id: str, filters: AuditFilters | None = None, limit: int = 20, starting_after: str | None = None
) -> Page[AuditEvent]:
    """A page of the partition's events, newest first, optionally filtered. A time range is a key
    condition; `entity_id` uses the `by-entity` index; the other filters are filter conditions."""
    filters = filters or AuditFilters()
    last_key = None
    if starting_after:
        key = _event_key(merchant_id=merchant_id, event_id=starting_after)
        if key is None:
            raise AuditEventNotFound(f"No audit event {starting_after}.", param="starting_after", code="invalid_cursor")
        last_key = {"merchant_id": {"S": merchant_id}, "occurred_event": {"S": key}}
        if filters.entity_id:
            last_key["entity_id"] = {"S": filters.entity_id}
    if filters.entity_id:
        results = AuditEvent.by_entity.query(
            filters.entity_id,
            range_key_condition=_key_condition(filters),
            filter_condition=_filter_condition(filters, merchant_id=merchant_id),
            scan_index_forward=False,
            last_evaluated_key=last_key,
            page_size=max(limit + 1, 50),
        )
    else:
        results = AuditEvent.query(
            merchant_id,
            range_key_condition=_key_condition(filters),
            filter_condition=_filter_condition(filters, merchant_id=None),
            scan_index_forward=False,
            last_evaluated_key=last_key,
            page_size=max(limit + 1, 50),
        )
    items: list[AuditEvent] = []
    for event in results:
        items.append(event)
        if len(items) > limit:
            break
    return Page(items=items[:limit], has_more=len(items) > limit, cursor_attribute="event_id")


def audit_event_iter(*, merchant_id: str, filters: AuditFilters | None = None) -> Any:
    """Every matching event, newest first, page by page (the CSV export streams it)."""
    cursor = None
    while True:
        page = audit_event_list(merchant_id=merchant_id, filters=filters, limit=100, starting_after=cursor)
        yield from page.items
        if not page.has_more:
            return
        cursor = page.next_cursor


# Where the merchants' partitions come from: the merchants app adds its merchant list in `ready()`
# (audit sits below merchants, so it asks instead of importing them).
_partition_sources: list[Callable[[], Iterable[str]]] = []


def audit_partition_source_add(source: Callable[[], Iterable[str]]) -> None:
    """Add a source of partition names (merchant ids) to `audit_partition_list`."""
    if source not in _partition_sources:
        _partition_sources.append(source)


def audit_partition_list() -> list[str]:
    """Every audit partition without a Scan: `ops`, each merchant of every source, and every partition
    with an anchored head (so deleting a merchant's item does not take its trail out of verification)."""
    partitions = [PLATFORM_PARTITION, *(partition for source in _partition_sources for partition in source())]
    known = set(partitions)
    return partitions + [partition for partition in anchored_partitions() if partition not in known]


def audit_seal_list(*, merchant_id: str, limit: int = 24) -> list[Any]:
    """The partition's newest seals, newest first."""
    return list(AuditSeal.query(merchant_id, scan_index_forward=False, limit=limit))
