"""Webhook delivery on the task queue (django-tasks, run by `manage.py db_worker`).

The `webhook_deliver` task makes one attempt (`webhooks.services.webhook_delivery_attempt`) and queues
the next one when that attempt failed and the retry window is still open. The task only carries ids,
so it serialises into any backend's queue. `webhook_deliveries_sweep` queues again what a lost task
left overdue."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django_tasks import task

from audit.services import audit_record
from core.actor import Actor
from core.ids import now as clock_now
from merchants.selectors import merchant_list
from webhooks.endpoints import webhook_endpoint_object
from webhooks.models import DeliveryStatus, Event, WebhookDelivery
from webhooks.selectors import (
    event_list_pending_fanout,
    webhook_delivery_get,
    webhook_delivery_list_due,
    webhook_endpoint_get,
)
from webhooks.services import (
    webhook_delivery_attempt,
    webhook_delivery_resend,
    webhook_event_fan_out,
    webhook_ping_new,
)

logger = logging.getLogger(__name__)

SWEEP_GRACE = timedelta(minutes=5)


@task()
def webhook_deliver(merchant_id: str, event_id: str, attempt: int) -> str:
    """POST one event to the merchant's endpoint; a failure schedules the next attempt."""
    delivery = webhook_delivery_run(merchant_id=merchant_id, event_id=event_id, attempt=attempt)
    return "skipped" if delivery is None else delivery.status


def webhook_delivery_run(
    *, merchant_id: str, event_id: str, attempt: int, now: datetime | None = None
) -> WebhookDelivery | None:
    """Make one attempt and queue the next when it failed within the retry window (what the task does)."""
    delivery = webhook_delivery_attempt(merchant_id=merchant_id, event_id=event_id, attempt=attempt, now=now)
    if delivery is not None and delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at is not None:
        webhook_delivery_enqueue(delivery=delivery, run_after=delivery.next_attempt_at)
    return delivery


def webhook_delivery_enqueue(*, delivery: WebhookDelivery | Event, run_after: datetime | None = None) -> bool:
    """Hand the delivery's next attempt to the task queue; given a just committed `Event`, first create
    its deliveries (one per endpoint) and queue each. Never raises: the event and its deliveries are
    stored (`fanout`, `next_attempt_at`), so a failure here delays them and the sweep finishes it."""
    if isinstance(delivery, Event):
        try:
            deliveries = webhook_event_fan_out(event=delivery)
        except Exception:
            logger.exception("event %s: could not create its deliveries", delivery.event_id)
            return False
        return all([webhook_delivery_enqueue(delivery=one) for one in deliveries])
    task = webhook_deliver
    try:
        if run_after is not None:
            if not task.get_backend().supports_defer:
                logger.info(
                    "webhook %s: next attempt due %s; the task backend cannot defer", delivery.event_id, run_after
                )
                return False
            task = task.using(run_after=run_after)
        task.enqueue(delivery.merchant_id, delivery.event_id, int(delivery.attempt_count or 0))
    except Exception:
        logger.exception("webhook %s: could not enqueue its delivery", delivery.event_id)
        return False
    return True


def webhook_deliveries_sweep(*, merchant_id: str | None = None, now: datetime | None = None) -> int:
    """Enqueue again every pending attempt that is overdue by more than a grace period: its task was
    lost (the queue was down when the event committed, a worker died) or the backend cannot defer.
    A duplicate is harmless: each attempt is claimed once. Run it periodically (cron, EventBridge).
    One Query per merchant over the retry window, never a Scan. Returns how many were enqueued."""
    at = now or clock_now()
    window = (
        timedelta(hours=settings.WEBHOOK_RETRY_WINDOW_HOURS)
        + SWEEP_GRACE
        + timedelta(seconds=settings.WEBHOOK_RETRY_MAX_SECONDS)
    )
    merchant_ids = [merchant_id] if merchant_id else [m.merchant_id for m in merchant_list()]
    enqueued = 0
    for mid in merchant_ids:
        for event in event_list_pending_fanout(merchant_id=mid, since=at - window):
            if event.created <= at - SWEEP_GRACE:
                webhook_delivery_enqueue(delivery=event)
        for delivery in webhook_delivery_list_due(merchant_id=mid, before=at - SWEEP_GRACE, window=window):
            enqueued += webhook_delivery_enqueue(delivery=delivery)
    return enqueued


def webhook_endpoint_ping(*, merchant_id: str, endpoint_id: str, actor: Actor) -> WebhookDelivery:
    """ "Send test event": a `ping` to one endpoint, attempted now (a failure is retried like any
    delivery); audited. Returns the delivery with its first attempt."""
    endpoint = webhook_endpoint_get(merchant_id=merchant_id, endpoint_id=endpoint_id)
    at = clock_now()
    delivery = webhook_ping_new(endpoint=endpoint, data_object=webhook_endpoint_object(endpoint), at=at)
    audit_record(
        merchant_id=merchant_id,
        actor=actor,
        action="webhook_endpoint.test",
        entity_type="webhook_endpoint",
        entity_id=endpoint_id,
        after={"delivery_id": delivery.event_id},
        at=at,
    )
    webhook_delivery_run(merchant_id=merchant_id, event_id=delivery.event_id, attempt=0, now=at)
    return webhook_delivery_get(merchant_id=merchant_id, event_id=delivery.event_id)


def webhook_delivery_resend_now(*, merchant_id: str, delivery_id: str, actor: Actor) -> WebhookDelivery:
    """ "Resend": attempt one delivery again now, whatever its status (a delivered one is sent once more,
    a failed one gets a new retry window); audited."""
    delivery = webhook_delivery_get(merchant_id=merchant_id, event_id=delivery_id)
    at = clock_now()
    webhook_delivery_resend(merchant_id=merchant_id, delivery=delivery, at=at)
    audit_record(
        merchant_id=merchant_id,
        actor=actor,
        action="webhook_delivery.resend",
        entity_type="webhook_delivery",
        entity_id=delivery.entity_id,
        before={"status": delivery.status, "attempts": int(delivery.attempt_count or 0)},
        detail=f"Delivery {delivery.event_id} sent again.",
        at=at,
    )
    webhook_delivery_run(
        merchant_id=merchant_id, event_id=delivery.event_id, attempt=int(delivery.attempt_count or 0), now=at
    )
    return webhook_delivery_get(merchant_id=merchant_id, event_id=delivery.event_id)
