"""Idempotency records (draft-ietf-httpapi-idempotency-key-header; the algorithm of AWS Lambda
Powertools' DynamoDB idempotency and of Stripe), for every endpoint that takes an `Idempotency-Key`.

A conditional Put claims `<merchant_id>#<endpoint>#<Idempotency-Key>` as `in_progress` with the
request's fingerprint, a random lock token, a lock expiry and a random `reference` (payments send it
to the processor). When the Put fails, the old record decides: another fingerprint is 422
`idempotency_key_reused`; completed is replayed; in progress with an expired (or released) lock is
taken over, keeping its reference and lifetime; in progress otherwise is 409
`idempotency_key_in_use`. The completion goes into the caller's own transaction
(`idempotency_complete_in`); a claim whose change wrote nothing and started nothing outside is
released (deleted), one that may have started something outside is unlocked and kept
(`idempotency_unlock`). How payments use this, processor timeouts included, is in
`payments.services.idempotency`."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings
from pynamodb.exceptions import DeleteError, DoesNotExist, PynamoDBException, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from core import dynamodb
from core.errors import DomainError
from idempotency.models import IdempotencyRecord

KEY_HEADER = "Idempotency-Key"


RECORD_LIFETIME = timedelta(hours=24)


_KEY = re.compile(r"[\x20-\x7e]{1,255}")  # the whole value: `fullmatch`, never `match` with `$`


_CLAIM_ATTEMPTS = 3


class IdempotencyKeyMissing(DomainError):
    status = 400
    code = "idempotency_key_missing"
    title = "Idempotency-Key header required"


class IdempotencyKeyInvalid(DomainError):
    status = 400
    code = "idempotency_key_invalid"
    title = "Invalid Idempotency-Key header"


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"
    title = "Idempotency-Key reused with another request"


class IdempotencyKeyInUse(DomainError):
    status = 409
    code = "idempotency_key_in_use"
    title = "A request with this Idempotency-Key is in progress"


@dataclass(frozen=True)
class StoredResponse:
    """A response as the client receives it: the first time and on every replay, the same bytes."""

    status: int
    body: str
    replayed: bool = False


@dataclass(frozen=True)
class Pending:
    """A record whose request stored its payment as `processing`: the outcome waits for the processor."""

    record_key: str
    payment_id: str


@dataclass(frozen=True)
class Claim:
    """An in-progress record this request holds. `reference` is the random id written with the claim
    (None for a record claimed before references were stored). `resumed`: the record was taken over
    from an earlier request with the same key and body, which may have started work outside under
    `reference` (a processor authorization) before it stopped."""

    record_key: str
    token: str
    reference: str | None = None
    resumed: bool = False


def idempotency_key_check(*, key: str | None) -> str:
    if key is None or key == "":
        raise IdempotencyKeyMissing(
            f"Send an `{KEY_HEADER}` header (1 to 255 printable ASCII characters) with this request.",
            param=KEY_HEADER,
        )
    if not _KEY.fullmatch(key):
        raise IdempotencyKeyInvalid(f"`{KEY_HEADER}` must be 1 to 255 printable ASCII characters.", param=KEY_HEADER)
    return key


def request_fingerprint(*, body: bytes | str | None) -> str:
    """HMAC-SHA256 (keyed by `FINGERPRINT_KEY`, since a body can hold a card number) of the body as
    canonical JSON (sorted keys, no spaces): the same request in another key order or spacing has the
    same fingerprint. An empty body counts as `{}`."""
    text = body.decode() if isinstance(body, bytes) else (body or "")
    try:
        value: Any = json.loads(text) if text.strip() else {}
    except ValueError:
        value = text  # not JSON: the bytes themselves (the request is rejected before processing anyway)
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(settings.FINGERPRINT_KEY.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def _lock_seconds() -> int:
    return int(getattr(settings, "IDEMPOTENCY_LOCK_SECONDS", 60))


def _unix(at: datetime) -> int:
    return int(at.timestamp())


def idempotency_record_key(*, merchant_id: str, endpoint: str, key: str) -> str:
    return f"{merchant_id}#{endpoint}#{key}"


def _reference_new() -> str:
    """128 random bits: no two claims share one, whatever their keys, and none can be guessed."""
    return "ref_" + secrets.token_hex(16)


def idempotency_claim(
    *, merchant_id: str, endpoint: str, key: str, fingerprint: str, now: datetime | None = None
) -> Claim | StoredResponse | Pending:
    """Claim the key for this request, or answer from the record another request left. A new claim
    (no record, or an expired one, which counts as absent) gets a new random `reference`; taking over
    an in-progress record whose lock expired keeps the record's reference and lifetime."""
    at = now or datetime.now(UTC)
    record_key = idempotency_record_key(merchant_id=merchant_id, endpoint=endpoint, key=key)
    for _ in range(_CLAIM_ATTEMPTS):
        token = secrets.token_hex(16)
        record = IdempotencyRecord(
            idempotency_key=record_key,
            merchant_id=merchant_id,
            endpoint=endpoint,
            fingerprint=fingerprint,
            status="in_progress",
            lock_token=token,
            lock_expires_at=_unix(at) + _lock_seconds(),
            reference=_reference_new(),
            created=at,
            expires_at=at + RECORD_LIFETIME,
        )
        condition = IdempotencyRecord.idempotency_key.does_not_exist() | (IdempotencyRecord.expires_at <= at)
        existing = _put_or_existing(record, condition)
        if existing is None:
            return Claim(record_key=record_key, token=token, reference=record.reference)
        if idempotency_record_expired(existing, at):
            continue
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                f"This `{KEY_HEADER}` was used for a different request to this endpoint in the last 24 hours; "
                "use a new key for a new request.",
                param=KEY_HEADER,
            )
        if existing.status == "in_progress" and (existing.lock_expires_at or 0) <= _unix(at):
            taken = _take_over(existing, at=at)
            if taken is None:
                continue  # another request took it over, or completed it, first: read it again
            return taken
        if existing.status == "processing" and existing.payment_id:
            return Pending(record_key=record_key, payment_id=existing.payment_id)
        if existing.status != "completed":
            raise IdempotencyKeyInUse(
                f"A request with this `{KEY_HEADER}` is still being processed; retry later.",
                param=KEY_HEADER,
                retry_after=_lock_seconds(),
            )
        return StoredResponse(status=int(existing.response_status), body=existing.response_body or "", replayed=True)
    raise IdempotencyKeyInUse(f"This `{KEY_HEADER}` is contended; retry later.", param=KEY_HEADER)


def _put_or_existing(record: IdempotencyRecord, condition: Condition) -> IdempotencyRecord | None:
    """Put `record` if `condition` holds: None when written, else the record in its way, which
    DynamoDB returns with the failed condition (`ReturnValuesOnConditionCheckFailure`), so a replay
    costs no second read. pynamodb's `save()` drops that item, hence the client call."""
    request = record.get_save_kwargs_from_instance(condition=condition, return_values_on_condition_failure="ALL_OLD")
    try:
        dynamodb.connection().client.put_item(**request)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        return IdempotencyRecord.from_raw_data(error.response["Item"])
    return None


def _take_over(existing: IdempotencyRecord, *, at: datetime) -> Claim | None:
    """Lock an in-progress record whose lock expired (its request died, or gave the lock up with
    `idempotency_unlock`) for this request, with the same fingerprint. Its reference and lifetime are
    kept: what the earlier request may have started under the reference is continued under it, never
    started again, and never past the 24 hours the first claim began. None when another request
    changed the record first."""
    token = secrets.token_hex(16)
    same_lock = (
        IdempotencyRecord.lock_token.does_not_exist()
        if existing.lock_token is None
        else IdempotencyRecord.lock_token == existing.lock_token
    )
    try:
        existing.update(
            actions=[
                IdempotencyRecord.lock_token.set(token),
                IdempotencyRecord.lock_expires_at.set(_unix(at) + _lock_seconds()),
            ],
            condition=(
                (IdempotencyRecord.status == "in_progress")
                & same_lock
                & (IdempotencyRecord.lock_expires_at <= _unix(at))
                & (IdempotencyRecord.expires_at > at)
            ),
        )
    except UpdateError as error:
        if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        return None
    return Claim(record_key=existing.idempotency_key, token=token, reference=existing.reference, resumed=True)


def idempotency_record_expired(record: IdempotencyRecord, at: datetime) -> bool:
    return record.expires_at is not None and record.expires_at <= at


def idempotency_complete_in(transaction: TransactWrite, *, claim: Claim, status: int, body: str) -> None:
    """Add the completion of `claim` to a transaction: it commits only while this request holds the lock."""
    transaction.update(
        IdempotencyRecord(idempotency_key=claim.record_key),
        actions=[
            IdempotencyRecord.status.set("completed"),
            IdempotencyRecord.response_status.set(status),
            IdempotencyRecord.response_body.set(body),
            IdempotencyRecord.lock_expires_at.remove(),
        ],
        condition=(IdempotencyRecord.status == "in_progress") & (IdempotencyRecord.lock_token == claim.token),
    )


def idempotency_pending_in(transaction: TransactWrite, *, claim: Claim, payment_id: str) -> None:
    """Add to a transaction: the claimed request stored `payment_id` as `processing`; the record waits
    for its outcome (no lock: a retry resolves it rather than waiting)."""
    transaction.update(
        IdempotencyRecord(idempotency_key=claim.record_key),
        actions=[
            IdempotencyRecord.status.set("processing"),
            IdempotencyRecord.payment_id.set(payment_id),
            IdempotencyRecord.lock_expires_at.remove(),
        ],
        condition=(IdempotencyRecord.status == "in_progress") & (IdempotencyRecord.lock_token == claim.token),
    )


def idempotency_resolve_in(
    transaction: TransactWrite, *, record_key: str, payment_id: str, status: int, body: str
) -> None:
    """Add to a transaction: complete a `processing` record with its payment's outcome."""
    transaction.update(
        IdempotencyRecord(idempotency_key=record_key),
        actions=[
            IdempotencyRecord.status.set("completed"),
            IdempotencyRecord.response_status.set(status),
            IdempotencyRecord.response_body.set(body),
        ],
        condition=(IdempotencyRecord.status == "processing") & (IdempotencyRecord.payment_id == payment_id),
    )


def _now() -> datetime:
    return datetime.now(UTC)


def idempotency_release(*, claim: Claim) -> None:
    """Delete an in-progress claim this request still holds (nothing was written), so the key can be
    retried. A record completed or taken over meanwhile is left alone."""
    with contextlib.suppress(DeleteError):
        IdempotencyRecord(idempotency_key=claim.record_key).delete(
            condition=(IdempotencyRecord.status == "in_progress") & (IdempotencyRecord.lock_token == claim.token)
        )


def idempotency_unlock(*, claim: Claim) -> None:
    """Give up the lock of a claim but keep its record, reference included, for a request that may
    have started work outside under the reference and could not record it (a processor approved, and
    storing the payment failed): the next request with the same key and body takes the record over
    at once and continues that work under the same reference instead of starting it again. When this
    write fails too, the lock simply expires after `IDEMPOTENCY_LOCK_SECONDS`."""
    with contextlib.suppress(PynamoDBException):
        IdempotencyRecord(idempotency_key=claim.record_key).update(
            actions=[IdempotencyRecord.lock_expires_at.set(0)],
            condition=(IdempotencyRecord.status == "in_progress") & (IdempotencyRecord.lock_token == claim.token),
        )


def idempotency_reference_renew(*, claim: Claim) -> Claim:
    """Write a new random reference on the claim this request holds (the old one names work that is
    over: a voided authorization) and return the claim with it."""
    reference = _reference_new()
    IdempotencyRecord(idempotency_key=claim.record_key).update(
        actions=[IdempotencyRecord.reference.set(reference)],
        condition=(IdempotencyRecord.status == "in_progress") & (IdempotencyRecord.lock_token == claim.token),
    )
    return replace(claim, reference=reference, resumed=False)


def idempotency_claim_held(claim: Claim) -> bool:
    try:
        record = IdempotencyRecord.get(claim.record_key, consistent_read=True)
    except DoesNotExist:
        return False
    return record.lock_token == claim.token


def idempotency_claim_locked(claim: Claim, *, for_seconds: int, now: datetime | None = None) -> bool:
    """Whether this request still holds its lock and will for `for_seconds` more, so no other request
    can take the record over meanwhile. Storage errors reach the caller: then it cannot be known."""
    try:
        record = IdempotencyRecord.get(claim.record_key, consistent_read=True)
    except DoesNotExist:
        return False
    at = _unix(now or datetime.now(UTC))
    return (
        record.status == "in_progress"
        and record.lock_token == claim.token
        and (record.lock_expires_at or 0) > at + for_seconds
    )
