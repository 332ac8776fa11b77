"""Reads of webhook deliveries: one, a merchant's newest, one entity's, the overdue ones."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist

# --- merchants -------------------------------------------------------------------------------
# --- API keys --------------------------------------------------------------------------------
# --- payments --------------------------------------------------------------------------------
# --- summaries -------------------------------------------------------------------------------
# --- customers -------------------------------------------------------------------------------
# --- webhook deliveries ----------------------------------------------------------------------
from core.errors import NotFound  # noqa: E402
from core.ids import id_floor, is_id
from core.pagination import Page
from webhooks.models import WebhookDelivery  # noqa: E402  (imported where its section starts)


def webhook_delivery_get(*, merchant_id: str, event_id: str) -> WebhookDelivery:
    if is_id(event_id, "evt"):
        try:
            return WebhookDelivery.get(merchant_id, event_id, consistent_read=True)
        except DoesNotExist:
            pass
    raise NotFound(f"No webhook event {event_id}.", param="id")


def webhook_delivery_list_for_merchant(
    *, merchant_id: str, limit: int = 20, starting_after: str | None = None, status: str | None = None
) -> Page[WebhookDelivery]:
    """The merchant's webhook events, newest first (a Query on the table's own key)."""
    last_key = None
    if starting_after:
        if not is_id(starting_after, "evt"):
            raise NotFound(f"No webhook event {starting_after}.", param="starting_after")
        last_key = {"merchant_id": {"S": merchant_id}, "event_id": {"S": starting_after}}
    results = WebhookDelivery.query(
        merchant_id,
        filter_condition=(WebhookDelivery.status == status) if status else None,
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
