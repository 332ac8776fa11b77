"""The audit chain for the compliance report, verified incrementally.

Verifying every seal and every event of every partition (`manage.py audit verify`) grows with the
trail. The report instead starts each partition where the previous run left it: the head seal it
verified (period and hash). When that seal is still stored with the same hash, only the seals after
it, their events, the link to it, the anchored head and the reach of the chain are verified
(`audit.integrity.audit_verify_partition(since=...)`); otherwise (first run, a changed or missing
seal, a finding last time) the whole chain is. Events already verified are not re-hashed on every
run, so the whole chain is verified again at least every `COMPLIANCE_FULL_VERIFY_HOURS`, and
`manage.py audit verify` and the audit verify page always do all of it."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

from audit import integrity
from audit.digests import seal_get, seal_latest
from audit.models import AuditSeal


@dataclass
class ChainVerification:
    verification: integrity.Verification
    heads: dict[str, AuditSeal | None] = field(default_factory=dict)
    verified_to: dict[str, dict[str, str]] = field(default_factory=dict)
    incremental: list[str] = field(default_factory=list)  # partitions verified from the last run's point
    whole: list[str] = field(default_factory=list)  # partitions verified from their first seal

    @property
    def seals(self) -> int:
        return self.verification.seals

    @property
    def events(self) -> int:
        return self.verification.events

    @property
    def unsealed(self) -> int:
        return self.verification.unsealed

    @property
    def findings(self) -> list[integrity.Finding]:
        return self.verification.findings

    def how(self) -> str:
        return (
            f"{len(self.whole)} partitions verified from their first seal, {len(self.incremental)} from the "
            f"head the previous report verified (the whole chain again at least every "
            f"{settings.COMPLIANCE_FULL_VERIFY_HOURS} hours; `manage.py audit verify` checks all of it)"
        )


def _since(partition: str, point: Mapping[str, Any] | None, *, now: datetime) -> datetime | None:
    """Where to start verifying `partition`: the end of the head seal the last run verified, when that
    seal is unchanged and the last whole verification is recent enough; None for the whole chain."""
    if not point:
        return None
    whole_at = integrity.time_parse(point["whole_at"])
    if now - whole_at >= timedelta(hours=settings.COMPLIANCE_FULL_VERIFY_HOURS):
        return None
    seal = seal_get(partition, point["period_start"])
    if seal is None or not hmac.compare_digest(seal.seal_hash, point["seal_hash"]):
        return None  # the whole chain then names what changed
    return integrity.time_parse(point["period_end"])


def audit_chain_verify(
    *, partitions: Iterable[str], verified: Mapping[str, Mapping[str, Any]], now: datetime | None = None
) -> ChainVerification:
    now = now or datetime.now(UTC)
    result = ChainVerification(integrity.Verification(verified_at=integrity.time_key(now)))
    for partition in partitions:
        point = verified.get(partition)
        since = _since(partition, point, now=now)
        before = len(result.findings)
        integrity.audit_verify_partition(partition=partition, since=since, now=now, result=result.verification)
        (result.whole if since is None else result.incremental).append(partition)
        head = result.heads[partition] = seal_latest(partition)
        if head is not None and len(result.findings) == before:  # a finding: the whole chain next time
            result.verified_to[partition] = {
                "period_start": head.period_start,
                "period_end": head.period_end,
                "seal_hash": head.seal_hash,
                "whole_at": integrity.time_key(now) if since is None else str(point and point["whole_at"]),
            }
    return result
