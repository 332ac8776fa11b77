"""The webhook delivery task (django-tasks). The work is in `payments.services.webhooks`; the task
only carries ids, so it serialises into any backend's queue."""

from __future__ import annotations

from django_tasks import task

from payments.services.webhooks import webhook_delivery_attempt


@task()
def webhook_deliver(merchant_id: str, event_id: str, attempt: int) -> str:
    """POST one event to the merchant's endpoint; a failure schedules the next attempt itself."""
    delivery = webhook_delivery_attempt(merchant_id=merchant_id, event_id=event_id, attempt=attempt)
    return "skipped" if delivery is None else delivery.status
