"""Merchants, their API keys (DynamoDB, pynamodb) and the memberships of Django users (relational:
identity lives with Django's users)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from core import dynamodb
from core.roles import Role, role_allows


class Membership(models.Model):
    """A user's role at one merchant. Merchants themselves live in DynamoDB (`mer_` ids)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    merchant_id = models.CharField(max_length=40, db_index=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "paysite_membership"  # made by the `paysite` app before memberships moved here
        constraints = [models.UniqueConstraint(fields=["user", "merchant_id"], name="one_membership_per_merchant")]
        ordering = ["merchant_id", "user_id"]

    def __str__(self) -> str:
        return f"{self.user} is {self.role} at {self.merchant_id}"

    def allows(self, role: str) -> bool:
        return role_allows(self.role, role)


class Invite(models.Model):
    """An invitation to join a merchant's team with a role. Only the SHA-256 of its token is stored; the
    link in the email is the token. Single use (`accepted_at`), revocable, valid for `INVITE_TTL`."""

    invite_id = models.CharField(max_length=40, unique=True)  # inv_<ULID>, named in audit events
    merchant_id = models.CharField(max_length=40, db_index=True)
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.CharField(max_length=150)
    created = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        indexes = [models.Index(fields=["email"], name="merchants_invite_email")]

    def __str__(self) -> str:
        return f"{self.invite_id} ({self.role} at {self.merchant_id})"

    def status(self, now: datetime) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "pending"


MERCHANT_ACTIVE = "active"
MERCHANT_SUSPENDED = "suspended"


class MerchantsIndex(GlobalSecondaryIndex["Merchant"]):
    """All merchants, for the ops merchant switcher (a Query on one key, never a Scan)."""

    Meta = dynamodb.index_meta("all-merchants")
    kind = UnicodeAttribute(hash_key=True)
    merchant_id = UnicodeAttribute(range_key=True)


class Merchant(dynamodb.TableModel):
    Meta = dynamodb.meta("merchants")

    merchant_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(default="merchant")
    name = UnicodeAttribute()
    status = UnicodeAttribute(default="active")
    default_currency = UnicodeAttribute(default="usd")
    rate_limit_per_minute = NumberAttribute(null=True)
    statement_descriptor = UnicodeAttribute(null=True)
    # Suspension (`status` "suspended"): API writes get 403 `merchant_suspended`, dashboard writes are refused.
    suspended_reason = UnicodeAttribute(null=True)
    suspended_at = UTCDateTimeAttribute(null=True)
    # IANA time zone of the merchant's days (None: UTC); daily counters use it from `time_zone_since` on.
    time_zone = UnicodeAttribute(null=True)
    time_zone_since = UTCDateTimeAttribute(null=True)
    webhook_url = UnicodeAttribute(null=True)
    webhook_secret = UnicodeAttribute(null=True)
    # Four-eyes approval of large refunds: {currency: minor units}; a refund at or above it waits for
    # a second person. Dashboard refunds always; API refunds only with `api_refunds_need_approval`.
    refund_approval_thresholds = JSONAttribute(null=True)
    api_refunds_need_approval = BooleanAttribute(null=True)
    created = UTCDateTimeAttribute()
    updated = UTCDateTimeAttribute()
    version = VersionAttribute()

    all_merchants = MerchantsIndex()

    @property
    def is_suspended(self) -> bool:
        return self.status == MERCHANT_SUSPENDED


class ApiKeysByMerchant(GlobalSecondaryIndex["ApiKey"]):
    Meta = dynamodb.index_meta("by-merchant")
    merchant_id = UnicodeAttribute(hash_key=True)
    key_id = UnicodeAttribute(range_key=True)


class ApiKeysById(GlobalSecondaryIndex["ApiKey"]):
    Meta = dynamodb.index_meta("by-key-id", KeysOnlyProjection())
    key_id = UnicodeAttribute(hash_key=True)


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
