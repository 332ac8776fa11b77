"""The webhook tables (pynamodb): the merchant's events (kept 30 days, listed by the Events API),
its webhook endpoints, and one delivery item per event and endpoint, with every attempt."""

from __future__ import annotations

from enum import StrEnum

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
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
    PING = "ping"  # "Send test event": delivered to one endpoint only, never stored as an event
    DISPUTE_CREATED = "dispute.created"
    DISPUTE_CLOSED = "dispute.closed"
    REFUND_REQUEST_APPROVED = "refund_request.approved"
    REFUND_REQUEST_REJECTED = "refund_request.rejected"


class DeliveryStatus(StrEnum):
    """Where a delivery stands: attempts remain (`pending`), or it ended one way or the other
    (`refused`: the endpoint is not a public address, so nothing was sent; not retried)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    REFUSED = "refused"


class WebhookAttempt(dynamodb.MapAttribute):
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
    # The endpoint (`we_...`) this delivery goes to; absent on deliveries of the wave-1 webhook URL,
    # which go to the merchant's URL, or once it became an endpoint, to that (`legacy`) endpoint.
    endpoint_id = UnicodeAttribute(null=True)
    resent_at = UTCDateTimeAttribute(null=True)  # "Resend": the retry window starts again here

    by_entity = DeliveriesByEntity()

    @property
    def delivery_id(self) -> str:
        """The item's range key: the event id, then `:we_...` when the event went to several endpoints."""
        return self.event_id

    @property
    def evt_id(self) -> str:
        """The event this delivery carries (`evt_...`)."""
        return self.event_id.split(":", 1)[0]


class Event(dynamodb.TableModel):
    """One event of a merchant, written in the transaction of the change it reports, whether or not
    the merchant has webhook endpoints; `payload` is the event object exactly as webhooks send it.
    `fanout` names the endpoints it still has to be handed to (removed once their deliveries exist)."""

    Meta = dynamodb.meta("events")

    merchant_id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)
    event_type = UnicodeAttribute()  # a WebhookEventType
    entity_id = UnicodeAttribute()
    payload = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
    fanout = ListAttribute(of=UnicodeAttribute, null=True)


class WebhookEndpoint(dynamodb.TableModel):
    """A URL that receives the merchant's events of the types in `events` (or every type: `["*"]`).
    Secrets are sealed (`core.crypto`); after a rotation the previous one keeps signing until
    `previous_secret_expires_at`. `failing_since` is the first failed attempt of the current run of
    failures; an endpoint failing for `WEBHOOK_AUTO_DISABLE_DAYS` is disabled."""

    Meta = dynamodb.meta("webhook_endpoints")

    merchant_id = UnicodeAttribute(hash_key=True)
    endpoint_id = UnicodeAttribute(range_key=True)
    url = UnicodeAttribute()
    events = ListAttribute(of=UnicodeAttribute, default=list)
    description = UnicodeAttribute(default="")
    secret = UnicodeAttribute()
    previous_secret = UnicodeAttribute(null=True)
    previous_secret_expires_at = UTCDateTimeAttribute(null=True)
    disabled = BooleanAttribute(default=False)
    disabled_reason = UnicodeAttribute(null=True)
    failing_since = UTCDateTimeAttribute(null=True)
    legacy = BooleanAttribute(default=False)  # made from the wave-1 webhook URL
    created = UTCDateTimeAttribute()
    updated = UTCDateTimeAttribute()

    def subscribes(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events
