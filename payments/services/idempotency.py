"""Idempotent requests (draft-ietf-httpapi-idempotency-key-header; the algorithm of AWS Lambda
Powertools' DynamoDB idempotency and of Stripe).

1. A conditional Put claims `<merchant_id>#<endpoint>#<Idempotency-Key>` as `in_progress` with the
   request's fingerprint, a random lock token and a lock expiry. It succeeds when no record exists,
   the old one expired (24 h; DynamoDB deletes late and DynamoDB Local never, so expired counts as
   absent), or the old one is in progress with an expired lock (its request died).
2. When the Put fails, the old record decides: completed with the same fingerprint is replayed,
   another fingerprint is `idempotency_key_reused` (422), in progress is `idempotency_key_in_use` (409).
3. The record is completed with the response (status and body) inside the payment change's own
   TransactWriteItems, through the services' `extra` hook: the payment and its stored response exist
   together or not at all. The update is conditioned on still holding the lock.
4. When processing raises before it wrote anything, the claim is deleted (conditioned on the lock
   token), so the client can retry with the same key.
5. When the processor times out, the payment is stored as `processing` and, in the same transaction,
   the record becomes `processing` with the payment's id: the request is over but its outcome is not
   known. A retry with the same key and body resolves the payment (asks the processor, never charges
   again) and completes the record with the outcome, in one transaction; `payments recover` does the
   same for clients that never come back. Replays after that return the stored outcome.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from payments.models import IdempotencyRecord
from payments.services.payments import Extra, Outcome
from paysite.errors import CardDeclined, DomainError, InvalidState

KEY_HEADER = "Idempotency-Key"
RECORD_LIFETIME = timedelta(hours=24)
_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")
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
    """An in-progress record this request holds."""

    record_key: str
    token: str


def idempotency_key_check(*, key: str | None) -> str:
    if key is None or key == "":
        raise IdempotencyKeyMissing(
            f"Send an `{KEY_HEADER}` header (1 to 255 printable ASCII characters) with this request.",
            param=KEY_HEADER,
        )
    if not _KEY.match(key):
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


def idempotency_claim(
    *, merchant_id: str, endpoint: str, key: str, fingerprint: str, now: datetime | None = None
) -> Claim | StoredResponse | Pending:
    """Claim the key for this request, or answer from the record another request left."""
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
            created=at,
            expires_at=at + RECORD_LIFETIME,
        )
        condition = (
            IdempotencyRecord.idempotency_key.does_not_exist()
            | (IdempotencyRecord.expires_at <= at)
            | ((IdempotencyRecord.status == "in_progress") & (IdempotencyRecord.lock_expires_at <= _unix(at)))
        )
        try:
            record.save(condition=condition)
            return Claim(record_key=record_key, token=token)
        except PutError as error:
            if getattr(error, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise
        # pynamodb's PutItem does not return the old item on a failed condition: read it, consistently.
        try:
            existing = IdempotencyRecord.get(record_key, consistent_read=True)
        except DoesNotExist:
            continue  # released between our Put and this read: try again
        if _is_expired(existing, at) or (
            existing.status == "in_progress" and (existing.lock_expires_at or 0) <= _unix(at)
        ):
            continue
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                f"This `{KEY_HEADER}` was used for a different request to this endpoint in the last 24 hours; "
                "use a new key for a new request.",
                param=KEY_HEADER,
            )
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


def _is_expired(record: IdempotencyRecord, at: datetime) -> bool:
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


def idempotency_resolution_for(
    *, record_key: str | None, payment_id: str, render: Callable[[Outcome], tuple[int, str]]
) -> Extra:
    """The `extra` that completes the record waiting for `payment_id`, if it still waits (it may have
    expired, or been completed by a racing resolution, whose payment change then fails too)."""

    def extra(transaction: TransactWrite, outcome: Outcome) -> None:
        if record_key is None:
            return
        try:
            record = IdempotencyRecord.get(record_key, consistent_read=True)
        except DoesNotExist:
            return
        if record.status == "processing" and record.payment_id == payment_id and not _is_expired(record, _now()):
            status, body = render(outcome)
            idempotency_resolve_in(transaction, record_key=record_key, payment_id=payment_id, status=status, body=body)

    return extra


def _now() -> datetime:
    return datetime.now(UTC)


def idempotency_release(*, claim: Claim) -> None:
    """Delete an in-progress claim this request still holds (nothing was written), so the key can be
    retried. A record completed or taken over meanwhile is left alone."""
    with contextlib.suppress(DeleteError):
        IdempotencyRecord(idempotency_key=claim.record_key).delete(
            condition=(IdempotencyRecord.status == "in_progress") & (IdempotencyRecord.lock_token == claim.token)
        )


def _holds(claim: Claim) -> bool:
    try:
        record = IdempotencyRecord.get(claim.record_key, consistent_read=True)
    except DoesNotExist:
        return False
    return record.lock_token == claim.token


def idempotent_change(
    *,
    merchant_id: str,
    endpoint: str,
    key: str,
    fingerprint: str,
    change: Callable[[Extra], Any],
    render: Callable[[Outcome], tuple[int, str]],
    resolve: Callable[[str, Extra], Any] | None = None,
    now: datetime | None = None,
) -> StoredResponse:
    """Run a payment change once per key. `change(extra)` calls a payment service with `extra`;
    `render(outcome)` is the response (status, body) stored with the change and returned.
    `resolve(payment_id, extra)` finishes a payment an earlier request with this key left
    `processing` (payment creation only)."""
    claimed = idempotency_claim(merchant_id=merchant_id, endpoint=endpoint, key=key, fingerprint=fingerprint, now=now)
    if isinstance(claimed, StoredResponse):
        return claimed
    if isinstance(claimed, Pending):
        return _resolve_pending(claimed, resolve=resolve, render=render)
    claim = claimed
    rendered: list[tuple[int, str]] = []
    pending: list[str] = []

    def extra(transaction: TransactWrite, outcome: Outcome) -> None:
        if outcome.payment.status == "processing":
            pending[:] = [outcome.payment.payment_id]
            idempotency_pending_in(transaction, claim=claim, payment_id=outcome.payment.payment_id)
            return
        status, body = render(outcome)
        rendered[:] = [(status, body)]
        idempotency_complete_in(transaction, claim=claim, status=status, body=body)

    started = time.monotonic()
    try:
        change(extra)
    except CardDeclined:
        if rendered:  # the declined payment and its stored 402 were committed together
            return StoredResponse(*rendered[0])
        idempotency_release(claim=claim)
        raise
    except TransactWriteError:
        if not _holds(claim):
            raise IdempotencyKeyInUse(
                f"Another request with this `{KEY_HEADER}` took over after {time.monotonic() - started:.0f} s; "
                "retry to get its result.",
                param=KEY_HEADER,
            ) from None
        idempotency_release(claim=claim)
        raise
    except BaseException:
        if not pending:  # a `processing` payment keeps its record: a retry resolves it
            idempotency_release(claim=claim)
        raise
    if not rendered:
        idempotency_release(claim=claim)
        raise RuntimeError("the change committed nothing to record")
    return StoredResponse(*rendered[0])


def _resolve_pending(
    pending: Pending, *, resolve: Callable[[str, Extra], Any] | None, render: Callable[[Outcome], tuple[int, str]]
) -> StoredResponse:
    """A retry of a request whose payment is `processing`: resolve it now and answer its outcome, the
    response the first request would have had (marked replayed: it belongs to that request)."""
    if resolve is None:
        raise IdempotencyKeyInUse(f"The request with this `{KEY_HEADER}` awaits the processor; retry later.")
    rendered: list[tuple[int, str]] = []
    record_extra = idempotency_resolution_for(
        record_key=pending.record_key, payment_id=pending.payment_id, render=render
    )

    def extra(transaction: TransactWrite, outcome: Outcome) -> None:
        record_extra(transaction, outcome)
        rendered[:] = [render(outcome)]

    try:
        resolve(pending.payment_id, extra)
    except (InvalidState, TransactWriteError):
        pass  # resolved meanwhile by recovery or another retry: its stored outcome answers
    else:
        if rendered:
            return StoredResponse(*rendered[0], replayed=True)
    try:
        record = IdempotencyRecord.get(pending.record_key, consistent_read=True)
    except DoesNotExist:  # expired and swept meanwhile: the next retry claims the key afresh
        record = None
    if record is not None and record.status == "completed":
        return StoredResponse(status=int(record.response_status), body=record.response_body or "", replayed=True)
    raise IdempotencyKeyInUse(
        f"The request with this `{KEY_HEADER}` is being resolved; retry to get its outcome.",
        param=KEY_HEADER,
        retry_after=1,
    )
