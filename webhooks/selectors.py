"""Reads of webhook deliveries (one, a merchant's newest, one entity's, the overdue ones), of webhook
endpoints and of events (the Events API)."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from pynamodb.exceptions import DoesNotExist

# --- merchants -------------------------------------------------------------------------------
# --- API keys --------------------------------------------------------------------------------
# --- payments --------------------------------------------------------------------------------
# --- summaries -------------------------------------------------------------------------------
# --- customers -------------------------------------------------------------------------------
# --- webhook deliveries ----------------------------------------------------------------------
from core.errors import NotFound  # noqa: E402
from core.ids import id_ceiling, id_floor, is_id
from core.ids import now as clock_now
from core.pagination import Page
from webhooks.models import Event, WebhookDelivery, WebhookEndpoint  # noqa: E402


class WebhookEndpointNotFound(NotFound):
    title = "No such webhook endpoint"


class EventNotFound(NotFound):
    title = "No such event"


def _is_delivery_id(value: str) -> bool:
    """`evt_...` (one endpoint, or the wave-1 URL) or `evt_...:we_...` (one of several endpoints)."""
    event_id, _, endpoint_id = (value or "").partition(":")
    return is_id(event_id, "evt") and (not endpoint_id or is_id(endpoint_id, "we"))


def webhook_delivery_get(*, merchant_id: str, event_id: str) -> WebhookDelivery:
    if _is_delivery_id(event_id):
        try:
            return WebhookDelivery.get(merchant_id, event_id, consistent_read=True)
        except DoesNotExist:
            pass
    raise NotFound(f"No webhook event {event_id}.", param="id")


def webhook_delivery_list_for_merchant(
    *,
    merchant_id: str,
    limit: int = 20,
    starting_after: str | None = None,
    status: str | None = None,
    event_type: str | None = None,
    endpoint_id: str | None = None,
) -> Page[WebhookDelivery]:
    """The merchant's webhook deliveries, newest first (a Query on the table's own key), optionally
    only those with a status, of an event type or to one endpoint (filter conditions)."""
    last_key = None
    if starting_after:
        if not _is_delivery_id(starting_after):
            raise NotFound(f"No webhook event {starting_after}.", param="starting_after")
        last_key = {"merchant_id": {"S": merchant_id}, "event_id": {"S": starting_after}}
    condition = None
    for part in (
        (WebhookDelivery.status == status) if status else None,
        (WebhookDelivery.event_type == event_type) if event_type else None,
        (WebhookDelivery.endpoint_id == endpoint_id) if endpoint_id else None,
    ):
        if part is not None:
            condition = part if condition is None else condition & part
    results = WebhookDelivery.query(
        merchant_id,
        filter_condition=condition,
        scan_index_forward=False,
        page_size=limit + 1,
        last_evaluated_key=last_key,
    )
    items = []
    for delivery in results:
        items.append(delivery)
        if len(items) > limit:
            break
    return Page(items=items[:limit], has_more=len(items) > limit, cursor_attribute="event_id")


def webhook_delivery_list_for_entity(*, merchant_id: str, entity_id: str, limit: int = 100) -> list[WebhookDelivery]:
    """The events about one payment (or settlement), newest first, from the `by-entity` index."""
    results = WebhookDelivery.by_entity.query(
        entity_id, filter_condition=WebhookDelivery.merchant_id == merchant_id, scan_index_forward=False
    )
    return [delivery for _, delivery in zip(range(limit), results, strict=False)]


def webhook_delivery_list_due(*, merchant_id: str, before: datetime, window: timedelta) -> list[WebhookDelivery]:
    """Pending deliveries whose next attempt was due by `before`, among the merchant's events of the
    last `window`: a Query on the merchant's partition bounded by event id (ids sort by time)."""
    results = WebhookDelivery.query(
        merchant_id,
        range_key_condition=WebhookDelivery.event_id >= id_floor("evt", before - window),
        filter_condition=(WebhookDelivery.status == "pending") & (WebhookDelivery.next_attempt_at <= before),
    )
    return list(results)


# --- webhook endpoints -----------------------------------------------------------------------


def webhook_endpoint_get(*, merchant_id: str, endpoint_id: str) -> WebhookEndpoint:
    """One endpoint of the merchant; another merchant's is as missing as an unknown one (404)."""
    if is_id(endpoint_id, "we"):
        try:
            return WebhookEndpoint.get(merchant_id, endpoint_id, consistent_read=True)
        except DoesNotExist:
            pass
    raise WebhookEndpointNotFound(f"No webhook endpoint {endpoint_id}.", param="id")


def webhook_endpoint_list(*, merchant_id: str, consistent: bool = True) -> list[WebhookEndpoint]:
    """The merchant's endpoints (at most 16), oldest first: one Query, strongly consistent unless the
    caller can live with a change of the last second not being seen (the event path)."""
    return list(WebhookEndpoint.query(merchant_id, consistent_read=consistent))


class _EndpointsSeen:
    """Each merchant's endpoints as the event path last read them in this process, for
    `WEBHOOK_ENDPOINTS_CACHE_SECONDS`: a payment's event then needs no Query of its own. A change made
    in this process is seen at once (`webhook_endpoints_forget`); one made in another process within
    the window, on that process's next read."""

    MAX_MERCHANTS = 10_000  # then it starts again empty: bounded memory in a long-lived worker

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, str, list[WebhookEndpoint]]] = {}
        self._forgets = 0  # a read that a forget overtook is not kept: it may predate the change

    def get(self, merchant_id: str, merchant_created: str, seconds: float) -> list[WebhookEndpoint]:
        """`merchant_created` tells a merchant made again under the same id (emptied tables) apart."""
        with self._lock:
            entry, forgets = self._entries.get(merchant_id), self._forgets
        if entry is not None and time.monotonic() < entry[0] and entry[1] == merchant_created:
            return entry[2]
        endpoints = webhook_endpoint_list(merchant_id=merchant_id, consistent=False)
        with self._lock:
            if forgets == self._forgets:
                if len(self._entries) >= self.MAX_MERCHANTS:
                    self._entries.clear()
                self._entries[merchant_id] = (time.monotonic() + seconds, merchant_created, endpoints)
        return endpoints

    def forget(self, merchant_id: str | None = None) -> None:
        with self._lock:
            self._forgets += 1
            if merchant_id is None:
                self._entries.clear()
            else:
                self._entries.pop(merchant_id, None)


_endpoints_seen = _EndpointsSeen()


def webhook_endpoints_for_events(*, merchant_id: str, merchant_created: datetime | None) -> list[WebhookEndpoint]:
    """The merchant's endpoints for an event's fan-out: read again at most every
    `WEBHOOK_ENDPOINTS_CACHE_SECONDS` per process (0: on every event, eventually consistent), and
    whenever the merchant item's `created` is not the one they were read for."""
    seconds = float(settings.WEBHOOK_ENDPOINTS_CACHE_SECONDS)
    if seconds <= 0:
        return webhook_endpoint_list(merchant_id=merchant_id, consistent=False)
    return _endpoints_seen.get(merchant_id, merchant_created.isoformat() if merchant_created else "", seconds)


def webhook_endpoints_forget(*, merchant_id: str | None = None) -> None:
    """After a change to a merchant's endpoints (or all merchants'): the next event reads them again."""
    _endpoints_seen.forget(merchant_id)


def webhook_endpoint_page(
    *, merchant_id: str, limit: int = 20, starting_after: str | None = None
) -> Page[WebhookEndpoint]:
    """A page of the merchant's endpoints, newest first, paged like payments."""
    last_key = None
    if starting_after:
        if not is_id(starting_after, "we"):
            raise WebhookEndpointNotFound(f"No webhook endpoint {starting_after}.", param="starting_after")
        last_key = {"merchant_id": {"S": merchant_id}, "endpoint_id": {"S": starting_after}}
    results = WebhookEndpoint.query(
        merchant_id, scan_index_forward=False, page_size=limit + 1, last_evaluated_key=last_key, consistent_read=True
    )
    items = [endpoint for _, endpoint in zip(range(limit + 1), results, strict=False)]
    return Page(items=items[:limit], has_more=len(items) > limit, cursor_attribute="endpoint_id")


# --- events ----------------------------------------------------------------------------------


def _live(now: datetime) -> Any:
    """Events past their TTL are absent, whether or not DynamoDB has deleted them yet."""
    return Event.expires_at > now


def event_get(*, merchant_id: str, event_id: str, now: datetime | None = None) -> Event:
    if is_id(event_id, "evt"):
        try:
            event = Event.get(merchant_id, event_id, consistent_read=True)
        except DoesNotExist:
            pass
        else:
            if event.expires_at > (now or clock_now()):
                return event
    raise EventNotFound(f"No event {event_id}.", param="id")


def event_list_for_merchant(
    *,
    merchant_id: str,
    limit: int = 20,
    starting_after: str | None = None,
    event_type: str | None = None,
    created_gte: datetime | None = None,
    created_lt: datetime | None = None,
    now: datetime | None = None,
) -> Page[Event]:
    """The merchant's events, newest first: a Query on its partition, the time range a key condition
    on the ids' time (ids are ULIDs), the type and the TTL filter conditions. No Scan."""
    last_key = None
    if starting_after:
        if not is_id(starting_after, "evt"):
            raise EventNotFound(f"No event {starting_after}.", param="starting_after", code="invalid_cursor")
        last_key = {"merchant_id": {"S": merchant_id}, "event_id": {"S": starting_after}}
    key_condition = None
    if created_gte is not None and created_lt is not None:
        key_condition = Event.event_id.between(id_floor("evt", created_gte), id_ceiling("evt", created_lt))
    elif created_gte is not None:
        key_condition = Event.event_id >= id_floor("evt", created_gte)
    elif created_lt is not None:
        key_condition = Event.event_id <= id_ceiling("evt", created_lt)
    condition = _live(now or clock_now())
    if event_type:
        condition = condition & (Event.event_type == event_type)
    results = Event.query(
        merchant_id,
        range_key_condition=key_condition,
        filter_condition=condition,
        scan_index_forward=False,
        page_size=limit + 1,
        last_evaluated_key=last_key,
    )
    items = [event for _, event in zip(range(limit + 1), results, strict=False)]
    return Page(items=items[:limit], has_more=len(items) > limit, cursor_attribute="event_id")


def event_list_pending_fanout(*, merchant_id: str, since: datetime) -> list[Event]:
    """Events since `since` whose deliveries were not all created (the process stopped between the
    change's commit and the fan-out): for the sweep."""
    return list(
        Event.query(
            merchant_id,
            range_key_condition=Event.event_id >= id_floor("evt", since),
            filter_condition=Event.fanout.exists(),
        )
    )
