"""The disputes table (pynamodb): one item per dispute (`dp_` + ULID), with its evidence.

Access patterns: a merchant's disputes newest first (`by-merchant`), by status (`by-merchant-status`,
the key `<merchant_id>#<status>`), a payment's dispute (`by-payment`), and the sweep's work: the open
disputes whose next step is due (`by-due`, sparse: `open_status` and `due_at` exist only while the
dispute is open; `due_at` is `evidence_due_by` while it needs a response, the processor's decision
time once evidence is submitted)."""

from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex

from core import dynamodb


class EvidenceFile(dynamodb.MapAttribute):
    """One evidence file: kept in the evidence storage under a server-generated name."""

    file_id = UnicodeAttribute()  # `file_` + ULID
    filename = UnicodeAttribute()  # as uploaded, shown only
    content_type = UnicodeAttribute()
    size = NumberAttribute()
    storage_name = UnicodeAttribute()
    uploaded = UTCDateTimeAttribute()


class Evidence(dynamodb.MapAttribute):
    text = UnicodeAttribute(null=True)
    files = ListAttribute(of=EvidenceFile, default=list)
    submitted_at = UTCDateTimeAttribute(null=True)


class DisputesByMerchant(GlobalSecondaryIndex["Dispute"]):
    Meta = dynamodb.index_meta("by-merchant")
    merchant_id = UnicodeAttribute(hash_key=True)
    dispute_id = UnicodeAttribute(range_key=True)


class DisputesByMerchantStatus(GlobalSecondaryIndex["Dispute"]):
    Meta = dynamodb.index_meta("by-merchant-status")
    merchant_status = UnicodeAttribute(hash_key=True)
    dispute_id = UnicodeAttribute(range_key=True)


class DisputesByPayment(GlobalSecondaryIndex["Dispute"]):
    Meta = dynamodb.index_meta("by-payment")
    payment_id = UnicodeAttribute(hash_key=True)
    dispute_id = UnicodeAttribute(range_key=True)


class DisputesDue(GlobalSecondaryIndex["Dispute"]):
    Meta = dynamodb.index_meta("by-due")
    open_status = UnicodeAttribute(hash_key=True)
    due_at = UTCDateTimeAttribute(range_key=True)


class Dispute(dynamodb.TableModel):
    Meta = dynamodb.meta("disputes")

    dispute_id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    merchant_status = UnicodeAttribute()  # "<merchant_id>#<status>", the by-merchant-status key
    payment_id = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    fee = NumberAttribute(default=0)
    reason = UnicodeAttribute()  # a DisputeReason
    status = UnicodeAttribute()  # a DisputeStatus
    evidence_due_by = UTCDateTimeAttribute()
    evidence = Evidence(null=True)  # set when the dispute opens
    open_status = UnicodeAttribute(null=True)  # the status while open: the by-due key (removed once closed)
    due_at = UTCDateTimeAttribute(null=True)
    closed_at = UTCDateTimeAttribute(null=True)
    created = UTCDateTimeAttribute()
    updated = UTCDateTimeAttribute()
    version = VersionAttribute()

    by_merchant = DisputesByMerchant()
    by_merchant_status = DisputesByMerchantStatus()
    by_payment = DisputesByPayment()
    by_due = DisputesDue()
