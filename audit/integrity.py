"""Audit integrity, like AWS CloudTrail's log file validation.

Each partition (a merchant, or `ops`) is closed hour by hour into an `AuditSeal`: the sealed events'
keys and SHA-256 hashes in key order, the previous seal's hash and period (a chain), and an
HMAC-SHA256 signature of the seal's own hash with `AUDIT_SIGNING_KEY` (`key_id` names the key, so
older seals still verify after a rotation: list old keys in `AUDIT_SIGNING_OLD_KEYS`).

A period never crosses an hour boundary. Sealing writes a seal for every hour that has events and
one for the last period of the run even when it is empty; the hours between two chained seals are
thereby certified empty, so an event forged into them is found too.

After each seal it writes, the sealer moves the partition's anchored head to it (`audit.anchors`: a
signed record outside the audit tables that only moves forward). A run continues the chain only from
the anchored head; when the chain no longer reaches it (its newest seals deleted or replaced) the
run seals nothing and says so. Once a partition is anchored, a run also refuses to seal events older
than the grace window (`AUDIT_SEAL_GRACE_HOURS`) and reports them instead; the first run of a
partition may seal any history (the demo data's 90 days).

`audit_verify` (`audit.verification`) recomputes everything and names each event altered, deleted or
inserted after sealing, each seal altered or missing (a gap in the chain), a chain that does not
reach its anchored head or the last closed hour less the grace window, and a missing or forged
anchor. Events that the TTL removed after the retention period are expected to be missing and are
not findings.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from pynamodb.exceptions import PutError

from audit import anchors
from audit.digests import (
    GENESIS,
    HOUR,
    event_canonical,
    event_hash,
    events_between,
    hour_floor,
    key_time,
    last_closed_hour,
    seal_canonical,
    seal_grace,
    seal_latest,
    seal_problem,
    seals_from,
    sign,
    signing_key_id,
    signing_keys,
    time_key,
    time_parse,
)
from audit.models import AuditEvent, AuditSeal
from audit.verification import (
    ALTERED,
    ANCHOR_INVALID,
    ANCHOR_MISSING,
    ANCHOR_UNREACHED,
    CHAIN_BROKEN,
    CHAIN_SHORT,
    DELETED,
    INSERTED,
    SEAL_ALTERED,
    SEAL_MISSING,
    SEAL_UNKNOWN_KEY,
    Finding,
    Verification,
    audit_verify,
    audit_verify_partition,
)

__all__ = [
    "ALTERED",
    "ANCHOR_INVALID",
    "ANCHOR_MISSING",
    "ANCHOR_UNREACHED",
    "CHAIN_BROKEN",
    "CHAIN_SHORT",
    "DELETED",
    "GENESIS",
    "HOUR",
    "INSERTED",
    "SEAL_ALTERED",
    "SEAL_MISSING",
    "SEAL_UNKNOWN_KEY",
    "Finding",
    "SealRun",
    "Verification",
    "audit_seal",
    "audit_seal_partition",
    "audit_verify",
    "audit_verify_partition",
    "event_canonical",
    "event_hash",
    "hour_floor",
    "last_closed_hour",
    "seal_canonical",
    "seal_grace",
    "signing_key_id",
    "signing_keys",
    "time_key",
    "time_parse",
]


@dataclass
class SealRun:
    partition: str
    seals: int = 0
    events: int = 0
    sealed_through: str | None = None
    note: str = ""
    refused: bool = False  # the run stopped on purpose: `note` says why, and nothing after it is sealed


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


def _chain_base(partition: str, *, at: datetime) -> tuple[AuditSeal | None, bool, str]:
    """The seal a run continues from, whether the partition was anchored before the run, and why the
    run must seal nothing ("" when it may seal).

    The base is the anchored head, or the last of the seals after it that chain on from it (a run
    that stopped between writing a seal and anchoring it); the anchor then catches up. A partition
    sealed before anchors existed is anchored at its newest seal."""
    keys = signing_keys()
    anchor = anchors.anchor_get(partition)
    if anchor is None:
        last = seal_latest(partition)
        if last is not None:
            problem = seal_problem(last, keys)
            if problem:
                return None, False, f"refused: the newest seal, of {last.period_start}, is not the sealer's ({problem})"
            anchors.anchor_advance(anchors.anchor_new(last, at=at))
        return last, False, ""
    problem = anchors.anchor_problem(anchor, partition=partition, keys=keys)
    if problem:
        return None, True, f"refused: the anchored head of {anchor.period_start} is not the sealer's ({problem})"
    seals = seals_from(partition, start=anchor.period_start)
    if not seals or not (
        seals[0].period_start == anchor.period_start and hmac.compare_digest(seals[0].seal_hash, anchor.seal_hash)
    ):
        return None, True, f"refused: the seal chain no longer reaches its anchored head {anchor.period_start}"
    base = seals[0]
    for seal in seals[1:]:
        if (
            seal_problem(seal, keys)
            or seal.previous_period_start != base.period_start
            or not hmac.compare_digest(seal.previous_seal_hash, base.seal_hash)
        ):
            return None, True, f"refused: the seal of {seal.period_start} does not chain on from the anchored head"
        base = seal
    if base is not seals[0]:
        anchors.anchor_advance(anchors.anchor_new(base, at=at))
    return base, True, ""


def audit_seal_partition(*, partition: str, through: datetime, at: datetime | None = None) -> SealRun:
    """Seal every unsealed event of `partition` before `through`. A run that loses a race with another
    run stops at the seal it could not write; the other run continues the chain."""
    run = SealRun(partition=partition)
    moment = at or datetime.now(UTC)
    last, anchored, refusal = _chain_base(partition, at=moment)
    if refusal:
        run.refused, run.note = True, refusal + "; run `audit verify`"
        return run
    start = time_parse(last.period_end) if last else None
    if start is not None and start >= through:
        run.sealed_through = last.period_end if last else None
        run.note = "already sealed"
        return run
    events = events_between(partition, low=time_key(start) if start else None, high=time_key(through))
    key_id = signing_key_id(settings.AUDIT_SIGNING_KEY)
    previous_hash = last.seal_hash if last else GENESIS
    previous_start = last.period_start if last else ""
    sealed_at = time_key(moment)
    late_before = time_key(moment - seal_grace()) if anchored else ""
    for begin, end, members in _periods(events, start=start, through=through):
        if members and key_time(members[0].occurred_event) < late_before:
            late = [e for e in events if time_key(begin) <= key_time(e.occurred_event) < late_before]
            run.refused = True
            run.note = (
                f"refused: {len(late)} events from {key_time(members[0].occurred_event)} are older than the "
                f"{seal_grace() // HOUR}-hour grace window; check them, then seal with a wider AUDIT_SEAL_GRACE_HOURS"
            )
            break
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
        seal.signature = sign(settings.AUDIT_SIGNING_KEY, seal.seal_hash)
        try:
            seal.save(condition=AuditSeal.period_start.does_not_exist())
        except PutError:
            run.note = f"another run sealed {seal.period_start} first"
            break
        anchors.anchor_advance(anchors.anchor_new(seal, at=moment))
        previous_hash, previous_start = seal.seal_hash, seal.period_start
        run.seals += 1
        run.events += len(members)
        run.sealed_through = seal.period_end
    return run


def audit_seal(*, through: datetime, partitions: Iterable[str]) -> list[SealRun]:
    return [audit_seal_partition(partition=partition, through=through) for partition in partitions]
