"""The idempotency table (pynamodb)."""

from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)

from core import dynamodb


class IdempotencyRecord(dynamodb.TableModel):
    """`<merchant_id>#<endpoint>#<Idempotency-Key>`, written with conditions (a GSI cannot enforce
    uniqueness). DynamoDB deletes expired records late, and DynamoDB Local never: readers treat a
    record past `expires_at` as absent, so a new claim of an expired key starts afresh, with a new
    `reference`."""

    Meta = dynamodb.meta("idempotency")

    idempotency_key = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    endpoint = UnicodeAttribute(null=True)  # "POST /payments/pay_.../refunds"
    fingerprint = UnicodeAttribute()
    status = UnicodeAttribute()  # in_progress | processing (payment_id awaits the processor) | completed
    payment_id = UnicodeAttribute(null=True)  # the payment a `processing` record waits for
    lock_token = UnicodeAttribute(null=True)  # which request holds the in-progress lock
    lock_expires_at = NumberAttribute(null=True)  # unix seconds (0: released, the next request takes over)
    # A random id written with the claim, in the same conditional Put, and carried over when another
    # request with the same key takes the record over: payments send it as the processor reference.
    # Records claimed before it existed have none (payments derive theirs from the record's key).
    reference = UnicodeAttribute(null=True)
    response_status = NumberAttribute(null=True)
    response_body = UnicodeAttribute(null=True)
    created = UTCDateTimeAttribute()
    expires_at = TTLAttribute()
