"""DynamoDB tables of the payments app (pynamodb). Keys follow the access patterns of DESIGN.md."""

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

from core import dynamodb
from payments.enums import PaymentStatus, TransactionStatus, values

# --- merchants -------------------------------------------------------------------------------


# --- API keys --------------------------------------------------------------------------------


# --- payments and their ledger ---------------------------------------------------------------


class CardAttribute(dynamodb.MapAttribute):
    """What a payment keeps of a card: never the number or the CVC."""

    brand = UnicodeAttribute()
    last4 = UnicodeAttribute()
    exp_month = NumberAttribute()
    exp_year = NumberAttribute()
    fingerprint = UnicodeAttribute()


class PaymentsByMerchant(GlobalSecondaryIndex["Payment"]):
    Meta = dynamodb.index_meta("by-merchant")
    merchant_id = UnicodeAttribute(hash_key=True)
    payment_id = UnicodeAttribute(range_key=True)


class PaymentsByMerchantStatus(GlobalSecondaryIndex["Payment"]):
    Meta = dynamodb.index_meta("by-merchant-status")
    merchant_status = UnicodeAttribute(hash_key=True)
    payment_id = UnicodeAttribute(range_key=True)


class PaymentsByCustomer(GlobalSecondaryIndex["Payment"]):
    Meta = dynamodb.index_meta("by-customer")
    customer_id = UnicodeAttribute(hash_key=True)
    payment_id = UnicodeAttribute(range_key=True)


class Payment(dynamodb.TableModel):
    Meta = dynamodb.meta("payments")

    payment_id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    merchant_status = UnicodeAttribute()  # "<merchant_id>#<status>", the by-merchant-status key
    status = UnicodeAttribute()  # a PaymentStatus
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    amount_captured = NumberAttribute(default=0)
    amount_refunded = NumberAttribute(default=0)
    customer_id = UnicodeAttribute(null=True)
    description = UnicodeAttribute(null=True)
    metadata = JSONAttribute(default=dict)
    card = CardAttribute()
    failure_code = UnicodeAttribute(null=True)
    settlement_id = UnicodeAttribute(null=True)
    # The settlement file's line that settled it: the file's claim on the payment (a later line naming
    # it is a duplicate), set with `settlement_id` in the settling transaction.
    settlement_line = NumberAttribute(null=True)
    # Set only on payments a processor timeout left `processing`: what recovery needs (kept afterwards).
    processor_reference = UnicodeAttribute(null=True)
    capture_requested = BooleanAttribute(null=True)
    idempotency_record = UnicodeAttribute(null=True)  # the key whose client waits for the outcome
    # Set once a dispute is opened on the payment (never unset, like Stripe's `disputed`); the dispute
    # and its status as last changed, in the dispute's own transactions (a refund reads them).
    disputed = BooleanAttribute(null=True)
    dispute_id = UnicodeAttribute(null=True)
    dispute_status = UnicodeAttribute(null=True)
    # The sum of the refund requests awaiting approval: it counts against the refundable amount.
    amount_pending_refund = NumberAttribute(null=True)
    # Set only on payments imported from another processor (`payments.imports`): its id there, and the
    # SHA-256 of the file that brought it. The money moved there: Paysite never captures or refunds them.
    external_id = UnicodeAttribute(null=True)
    import_sha256 = UnicodeAttribute(null=True)
    # The payment's share of the merchant's pending balance (`payments.balance`): ADDed with the
    # counters in each change while unsettled, moved to available (and zeroed) when settled.
    balance_pending = NumberAttribute(null=True)
    created = UTCDateTimeAttribute()
    updated = UTCDateTimeAttribute()
    version = VersionAttribute()

    by_merchant = PaymentsByMerchant()
    by_merchant_status = PaymentsByMerchantStatus()
    by_customer = PaymentsByCustomer()

    @property
    def imported(self) -> bool:
        return self.import_sha256 is not None


class Transaction(dynamodb.TableModel):
    """One ledger entry of a payment: authorization, capture, refund, cancel, settlement."""

    Meta = dynamodb.meta("transactions")

    payment_id = UnicodeAttribute(hash_key=True)
    txn_id = UnicodeAttribute(range_key=True)
    merchant_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # a TransactionKind
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    status = UnicodeAttribute(default=TransactionStatus.SUCCEEDED.value)
    reason = UnicodeAttribute(null=True)
    refund_id = UnicodeAttribute(null=True)
    settlement_id = UnicodeAttribute(null=True)
    fee = NumberAttribute(null=True)  # a settlement entry: the processor's fee on the line
    created = UTCDateTimeAttribute()


# --- customers -------------------------------------------------------------------------------


# --- idempotency -----------------------------------------------------------------------------


# --- pre-aggregated daily summaries ----------------------------------------------------------


# Every payment status, in order (kept for callers that iterate plain values; prefer `PaymentStatus`).
PAYMENT_STATUSES = values(PaymentStatus)


class DailySummary(dynamodb.TableModel):
    """Counters per merchant, day, currency and shard, kept with atomic ADD in each payment's
    transaction (ADD works on top-level attributes only, hence one attribute per status).

    `count_<status>`/`amount_<status>`: payments created that day, by their current status.
    `captured`, `refunded`, `refund_count`: money moved that day."""

    Meta = dynamodb.meta("daily_summaries")

    merchant_id = UnicodeAttribute(hash_key=True)
    day_currency_shard = UnicodeAttribute(range_key=True)  # "2026-11-26#usd#3"
    for _status in PAYMENT_STATUSES:
        locals()[f"count_{_status}"] = NumberAttribute(null=True)
        locals()[f"amount_{_status}"] = NumberAttribute(null=True)
    del _status
    captured = NumberAttribute(null=True)
    refunded = NumberAttribute(null=True)
    refund_count = NumberAttribute(null=True)
    # Disputes (the disputes app): amounts disputed and fees charged on the day a dispute opened,
    # amounts credited back on the day one was won.
    disputed = NumberAttribute(null=True)
    dispute_count = NumberAttribute(null=True)
    dispute_fees = NumberAttribute(null=True)
    dispute_won = NumberAttribute(null=True)

    def value(self, name: str) -> int:
        return int(getattr(self, name, None) or 0)


# --- refund requests (four-eyes approval of large refunds) -----------------------------------


class RefundRequestsByMerchant(GlobalSecondaryIndex["RefundRequest"]):
    Meta = dynamodb.index_meta("by-merchant")
    merchant_id = UnicodeAttribute(hash_key=True)
    request_id = UnicodeAttribute(range_key=True)


class RefundRequestsByMerchantStatus(GlobalSecondaryIndex["RefundRequest"]):
    Meta = dynamodb.index_meta("by-merchant-status")
    merchant_status = UnicodeAttribute(hash_key=True)
    request_id = UnicodeAttribute(range_key=True)


class RefundRequestsByPayment(GlobalSecondaryIndex["RefundRequest"]):
    Meta = dynamodb.index_meta("by-payment")
    payment_id = UnicodeAttribute(hash_key=True)
    request_id = UnicodeAttribute(range_key=True)


class RefundRequest(dynamodb.TableModel):
    """A refund at or above the merchant's threshold, waiting for a second person (`rr_` + ULID).
    Its amount is held on the payment (`amount_pending_refund`) while it is `pending_approval`."""

    Meta = dynamodb.meta("refund_requests")

    request_id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    merchant_status = UnicodeAttribute()  # "<merchant_id>#<status>", the by-merchant-status key
    payment_id = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    status = UnicodeAttribute()  # a RefundRequestStatus (as stored: `expired` is also read from `expires_at`)
    requested_by = UnicodeAttribute()  # the requester's actor id (a user name or an API key id)
    requested_by_type = UnicodeAttribute()
    decided_by = UnicodeAttribute(null=True)
    decision_reason = UnicodeAttribute(null=True)
    refund_id = UnicodeAttribute(null=True)
    expires_at = UTCDateTimeAttribute()
    created = UTCDateTimeAttribute()
    updated = UTCDateTimeAttribute()

    by_merchant = RefundRequestsByMerchant()
    by_merchant_status = RefundRequestsByMerchantStatus()
    by_payment = RefundRequestsByPayment()


# --- imports of historical payments from another processor ----------------------------------


class PaymentImport(dynamodb.TableModel):
    """One file of historical payments imported from another processor, keyed by its SHA-256: the
    same file twice is one import, and a run that stopped resumes after `chunks_done`."""

    Meta = dynamodb.meta("payment_imports")

    merchant_id = UnicodeAttribute(hash_key=True)
    sha256 = UnicodeAttribute(range_key=True)
    filename = UnicodeAttribute()
    status = UnicodeAttribute()  # an ImportStatus
    rows_total = NumberAttribute()
    chunks_total = NumberAttribute()
    chunks_done = NumberAttribute(default=0)
    imported = NumberAttribute(default=0)  # payments written
    skipped = NumberAttribute(default=0)  # rows whose payment an earlier import brought already
    actor = UnicodeAttribute()
    created = UTCDateTimeAttribute()
    completed = UTCDateTimeAttribute(null=True)


# --- webhooks --------------------------------------------------------------------------------


class Balance(dynamodb.TableModel):
    """The merchant's balance per currency in `BALANCE_SHARDS` counter items, kept with ADD in the
    same transaction as each change (`payments.balance`); the balance is the sum over the shards.

    `pending`: captured money of payments no completed settlement has paid out yet, less their
    refunds and disputes; `available`: what settlements paid out (net of their fees), less the
    refunds and disputes of settled payments."""

    Meta = dynamodb.meta("balances")

    merchant_id = UnicodeAttribute(hash_key=True)
    currency_shard = UnicodeAttribute(range_key=True)  # "usd#3"
    pending = NumberAttribute(null=True)
    available = NumberAttribute(null=True)
