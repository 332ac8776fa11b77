"""The customers table (pynamodb). Email, name and phone are encrypted at the field level; an HMAC of
the normalised email is the lookup key."""

from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex

from core import crypto, dynamodb


class EncryptedValue(dynamodb.MapAttribute):
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


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_index_key(*, merchant_id: str, email: str) -> str:
    return f"{merchant_id}#{crypto.keyed_hash(normalise_email(email), purpose='customer-email')}"
