"""The audit trail (append-only) and its hash-chained seals, in DynamoDB; the anchored head of each
partition's seal chain, in the relational database (a second store: see `audit.anchors`)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex

from core import dynamodb


class EventsByEntity(GlobalSecondaryIndex["AuditEvent"]):
    Meta = dynamodb.index_meta("by-entity")

    entity_id = UnicodeAttribute(hash_key=True)
    occurred_event = UnicodeAttribute(range_key=True)


class AuditEvent(dynamodb.TableModel):
    """PCI DSS 10.2.2 fields. Partition `merchant_id`, or `ops` for platform actions."""

    Meta = dynamodb.meta("audit_events")

    merchant_id = UnicodeAttribute(hash_key=True)
    occurred_event = UnicodeAttribute(range_key=True)  # "<RFC 3339 time>#<evt_ id>"
    event_id = UnicodeAttribute()
    occurred_at = UnicodeAttribute()
    actor_type = UnicodeAttribute()  # user | api_key | system
    actor_id = UnicodeAttribute()
    action = UnicodeAttribute()  # "payment.create", "api_key.revoke", "auth.login_failed", ...
    outcome = UnicodeAttribute()  # success | failure
    entity_type = UnicodeAttribute(null=True)
    entity_id = UnicodeAttribute(default="-")
    source_ip = UnicodeAttribute(null=True)
    user_agent = UnicodeAttribute(null=True)
    request_id = UnicodeAttribute(null=True)
    before = JSONAttribute(null=True)
    after = JSONAttribute(null=True)
    detail = UnicodeAttribute(null=True)
    expires_at = TTLAttribute()

    by_entity = EventsByEntity()


class AuditSeal(dynamodb.TableModel):
    """A closed hour of one partition's events, chained to the previous seal and signed."""

    Meta = dynamodb.meta("audit_seals")

    merchant_id = UnicodeAttribute(hash_key=True)
    period_start = UnicodeAttribute(range_key=True)
    period_end = UnicodeAttribute()
    previous_period_start = UnicodeAttribute(default="")  # "" for the first seal of a partition
    event_keys = ListAttribute(of=UnicodeAttribute, default=list)  # the events' `occurred_event`, in order
    event_hashes = ListAttribute(of=UnicodeAttribute, default=list)  # SHA-256 of each, same order
    event_count = NumberAttribute()
    previous_seal_hash = UnicodeAttribute()
    seal_hash = UnicodeAttribute()
    signature = UnicodeAttribute()
    key_id = UnicodeAttribute()
    sealed_at = UnicodeAttribute()


class AuditAnchor(models.Model):
    """The newest seal of one partition's chain, as the sealer last wrote it: where verification
    requires the chain to reach. Signed with the audit signing key; it only moves forward."""

    partition = models.CharField(max_length=64, unique=True)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    seal_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=32)
    anchored_at = models.DateTimeField()
    signature = models.CharField(max_length=64)

    class Meta:
        verbose_name = "audit anchor"

    def __str__(self) -> str:
        return f"{self.partition} at {self.period_start:%Y-%m-%d %H:%M}"


def retention_days() -> int:
    return max(365, int(getattr(settings, "AUDIT_RETENTION_DAYS", 365)))
