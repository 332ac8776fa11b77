"""Settlement files, their lines and the discrepancies found in them."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex

from paysite import dynamodb


class SettlementsByMerchant(GlobalSecondaryIndex["Settlement"]):
    Meta = dynamodb.index_meta("by-merchant")

    merchant_id = UnicodeAttribute(hash_key=True)
    settlement_id = UnicodeAttribute(range_key=True)


@dynamodb.register
class Settlement(dynamodb.TableModel):
    Meta = dynamodb.meta("settlements")

    settlement_id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    status = UnicodeAttribute(default="queued")  # queued | processing | completed | failed
    filename = UnicodeAttribute()
    storage_name = UnicodeAttribute()
    sha256 = UnicodeAttribute()
    rows_total = NumberAttribute(default=0)
    rows_processed = NumberAttribute(default=0)
    period_start = UnicodeAttribute(null=True)
    period_end = UnicodeAttribute(null=True)
    totals = JSONAttribute(default=dict)
    counts = JSONAttribute(default=dict)
    error = UnicodeAttribute(null=True)
    created = UTCDateTimeAttribute()
    completed = UTCDateTimeAttribute(null=True)
    version = VersionAttribute()

    by_merchant = SettlementsByMerchant()


@dynamodb.register
class SettlementLine(dynamodb.TableModel):
    Meta = dynamodb.meta("settlement_lines")

    settlement_id = UnicodeAttribute(hash_key=True)
    line = NumberAttribute(range_key=True)
    merchant_id = UnicodeAttribute()
    payment_id = UnicodeAttribute(null=True)
    outcome = UnicodeAttribute()  # matched or a discrepancy kind
    amount = NumberAttribute(null=True)
    fee = NumberAttribute(null=True)
    net = NumberAttribute(null=True)
    currency = UnicodeAttribute(null=True)


@dynamodb.register
class Discrepancy(dynamodb.TableModel):
    Meta = dynamodb.meta("discrepancies")

    settlement_id = UnicodeAttribute(hash_key=True)
    discrepancy_id = UnicodeAttribute(range_key=True)
    merchant_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    line = NumberAttribute(null=True)
    payment_id = UnicodeAttribute(null=True)
    expected = JSONAttribute(null=True)
    actual = JSONAttribute(null=True)
    detail = UnicodeAttribute()
    resolved = BooleanAttribute(default=False)
    resolved_by = UnicodeAttribute(null=True)
    resolved_reason = UnicodeAttribute(null=True)
    resolved_at = UTCDateTimeAttribute(null=True)
