"""What sealing and verification share: canonical forms and hashes of events and seals, the signing
keys, the time keys, and the reads of the audit tables (kept here: they serve sealing and
verification only). `audit.integrity` re-exports the public names."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

from audit.models import AuditEvent, AuditSeal

HOUR = timedelta(hours=1)
GENESIS = "0" * 64
_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


# --- time keys -------------------------------------------------------------------------------


def time_key(at: datetime) -> str:
    """A time in the events' sort-key format: comparable as a string with `occurred_event`."""
    return at.astimezone(UTC).strftime(_FORMAT)


def time_parse(value: str) -> datetime:
    return datetime.strptime(value, _FORMAT).replace(tzinfo=UTC)


def hour_floor(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def last_closed_hour(*, now: datetime | None = None) -> datetime:
    """The end of the last closed hour: the default `--through`."""
    return hour_floor(now or datetime.now(UTC))


def seal_grace() -> timedelta:
    """How late an event may still be sealed once its partition has an anchored head, and how far
    behind the last closed hour a chain may end before verification names it."""
    return timedelta(hours=max(1, int(getattr(settings, "AUDIT_SEAL_GRACE_HOURS", 24))))


def key_time(key: str) -> str:
    """The time part of an event key (`<time>#<evt_ id>`)."""
    return key.split("#", 1)[0]


# --- canonical forms, hashes, signatures -----------------------------------------------------


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def event_canonical(event: AuditEvent) -> bytes:
    """Every stored attribute of the event (by its attribute name), as sorted compact JSON; the TTL
    as its epoch seconds, as DynamoDB holds it."""
    data: dict[str, Any] = {}
    for name, attribute in event.get_attributes().items():
        value = getattr(event, name)
        if value is None:
            continue
        if isinstance(value, datetime):
            value = int(value.timestamp())
        data[attribute.attr_name] = value
    return canonical(data)


def event_hash(event: AuditEvent) -> str:
    return hashlib.sha256(event_canonical(event)).hexdigest()


def signing_key_id(key: str) -> str:
    """A public name for a signing key (never the key): a hash of it."""
    return "ak_" + hashlib.sha256(b"paysite-audit-key-id:" + key.encode("utf-8")).hexdigest()[:12]


def signing_keys() -> dict[str, str]:
    """key id -> key: the current key and the old ones still accepted for verification."""
    old = [k.strip() for k in (getattr(settings, "AUDIT_SIGNING_OLD_KEYS", "") or "").split(",") if k.strip()]
    return {signing_key_id(key): key for key in [settings.AUDIT_SIGNING_KEY, *old]}


def seal_canonical(seal: AuditSeal) -> bytes:
    return canonical(
        {
            "merchant_id": seal.merchant_id,
            "period_start": seal.period_start,
            "period_end": seal.period_end,
            "previous_period_start": seal.previous_period_start or "",
            "previous_seal_hash": seal.previous_seal_hash,
            "event_keys": list(seal.event_keys or []),
            "event_hashes": list(seal.event_hashes or []),
            "event_count": int(seal.event_count),
            "key_id": seal.key_id,
            "sealed_at": seal.sealed_at,
        }
    )


def sign(key: str, message: str | bytes) -> str:
    data = message.encode("ascii") if isinstance(message, str) else message
    return hmac.new(key.encode("utf-8"), data, hashlib.sha256).hexdigest()


def seal_problem(seal: AuditSeal, keys: dict[str, str]) -> str | None:
    """Why the seal is not as the sealer wrote it (unknown key, or hash or signature not matching its
    content), or None."""
    key = keys.get(seal.key_id)
    if key is None:
        return f"signed with unknown key {seal.key_id}"
    expected = hashlib.sha256(seal_canonical(seal)).hexdigest()
    if not hmac.compare_digest(seal.seal_hash, expected) or not hmac.compare_digest(
        seal.signature, sign(key, seal.seal_hash)
    ):
        return "the seal's hash or signature does not match its content"
    return None


# --- reads -----------------------------------------------------------------------------------


def seal_latest(partition: str, *, before: str | None = None) -> AuditSeal | None:
    condition = AuditSeal.period_start < before if before else None
    for seal in AuditSeal.query(
        partition, range_key_condition=condition, scan_index_forward=False, limit=1, consistent_read=True
    ):
        return seal
    return None


def seal_get(partition: str, period_start: str) -> AuditSeal | None:
    for seal in AuditSeal.query(
        partition, range_key_condition=AuditSeal.period_start == period_start, consistent_read=True
    ):
        return seal
    return None


def seals_from(partition: str, *, start: str | None) -> list[AuditSeal]:
    condition = AuditSeal.period_start >= start if start else None
    return list(AuditSeal.query(partition, range_key_condition=condition, consistent_read=True))


def events_between(partition: str, *, low: str | None, high: str) -> list[AuditEvent]:
    """Events with low <= occurred_event < high (keys carry `#evt_...` after the time, so a bare
    time bound sorts before every event at that instant)."""
    condition = AuditEvent.occurred_event.between(low, high) if low is not None else AuditEvent.occurred_event < high
    return list(AuditEvent.query(partition, range_key_condition=condition, consistent_read=True))


def event_keys_from(partition: str, *, start: str | None) -> list[str]:
    """The keys of the partition's events from `start` on (every event when None), keys only."""
    condition = AuditEvent.occurred_event >= start if start else None
    return [
        event.occurred_event
        for event in AuditEvent.query(
            partition, range_key_condition=condition, attributes_to_get=["merchant_id", "occurred_event"]
        )
    ]
