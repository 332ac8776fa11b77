"""The API request log: one item per API request of a merchant, kept 30 days (TTL)."""

from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import BooleanAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection

from core import dynamodb
from core.ids import id_time

# The indexes carry what the list shows and filters on, not the bodies (a request's detail is a
# GetItem): an index write stays one unit whatever the bodies weigh.
LISTED = ["request_id", "method", "path", "query_string", "status", "latency_ms", "key_id", "expires_at"]


class ApiRequestsByRequestId(GlobalSecondaryIndex["ApiRequest"]):
    """Find a request by its `X-Request-Id`: the key holds the merchant, so another merchant's request
    with the same id is never found."""

    Meta = dynamodb.index_meta("by-request-id", IncludeProjection(LISTED))
    merchant_request_id = UnicodeAttribute(hash_key=True)  # "mer_...#<X-Request-Id>"
    log_id = UnicodeAttribute(range_key=True)


class ApiRequestsByPayment(GlobalSecondaryIndex["ApiRequest"]):
    """The requests that touched a payment (sparse: only items with a `payment_id`), newest first."""

    Meta = dynamodb.index_meta("by-payment", IncludeProjection(LISTED))
    payment_id = UnicodeAttribute(hash_key=True)
    log_id = UnicodeAttribute(range_key=True)


class ApiRequest(dynamodb.TableModel):
    """One API request: `log_id` is `log_` + a ULID of the time it arrived, so the partition reads
    newest first and a date range is a key condition. Bodies are stored redacted and cut to 16 KB."""

    Meta = dynamodb.meta("api_requests")

    merchant_id = UnicodeAttribute(hash_key=True)
    log_id = UnicodeAttribute(range_key=True)
    request_id = UnicodeAttribute()
    merchant_request_id = UnicodeAttribute()
    method = UnicodeAttribute()
    path = UnicodeAttribute()
    query_string = UnicodeAttribute(null=True)
    status = NumberAttribute()
    latency_ms = NumberAttribute()
    key_id = UnicodeAttribute(null=True)
    idempotency_key = UnicodeAttribute(null=True)
    idempotent_replayed = BooleanAttribute(default=False)
    payment_id = UnicodeAttribute(null=True)
    request_body = UnicodeAttribute(null=True)
    request_body_truncated = BooleanAttribute(default=False)
    response_body = UnicodeAttribute(null=True)
    response_body_truncated = BooleanAttribute(default=False)
    expires_at = TTLAttribute()

    by_request_id = ApiRequestsByRequestId()
    by_payment = ApiRequestsByPayment()

    @property
    def created(self) -> datetime:
        """When the request arrived (the time in `log_id`)."""
        return id_time(self.log_id)
