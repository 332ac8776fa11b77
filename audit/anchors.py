"""The anchored head of each partition's seal chain, kept outside the audit tables (like the digest
files that CloudTrail log file validation writes to S3).

Seals live in DynamoDB beside the events they certify, so whoever can write there can delete a
chain's newest seals (or all of them), change the events those seals covered and let the next
sealing run seal them again into a chain that verifies. The anchor is out of their reach: after each
seal it writes, the sealer records that seal (partition, period, hash), signed with the audit
signing key, in a second store, and only ever forward. Sealing continues only from the anchored
head, and verification requires the chain to reach it.

Two stores, chosen by `AUDIT_ANCHOR_BUCKET`:

- unset: one `AuditAnchor` row per partition in the relational database (PostgreSQL in production),
  moved by a conditional UPDATE (`WHERE period_start < new`) that never moves it back;
- set: one object per seal in that S3 bucket, `<AUDIT_ANCHOR_PREFIX><partition>/<reversed
  time>-<period>.json`, created only where none exists (`If-None-Match: *`). The bucket has S3 Object
  Lock on (compliance mode, a default retention), so nobody can delete or overwrite an anchor; keys
  sort newest first, so the head is the first object listed.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Protocol

from botocore.exceptions import ClientError
from django.conf import settings
from django.db import IntegrityError, transaction

from audit.digests import canonical, sign, signing_key_id, signing_keys, time_key, time_parse
from audit.models import AuditAnchor, AuditSeal
from core.lazy import lazy_import

boto3 = lazy_import("boto3")  # the S3 store alone: a request never imports it (core.lazy)

_DOMAIN = b"paysite-audit-anchor:"  # an anchor's signature can never pass for a seal's (a bare hash)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_REVERSED = 10**17  # microseconds: reversed times stay 17 digits wide until the year 5138


@dataclass(frozen=True)
class Anchor:
    partition: str
    period_start: str
    period_end: str
    seal_hash: str
    key_id: str
    anchored_at: str
    signature: str = ""

    def message(self) -> bytes:
        fields = asdict(self)
        del fields["signature"]
        return _DOMAIN + canonical(fields)


def anchor_new(seal: AuditSeal, *, at: datetime) -> Anchor:
    """The anchor of `seal`, signed with the current key."""
    key = settings.AUDIT_SIGNING_KEY
    unsigned = Anchor(
        partition=seal.merchant_id,
        period_start=seal.period_start,
        period_end=seal.period_end,
        seal_hash=seal.seal_hash,
        key_id=signing_key_id(key),
        anchored_at=time_key(at),
    )
    return replace(unsigned, signature=sign(key, unsigned.message()))


def anchor_problem(anchor: Anchor, *, partition: str, keys: dict[str, str] | None = None) -> str | None:
    """Why the anchor was not written by the sealer for `partition`, or None."""
    key = (keys if keys is not None else signing_keys()).get(anchor.key_id)
    if key is None:
        return f"signed with unknown key {anchor.key_id or '-'}"
    if not hmac.compare_digest(anchor.signature, sign(key, anchor.message())):
        return "its content does not match its signature"
    if anchor.partition != partition:
        return f"it anchors partition {anchor.partition}"
    return None


def anchor_get(partition: str) -> Anchor | None:
    """The partition's anchored head as stored (check it with `anchor_problem`), or None."""
    return _store().head(partition)


def anchor_advance(anchor: Anchor) -> bool:
    """Move the partition's head to `anchor` if it lies after the stored head; False (and the head
    unchanged) otherwise: the head never moves back."""
    return _store().advance(anchor)


# --- stores ----------------------------------------------------------------------------------


class AnchorStore(Protocol):
    def head(self, partition: str) -> Anchor | None: ...

    def advance(self, anchor: Anchor) -> bool: ...

    def partitions(self) -> list[str]: ...


def anchored_partitions() -> list[str]:
    """Every partition with an anchored head: a partition whose merchant item was deleted from
    DynamoDB is still verified."""
    return _store().partitions()


def _store() -> AnchorStore:
    bucket = getattr(settings, "AUDIT_ANCHOR_BUCKET", "")
    if bucket:
        return S3AnchorStore(bucket=bucket, prefix=getattr(settings, "AUDIT_ANCHOR_PREFIX", "audit-anchors/"))
    return DatabaseAnchorStore()


class DatabaseAnchorStore:
    """One row per partition; an UPDATE with `period_start < new` as its condition moves it."""

    def head(self, partition: str) -> Anchor | None:
        row = AuditAnchor.objects.filter(partition=partition).first()
        if row is None:
            return None
        return Anchor(
            partition=row.partition,
            period_start=time_key(row.period_start),
            period_end=time_key(row.period_end),
            seal_hash=row.seal_hash,
            key_id=row.key_id,
            anchored_at=time_key(row.anchored_at),
            signature=row.signature,
        )

    def partitions(self) -> list[str]:
        return list(AuditAnchor.objects.order_by("partition").values_list("partition", flat=True))

    def advance(self, anchor: Anchor) -> bool:
        values = {
            "period_start": time_parse(anchor.period_start),
            "period_end": time_parse(anchor.period_end),
            "seal_hash": anchor.seal_hash,
            "key_id": anchor.key_id,
            "anchored_at": time_parse(anchor.anchored_at),
            "signature": anchor.signature,
        }
        behind = AuditAnchor.objects.filter(partition=anchor.partition, period_start__lt=values["period_start"])
        if behind.update(**values):
            return True
        try:
            with transaction.atomic():
                AuditAnchor.objects.create(partition=anchor.partition, **values)
        except IntegrityError:  # the partition has a head: at or after this one, or just created by another run
            return bool(behind.update(**values))
        return True


@cache
def _s3_client(region: str, endpoint: str | None) -> Any:
    return boto3.client("s3", region_name=region, endpoint_url=endpoint)


class S3AnchorStore:
    """One object per seal, never overwritten; the newest sorts first."""

    def __init__(self, *, bucket: str, prefix: str) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.client = _s3_client(
            getattr(settings, "AUDIT_ANCHOR_S3_REGION", "us-east-1"),
            getattr(settings, "AUDIT_ANCHOR_S3_ENDPOINT", None),
        )

    def key(self, partition: str, period_start: str) -> str:
        micros = (time_parse(period_start) - _EPOCH) // timedelta(microseconds=1)
        return f"{self.prefix}{partition}/{_REVERSED - micros:017d}-{period_start}.json"

    def head(self, partition: str) -> Anchor | None:
        listed = self.client.list_objects_v2(Bucket=self.bucket, Prefix=f"{self.prefix}{partition}/", MaxKeys=1)
        if not listed.get("Contents"):
            return None
        key = listed["Contents"][0]["Key"]
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        try:
            anchor = Anchor(**json.loads(body))
            placed = self.key(anchor.partition, anchor.period_start)
        except (ValueError, TypeError):
            placed, anchor = "", Anchor(partition, "", "", "", "", "")
        if placed != key:  # a copy of an older anchor under a newer name must not pass for the head
            return replace(anchor, signature="")
        return anchor

    def partitions(self) -> list[str]:
        found: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix, Delimiter="/"
        ):
            found += [entry["Prefix"][len(self.prefix) : -1] for entry in page.get("CommonPrefixes", [])]
        return found

    def advance(self, anchor: Anchor) -> bool:
        head = self.head(anchor.partition)
        if head is not None and head.period_start >= anchor.period_start:
            return False
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=self.key(anchor.partition, anchor.period_start),
                Body=json.dumps(asdict(anchor), sort_keys=True).encode("utf-8"),
                ContentType="application/json",
                ChecksumAlgorithm="SHA256",  # required where Object Lock holds the objects
                IfNoneMatch="*",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"PreconditionFailed", "ConditionalRequestConflict"}:
                return False
            raise
        return True
