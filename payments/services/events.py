"""The webhook event a payment change causes (the event itself is the webhooks app's)."""

from __future__ import annotations

from payments.enums import PaymentStatus
from payments.models import Payment
from payments.representations import payment_object
from webhooks import services as webhooks
from webhooks.models import WebhookDelivery, WebhookEventType

_STATUS_EVENTS: dict[str, WebhookEventType] = {
    PaymentStatus.SUCCEEDED: WebhookEventType.PAYMENT_SUCCEEDED,
    PaymentStatus.FAILED: WebhookEventType.PAYMENT_FAILED,
    PaymentStatus.CANCELED: WebhookEventType.PAYMENT_CANCELED,
}


def webhook_event_for_payment_change(*, before: Payment | None, after: Payment) -> WebhookDelivery | None:
    """The event a payment change causes, if any: a new payment that succeeded or failed, a capture,
    a cancel, or a refund (full or partial: `payment.refunded` each time money goes back)."""
    event_type = None
    if before is not None and int(after.amount_refunded or 0) > int(before.amount_refunded or 0):
        event_type = WebhookEventType.PAYMENT_REFUNDED
    elif before is None or before.status != after.status:
        event_type = _STATUS_EVENTS.get(after.status)
    if event_type is None:
        return None
    return webhooks.webhook_event_new(
        merchant_id=after.merchant_id,
        event_type=event_type,
        entity_id=after.payment_id,
        data_object=payment_object(after),
        at=after.updated,
    )
