"""Verification of the seal chains (`manage.py audit verify`, the verify page, the compliance report).

For each partition it recomputes every seal's hash and signature and follows the chain from the
partition's first event; compares each sealed period with the events stored now and names each
event altered, deleted or inserted after sealing; requires the chain to reach the head anchored
outside the audit tables (`audit.anchors`) and to reach the last closed hour less the grace
window, so that a chain cut at its tail, sealable events left without a seal, or a missing or forged
anchor are findings too. Events that the TTL removed after the retention period are expected to be
missing and are not findings. `audit.integrity` re-exports the public names.
"""

from __future__ import annotations

import bisect
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from audit import anchors
from audit.digests import (
    HOUR,
    event_hash,
    event_keys_from,
    events_between,
    key_time,
    last_closed_hour,
    seal_get,
    seal_grace,
    seal_latest,
    seal_problem,
    seals_from,
    signing_keys,
    time_key,
    time_parse,
)
from audit.models import AuditEvent, AuditSeal, retention_days

ALTERED, DELETED, INSERTED = "event_altered", "event_deleted", "event_inserted"
SEAL_ALTERED, SEAL_MISSING, SEAL_UNKNOWN_KEY, CHAIN_BROKEN = (
    "seal_altered",
    "seal_missing",
    "seal_unknown_key",
    "chain_broken",
)
ANCHOR_MISSING, ANCHOR_INVALID, ANCHOR_UNREACHED, CHAIN_SHORT = (
    "anchor_missing",
    "anchor_invalid",
    "anchor_unreached",
    "chain_short",
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
    anchored: int = 0  # partitions whose chain reaches a valid anchored head
    findings: list[Finding] = field(default_factory=list)
    verified_at: str = ""

    @property
    def ok(self) -> bool:
        return not self.findings


def _event_id(key: str) -> str:
    return key.split("#", 1)[1] if "#" in key else key


def _expired(key: str, *, now: datetime) -> bool:
    return time_parse(key_time(key)) + timedelta(days=retention_days()) <= now


def _seal_check(seal: AuditSeal, keys: dict[str, str]) -> Finding | None:
    problem = seal_problem(seal, keys)
    if problem is None:
        return None
    kind = SEAL_UNKNOWN_KEY if seal.key_id not in keys else SEAL_ALTERED
    return Finding(kind, seal.merchant_id, seal.period_start, detail=problem)


def _anchor_check(partition: str, head: AuditSeal | None, keys: dict[str, str], result: Verification) -> None:
    """The chain must end at (or, after a run stopped between a seal and its anchor, chain on from)
    the head anchored outside the audit tables."""
    anchor = anchors.anchor_get(partition)
    if anchor is None:
        if head is not None:
            result.findings.append(
                Finding(
                    ANCHOR_MISSING,
                    partition,
                    head.period_start,
                    detail="the partition has seals but no anchored head; the next `audit seal` anchors the chain",
                )
            )
        return
    problem = anchors.anchor_problem(anchor, partition=partition, keys=keys)
    if problem:
        result.findings.append(
            Finding(
                ANCHOR_INVALID,
                partition,
                anchor.period_start,
                detail=f"the anchored head is not the sealer's: {problem}",
            )
        )
        return
    anchored = seal_get(partition, anchor.period_start)
    if anchored is None or not hmac.compare_digest(anchored.seal_hash, anchor.seal_hash):
        what = "is missing" if anchored is None else "is not the seal that was anchored"
        result.findings.append(
            Finding(
                ANCHOR_UNREACHED,
                partition,
                anchor.period_start,
                detail=f"the chain does not reach its anchored head: the seal of {anchor.period_start} {what}",
            )
        )
        return
    result.anchored += 1


def _reach_check(partition: str, head: AuditSeal | None, now: datetime, result: Verification) -> None:
    """The chain must reach the last closed hour less the grace window: a chain that ends earlier,
    or events before that point without a seal, are findings."""
    required = time_key(last_closed_hour(now=now) - seal_grace())
    sealed_to = head.period_end if head is not None else None
    keys = event_keys_from(partition, start=sealed_to)
    result.unsealed += len(keys)
    sealable = [key for key in keys if key_time(key) < required]
    if not sealable and (sealed_to is None or sealed_to >= required):
        return
    ends = f"ends at {sealed_to}" if sealed_to else "has no seal"
    result.findings.append(
        Finding(
            CHAIN_SHORT,
            partition,
            sealed_to or "",
            detail=f"the chain {ends} but must reach {required} (the last closed hour less the "
            f"{seal_grace() // HOUR}-hour grace window); {len(sealable)} events before that are not sealed"
            + (f", the first at {key_time(sealable[0])}" if sealable else ""),
        )
    )


def _chain_check(
    partition: str, seals: list[AuditSeal], previous: AuditSeal | None, keys: dict[str, str], result: Verification
) -> list[tuple[str, str]]:
    """Each seal's hash and signature and its link to the previous one; the [from, to) ranges whose
    seals are missing (their events are not judged: the gap is the finding)."""
    gaps: list[tuple[str, str]] = []
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
    return gaps


def _events_check(
    partition: str,
    seals: list[AuditSeal],
    gaps: list[tuple[str, str]],
    *,
    since: datetime | None,
    now: datetime,
    result: Verification,
) -> None:
    """Each sealed period against the events stored now."""
    low = None if since is None else seals[0].period_start
    events = events_between(partition, low=low, high=seals[-1].period_end)
    starts = [seal.period_start for seal in seals]
    by_seal: dict[int, dict[str, AuditEvent]] = {}
    for event in events:
        result.events += 1
        stamp = key_time(event.occurred_event)
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


def audit_verify_partition(
    *, partition: str, since: datetime | None = None, now: datetime | None = None, result: Verification | None = None
) -> Verification:
    now = now or datetime.now(UTC)
    result = result or Verification(verified_at=time_key(now))
    result.partitions.append(partition)
    keys = signing_keys()
    head = seal_latest(partition)
    if since is not None:
        seals = [s for s in seals_from(partition, start=time_key(since - HOUR)) if s.period_end > time_key(since)]
        previous = seal_latest(partition, before=seals[0].period_start) if seals else None
    else:
        seals = seals_from(partition, start=None)
        previous = None
    if seals:
        result.seals += len(seals)
        gaps = _chain_check(partition, seals, previous, keys, result)
        _events_check(partition, seals, gaps, since=since, now=now, result=result)
    _anchor_check(partition, head, keys, result)
    _reach_check(partition, head, now, result)
    return result


def audit_verify(
    *, partitions: Iterable[str], since: datetime | None = None, now: datetime | None = None
) -> Verification:
    now = now or datetime.now(UTC)
    result = Verification(verified_at=time_key(now))
    for partition in partitions:
        audit_verify_partition(partition=partition, since=since, now=now, result=result)
    return result
