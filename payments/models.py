"""DynamoDB tables of the payments app (pynamodb). Keys follow the access patterns of DESIGN.md."""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from paysite import dynamodb

# --- merchants -------------------------------------------------------------------------------


class MerchantsIndex(GlobalSecondaryIndex["Merchant"]):
    """All merchants, for the ops merchant switcher (a Query on one key, never a Scan)."""

    Meta = dynamodb.index_meta("all-merchants")
    kind = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute(range_key=True)


@dynamodb.register
class Merchant(dynamodb.TableModel):
    Meta = dynamodb.meta("merchants")

    merchant_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(default="merchant")
    name = UnicodeAttribute()
    status = UnicodeAttribute(default="active")
    default_currency = UnicodeAttribute(default="usd")
    rate_limit_per_minute = NumberAttribute(null=True)
    webhook_url = UnicodeAttribute(null=True)
    webhook_secret = UnicodeAttribute(null=True)
    created = UTCDateTimeAttribute()
    updated = UTCDateTimeAttribute()
    version = VersionAttribute()

    all_merchants = MerchantsIndex()


# --- API keys --------------------------------------------------------------------------------


class ApiKeysByMerchant(GlobalSecondaryIndex["ApiKey"]):
    Meta = dynamodb.index_meta("by-merchant")
    merchant_id = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)


class ApiKeysById(GlobalSecondaryIndex["ApiKey"]):
    Meta = dynamodb.index_meta("by-key-id", KeysOnlyProjection())
    key_id = UnicodeAttribute(hash_key=True)


@dynamodb.register
class ApiKey(dynamodb.TableModel):
    """Only the SHA-256 of a secret key is stored; the secret is shown once at creation."""

    Meta = dynamodb.meta("api_keys")

    key_hash = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute()
    merchant_id = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    prefix = UnicodeAttribute()  # what users see: "sk_test_AbCd…"
    created = UTCDateTimeAttribute()
    created_by = UnicodeAttribute(null=True)
    revoked = UTCDateTimeAttribute(null=True)
    last_used = UTCDateTimeAttribute(null=True)

    by_merchant = ApiKeysByMerchant()
    by_key_id = ApiKeysById()


# --- payments and their ledger ---------------------------------------------------------------


class CardAttribute(MapAttribute):
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


@dynamodb.register
class Payment(dynamodb.TableModel):
    Meta = dynamodb.meta("payments")

    payment_id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    merchant_status = UnicodeAttribute()  # "<merchant_id>#<status>", the by-merchant-status key
    status = UnicodeAttribute()
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
    # Set only on payments a processor timeout left `processing`: what recovery needs (kept afterwards).
    processor_reference = UnicodeAttribute(null=True)
    capture_requested = BooleanAttribute(null=True)
    idempotency_record = UnicodeAttribute(null=True)  # the key whose client waits for the outcome
    created = UTCDateTimeAttribute()
    updated = UTCDateTimeAttribute()
    version = VersionAttribute()

    by_merchant = PaymentsByMerchant()
    by_merchant_status = PaymentsByMerchantStatus()
    by_customer = PaymentsByCustomer()


@dynamodb.register
class Transaction(dynamodb.TableModel):
    """One ledger entry of a payment: authorization, capture, refund, cancel, settlement."""

    Meta = dynamodb.meta("transactions")

    payment_id = UnicodeAttribute(hash_key=True)
    txn_id = UnicodeAttribute(range_key=True)
    merchant_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    amount = NumberAttribute()
    currency = UnicodeAttribute()
    status = UnicodeAttribute(default="succeeded")
    reason = UnicodeAttribute(null=True)
    refund_id = UnicodeAttribute(null=True)
    settlement_id = UnicodeAttribute(null=True)
    created = UTCDateTimeAttribute()


# --- customers -------------------------------------------------------------------------------


class EncryptedValue(MapAttribute):
    """A field encrypted with AES-GCM; the key id travels with it so keys can rotate."""

    key_id = UnicodeAttribute()
    nonce = UnicodeAttribute()
    ciphertext = UnicodeAttribute()


class CustomersByMerchant(GlobalSecondaryIndex["Customer"]):
    Meta = dynamodb.index_meta("by-merchant")
    merchant_id = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute(range_key=True)


class CustomersByEmail(GlobalSecondaryIndex["Customer"]):
    """Exact email lookup through a keyed hash: `<merchant_id>#<HMAC of the normalised email>`."""

    Meta = dynamodb.index_meta("by-email")
    merchant_email = UnicodeAttribute(hash_key=True)
    customer_id = UnicodeAttribute(range_key=True)


@dynamodb.register
class Customer(dynamodb.TableModel):
    Meta = dynamodb.meta("customers")

    customer_id = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    merchant_email = UnicodeAttribute(null=True)
    email = EncryptedValue(null=True)
    name = EncryptedValue(null=True)
    phone = EncryptedValue(null=True)
    metadata = JSONAttribute(default=dict)
    created = UTCDateTimeAttribute()
    updated = UTCDateTimeAttribute()
    version = VersionAttribute()

    by_merchant = CustomersByMerchant()
    by_email = CustomersByEmail()


# --- idempotency -----------------------------------------------------------------------------


@dynamodb.register
class IdempotencyRecord(dynamodb.TableModel):
    """`<merchant_id>#<endpoint>#<Idempotency-Key>`, written with conditions (a GSI cannot enforce
    uniqueness). DynamoDB deletes expired records late, and DynamoDB Local never: readers treat a
    record past `expires_at` as absent."""

    Meta = dynamodb.meta("idempotency")

    idempotency_key = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute()
    endpoint = UnicodeAttribute(null=True)  # "POST /payments/pay_.../refunds"
    fingerprint = UnicodeAttribute()
    status = UnicodeAttribute()  # in_progress | processing (payment_id awaits the processor) | completed
    payment_id = UnicodeAttribute(null=True)  # the payment a `processing` record waits for
    lock_token = UnicodeAttribute(null=True)  # which request holds the in-progress lock
    lock_expires_at = NumberAttribute(null=True)  # unix seconds
    response_status = NumberAttribute(null=True)
    response_body = UnicodeAttribute(null=True)
    created = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


# --- pre-aggregated daily summaries ----------------------------------------------------------


# `processing`: the processor did not answer in time; recovery asks it and moves the payment on.
PAYMENT_STATUSES = (
    "processing",
    "requires_capture",
    "succeeded",
    "failed",
    "canceled",
    "refunded",
    "partially_refunded",
)


@dynamodb.register
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

    def value(self, name: str) -> int:
        return int(getattr(self, name, None) or 0)


# --- webhooks --------------------------------------------------------------------------------


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


@dynamodb.register
class WebhookDelivery(dynamodb.TableModel):
    """One event for one merchant endpoint, with every attempt's outcome. Written in the same
    transaction as the change it reports; `attempt_count` lets exactly one worker claim each attempt."""

    Meta = dynamodb.meta("webhook_deliveries")

    merchant_id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)
    event_type = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    url = UnicodeAttribute()
    payload = UnicodeAttribute()  # the exact bytes POSTed (UTF-8 JSON)
    status = UnicodeAttribute(default="pending")  # pending | delivered | failed
    attempts = ListAttribute(of=WebhookAttempt, default=list)
    attempt_count = NumberAttribute(default=0)
    next_attempt_at = UTCDateTimeAttribute(null=True)
    delivered_at = UTCDateTimeAttribute(null=True)
    created = UTCDateTimeAttribute()
    expires_at = TTLAttribute(null=True)

    by_entity = DeliveriesByEntity()
