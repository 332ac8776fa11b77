"""The webhook deliveries table (pynamodb): one item per event and endpoint, with every attempt."""

from __future__ import annotations

from enum import StrEnum

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex

from core import dynamodb


class WebhookEventType(StrEnum):
    """The `type` of an event, as merchants receive it."""

    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_REFUNDED = "payment.refunded"
    PAYMENT_CANCELED = "payment.canceled"
    SETTLEMENT_COMPLETED = "settlement.completed"


class DeliveryStatus(StrEnum):
    """Where a delivery stands: attempts remain (`pending`), or it ended one way or the other
    (`refused`: the endpoint is not a public address, so nothing was sent; not retried)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    REFUSED = "refused"


class WebhookAttempt(MapAttribute):
    """One POST of an event: when, and the endpoint's status code or the transport error."""

    at = UTCDateTimeAttribute()
    status_code = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    duration_ms = NumberAttribute(null=True)


class DeliveriesByEntity(GlobalSecondaryIndex["WebhookDelivery"]):
    Meta = dynamodb.index_meta("by-entity")
    entity_id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)


class WebhookDelivery(dynamodb.TableModel):
    """One event for one merchant endpoint, with every attempt's outcome. Written in the same
    transaction as the change it reports; `attempt_count` lets exactly one worker claim each attempt."""

    Meta = dynamodb.meta("webhook_deliveries")

    merchant_id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)
    event_type = UnicodeAttribute()  # a WebhookEventType
    entity_id = UnicodeAttribute()
    url = UnicodeAttribute()
    payload = UnicodeAttribute()  # the exact bytes POSTed (UTF-8 JSON)
    status = UnicodeAttribute(default=DeliveryStatus.PENDING.value)  # a DeliveryStatus
    attempts = ListAttribute(of=WebhookAttempt, default=list)
    attempt_count = NumberAttribute(default=0)
    next_attempt_at = UTCDateTimeAttribute(null=True)
    delivered_at = UTCDateTimeAttribute(null=True)
    created = UTCDateTimeAttribute()
    expires_at = TTLAttribute(null=True)

    by_entity = DeliveriesByEntity()
