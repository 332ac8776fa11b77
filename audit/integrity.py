"""Audit integrity, like AWS CloudTrail's log file validation.

Each partition (a merchant, or `ops`) is closed hour by hour into an `AuditSeal`: the sealed events'
keys and SHA-256 hashes in key order, the previous seal's hash and period (a chain), and an
HMAC-SHA256 signature of the seal's own hash with `AUDIT_SIGNING_KEY` (`key_id` names the key, so
older seals still verify after a rotation: list old keys in `AUDIT_SIGNING_OLD_KEYS`).

A period never crosses an hour boundary. Sealing writes a seal for every hour that has events and
one for the last period of the run even when it is empty; the hours between two chained seals are
thereby certified empty, so an event forged into them is found too.

`audit_verify` recomputes everything and names each event altered, deleted or inserted after
sealing, each seal altered or missing (a gap in the chain). Events that the TTL removed after the
retention period are expected to be missing and are not findings.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from pynamodb.exceptions import PutError

from audit.models import AuditEvent, AuditSeal, retention_days

HOUR = timedelta(hours=1)
GENESIS = "0" * 64
_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


# --- canonical forms and keys ----------------------------------------------------------------


def time_key(at: datetime) -> str:
    """A time in the events' sort-key format: comparable as a string with `occurred_event`."""
    return at.astimezone(UTC).strftime(_FORMAT)


def time_parse(value: str) -> datetime:
    return datetime.strptime(value, _FORMAT).replace(tzinfo=UTC)


def hour_floor(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _canonical(data: dict[str, Any]) -> bytes:
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
    return _canonical(data)


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
    return _canonical(
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


def _sign(key: str, seal_hash: str) -> str:
    return hmac.new(key.encode("utf-8"), seal_hash.encode("ascii"), hashlib.sha256).hexdigest()


# --- reads (kept here: they serve sealing and verification only) ----------------------------


def _seal_latest(partition: str, *, before: str | None = None) -> AuditSeal | None:
    condition = AuditSeal.period_start < before if before else None
    for seal in AuditSeal.query(
        partition, range_key_condition=condition, scan_index_forward=False, limit=1, consistent_read=True
    ):
        return seal
    return None


def _seals_from(partition: str, *, start: str | None) -> list[AuditSeal]:
    condition = AuditSeal.period_start >= start if start else None
    return list(AuditSeal.query(partition, range_key_condition=condition, consistent_read=True))


def _events_between(partition: str, *, low: str | None, high: str) -> list[AuditEvent]:
    """Events with low <= occurred_event < high (keys carry `#evt_...` after the time, so a bare
    time bound sorts before every event at that instant)."""
    condition = AuditEvent.occurred_event.between(low, high) if low is not None else AuditEvent.occurred_event < high
    return list(AuditEvent.query(partition, range_key_condition=condition, consistent_read=True))


# --- sealing ---------------------------------------------------------------------------------


@dataclass
class SealRun:
    partition: str
    seals: int = 0
    events: int = 0
    sealed_through: str | None = None
    note: str = ""


def _periods(
    events: list[AuditEvent], *, start: datetime | None, through: datetime
) -> list[tuple[datetime, datetime, list[AuditEvent]]]:
    """Group events (in key order) into periods within one hour, each starting at the later of its
    hour and `start`, ending at the earlier of the next hour and `through`."""
    groups: dict[datetime, list[AuditEvent]] = {}
    for event in events:
        hour = hour_floor(time_parse(event.occurred_at))
        groups.setdefault(hour, []).append(event)
    periods = []
    for hour in sorted(groups):
        begin = max(hour, start) if start else hour
        periods.append((begin, min(hour + HOUR, through), groups[hour]))
    if not periods or periods[-1][1] < through:  # close the run with the (empty) last period
        last_hour = hour_floor(through - timedelta(microseconds=1))
        begin = max(last_hour, start) if start else last_hour
        if periods:
            begin = max(begin, periods[-1][1])
        periods.append((begin, through, []))
    return periods


def audit_seal_partition(*, partition: str, through: datetime, at: datetime | None = None) -> SealRun:
    """Seal every unsealed event of `partition` before `through`. A run that loses a race with another
    run stops at the seal it could not write; the other run continues the chain."""
    run = SealRun(partition=partition)
    last = _seal_latest(partition)
    start = time_parse(last.period_end) if last else None
    if start is not None and start >= through:
        run.sealed_through = last.period_end if last else None
        run.note = "already sealed"
        return run
    events = _events_between(partition, low=time_key(start) if start else None, high=time_key(through))
    key_id = signing_key_id(settings.AUDIT_SIGNING_KEY)
    previous_hash = last.seal_hash if last else GENESIS
    previous_start = last.period_start if last else ""
    sealed_at = time_key(at or datetime.now(UTC))
    for begin, end, members in _periods(events, start=start, through=through):
        seal = AuditSeal(
            merchant_id=partition,
            period_start=time_key(begin),
            period_end=time_key(end),
            previous_period_start=previous_start,
            previous_seal_hash=previous_hash,
            event_keys=[event.occurred_event for event in members],
            event_hashes=[event_hash(event) for event in members],
            event_count=len(members),
            key_id=key_id,
            sealed_at=sealed_at,
            seal_hash="",
            signature="",
        )
        seal.seal_hash = hashlib.sha256(seal_canonical(seal)).hexdigest()
        seal.signature = _sign(settings.AUDIT_SIGNING_KEY, seal.seal_hash)
        try:
            seal.save(condition=AuditSeal.period_start.does_not_exist())
        except PutError:
            run.note = f"another run sealed {seal.period_start} first"
            break
        previous_hash, previous_start = seal.seal_hash, seal.period_start
        run.seals += 1
        run.events += len(members)
        run.sealed_through = seal.period_end
    return run


def audit_seal(*, through: datetime, partitions: Iterable[str]) -> list[SealRun]:
    return [audit_seal_partition(partition=partition, through=through) for partition in partitions]


def last_closed_hour(*, now: datetime | None = None) -> datetime:
    """The end of the last closed hour: the default `--through`."""
    return hour_floor(now or datetime.now(UTC))


# --- verification ----------------------------------------------------------------------------

ALTERED, DELETED, INSERTED = "event_altered", "event_deleted", "event_inserted"
SEAL_ALTERED, SEAL_MISSING, SEAL_UNKNOWN_KEY, CHAIN_BROKEN = (
    "seal_altered",
    "seal_missing",
    "seal_unknown_key",
    "chain_broken",
)


@dataclass(frozen=True)
class Finding:
    kind: str
    partition: str
    period_start: str
    event_id: str | None = None
    event_key: str | None = None
    detail: str = ""

    def line(self) -> str:
        subject = f"event {self.event_id}" if self.event_id else f"seal {self.period_start}"
        return f"{self.kind}: {self.partition} {subject}: {self.detail}"


@dataclass
class Verification:
    partitions: list[str] = field(default_factory=list)
    seals: int = 0
    events: int = 0
    expired: int = 0
    unsealed: int = 0
    findings: list[Finding] = field(default_factory=list)
    verified_at: str = ""

    @property
    def ok(self) -> bool:
        return not self.findings


def _event_id(key: str) -> str:
    return key.split("#", 1)[1] if "#" in key else key


def _expired(key: str, *, now: datetime) -> bool:
    return time_parse(key.split("#", 1)[0]) + timedelta(days=retention_days()) <= now


def _seal_check(seal: AuditSeal, keys: dict[str, str]) -> Finding | None:
    expected = hashlib.sha256(seal_canonical(seal)).hexdigest()
    key = keys.get(seal.key_id)
    if key is None:
        return Finding(
            SEAL_UNKNOWN_KEY, seal.merchant_id, seal.period_start, detail=f"signed with unknown key {seal.key_id}"
        )
    if not hmac.compare_digest(seal.seal_hash, expected) or not hmac.compare_digest(
        seal.signature, _sign(key, seal.seal_hash)
    ):
        return Finding(
            SEAL_ALTERED,
            seal.merchant_id,
            seal.period_start,
            detail="the seal's hash or signature does not match its content",
        )
    return None


def audit_verify_partition(
    *, partition: str, since: datetime | None = None, now: datetime | None = None, result: Verification | None = None
) -> Verification:
    now = now or datetime.now(UTC)
    result = result or Verification(verified_at=time_key(now))
    result.partitions.append(partition)
    keys = signing_keys()
    if since is not None:
        seals = [s for s in _seals_from(partition, start=time_key(since - HOUR)) if s.period_end > time_key(since)]
        previous = _seal_latest(partition, before=seals[0].period_start) if seals else None
    else:
        seals = _seals_from(partition, start=None)
        previous = None
    if not seals:
        return result
    result.seals += len(seals)

    gaps: list[tuple[str, str]] = []  # [from, to) ranges whose seals are missing: their events are not judged
    for seal in seals:
        problem = _seal_check(seal, keys)
        if problem:
            result.findings.append(problem)
        if previous is None:
            if seal.previous_period_start:
                result.findings.append(
                    Finding(
                        SEAL_MISSING,
                        partition,
                        seal.previous_period_start,
                        detail=f"named as previous by the seal of {seal.period_start}, which is the first one found",
                    )
                )
                gaps.append(("", seal.period_start))
        elif seal.previous_period_start != previous.period_start:
            result.findings.append(
                Finding(
                    SEAL_MISSING,
                    partition,
                    seal.previous_period_start or previous.period_end,
                    detail=f"gap in the seal chain between {previous.period_end} and {seal.period_start}",
                )
            )
            gaps.append((previous.period_end, seal.period_start))
        elif not hmac.compare_digest(seal.previous_seal_hash, previous.seal_hash):
            result.findings.append(
                Finding(
                    CHAIN_BROKEN,
                    partition,
                    seal.period_start,
                    detail="its previous-seal hash does not match the previous seal",
                )
            )
        previous = seal

    low = None if since is None else seals[0].period_start
    events = _events_between(partition, low=low, high=seals[-1].period_end)
    starts = [seal.period_start for seal in seals]
    by_seal: dict[int, dict[str, AuditEvent]] = {}
    for event in events:
        result.events += 1
        stamp = event.occurred_event.split("#", 1)[0]
        index = bisect.bisect_right(starts, stamp) - 1
        if index >= 0 and stamp < seals[index].period_end:
            by_seal.setdefault(index, {})[event.occurred_event] = event
        elif not any(gap_from <= stamp < gap_to for gap_from, gap_to in gaps):
            result.findings.append(
                Finding(
                    INSERTED,
                    partition,
                    starts[index] if index >= 0 else "",
                    event.event_id,
                    event.occurred_event,
                    "present in a period sealed as without it",
                )
            )
    for index, seal in enumerate(seals):
        found = by_seal.get(index, {})
        sealed = dict(zip(seal.event_keys or [], seal.event_hashes or [], strict=False))
        for key, digest in sealed.items():
            event = found.get(key)
            if event is None:
                if _expired(key, now=now):
                    result.expired += 1
                else:
                    result.findings.append(
                        Finding(
                            DELETED, partition, seal.period_start, _event_id(key), key, "sealed but no longer stored"
                        )
                    )
            elif not hmac.compare_digest(event_hash(event), digest):
                result.findings.append(
                    Finding(
                        ALTERED,
                        partition,
                        seal.period_start,
                        event.event_id,
                        key,
                        "its content differs from the sealed hash",
                    )
                )
        for key, event in found.items():
            if key not in sealed:
                result.findings.append(
                    Finding(
                        INSERTED, partition, seal.period_start, event.event_id, key, "not in the seal of its period"
                    )
                )
    result.unsealed += sum(1 for _ in _events_after(partition, seals[-1].period_end))
    return result


def _events_after(partition: str, start: str) -> Iterable[AuditEvent]:
    return AuditEvent.query(
        partition,
        range_key_condition=AuditEvent.occurred_event >= start,
        attributes_to_get=["merchant_id", "occurred_event"],
    )


def audit_verify(
    *, partitions: Iterable[str], since: datetime | None = None, now: datetime | None = None
) -> Verification:
    now = now or datetime.now(UTC)
    result = Verification(verified_at=time_key(now))
    for partition in partitions:
        audit_verify_partition(partition=partition, since=since, now=now, result=result)
    return result
