"""Idempotent requests (draft-ietf-httpapi-idempotency-key-header; the algorithm of AWS Lambda
Powertools' DynamoDB idempotency and of Stripe).

1. A conditional Put claims `<merchant_id>#<endpoint>#<Idempotency-Key>` as `in_progress` with the
   request's fingerprint, a random lock token and a lock expiry. It succeeds when no record exists,
   the old one expired (24 h; DynamoDB deletes late and DynamoDB Local never, so expired counts as
   absent), or the old one is in progress with an expired lock (its request died).
2. When the Put fails, the old record decides: completed with the same fingerprint is replayed,
   another fingerprint is `idempotency_key_reused` (422), in progress is `idempotency_key_in_use` (409).
3. The record is completed with the response (status and body) inside the payment change's own
   TransactWriteItems, through the services' `also_in_transaction` hook: the payment and its stored
   response exist together or not at all. The update is conditioned on still holding the lock.
4. When processing raises before it wrote anything, the claim is deleted (conditioned on the lock
   token), so the client can retry with the same key.
5. When the processor times out, the payment is stored as `processing` and, in the same transaction,
   the record becomes `processing` with the payment's id: the request is over but its outcome is not
   known. A retry with the same key and body resolves the payment (asks the processor, never charges
   again) and completes the record with the outcome, in one transaction; `payments recover` does the
   same for clients that never come back. Replays after that return the stored outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from core.errors import InvalidState
from idempotency.models import IdempotencyRecord
from idempotency.services import (
    KEY_HEADER,
    IdempotencyKeyInUse,
    Pending,
    StoredResponse,
    idempotency_claim,
    idempotency_claim_held,
    idempotency_complete_in,
    idempotency_pending_in,
    idempotency_record_expired,
    idempotency_release,
    idempotency_resolve_in,
)
from payments.enums import PaymentStatus
from payments.errors import PaymentFailed
from payments.services.changes import Outcome, TransactionHook


def idempotency_resolution_for(
    *, record_key: str | None, payment_id: str, render: Callable[[Outcome], tuple[int, str]]
) -> TransactionHook:
    """The hook that completes the record waiting for `payment_id` in the resolution's transaction, if
    it still waits (it may have expired, or been completed by a racing resolution, whose payment change
    then fails too)."""

    def complete_waiting_record(transaction: TransactWrite, outcome: Outcome) -> None:
        if record_key is None:
            return
        try:
            record = IdempotencyRecord.get(record_key, consistent_read=True)
        except DoesNotExist:
            return
        if (
            record.status == "processing"  # the idempotency record's own state (idempotency app)
            and record.payment_id == payment_id
            and not idempotency_record_expired(record, datetime.now(UTC))
        ):
            status, body = render(outcome)
            idempotency_resolve_in(transaction, record_key=record_key, payment_id=payment_id, status=status, body=body)

    return complete_waiting_record


def idempotent_change(
    *,
    merchant_id: str,
    endpoint: str,
    key: str,
    fingerprint: str,
    change: Callable[[TransactionHook], Any],
    render: Callable[[Outcome], tuple[int, str]],
    resolve: Callable[[str, TransactionHook], Any] | None = None,
    now: datetime | None = None,
) -> StoredResponse:
    """Run a payment change once per key. `change(hook)` calls a payment service with
    `also_in_transaction=hook`; `render(outcome)` is the response (status, body) stored with the
    change and returned. `resolve(payment_id, hook)` finishes a payment an earlier request with this
    key left `processing` (payment creation only)."""
    claimed = idempotency_claim(merchant_id=merchant_id, endpoint=endpoint, key=key, fingerprint=fingerprint, now=now)
    if isinstance(claimed, StoredResponse):
        return claimed
    if isinstance(claimed, Pending):
        return _resolve_pending(claimed, resolve=resolve, render=render)
    claim = claimed
    rendered: list[tuple[int, str]] = []
    pending: list[str] = []

    def record_outcome(transaction: TransactWrite, outcome: Outcome) -> None:
        if outcome.payment.status == PaymentStatus.PROCESSING:
            pending[:] = [outcome.payment.payment_id]
            idempotency_pending_in(transaction, claim=claim, payment_id=outcome.payment.payment_id)
            return
        status, body = render(outcome)
        rendered[:] = [(status, body)]
        idempotency_complete_in(transaction, claim=claim, status=status, body=body)

    started = time.monotonic()
    try:
        change(record_outcome)
    except PaymentFailed:
        if rendered:  # the declined payment and its stored 402 were committed together
            return StoredResponse(*rendered[0])
        idempotency_release(claim=claim)
        raise
    except TransactWriteError:
        if not idempotency_claim_held(claim):
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
    pending: Pending,
    *,
    resolve: Callable[[str, TransactionHook], Any] | None,
    render: Callable[[Outcome], tuple[int, str]],
) -> StoredResponse:
    """A retry of a request whose payment is `processing`: resolve it now and answer its outcome, the
    response the first request would have had (marked replayed: it belongs to that request)."""
    if resolve is None:
        raise IdempotencyKeyInUse(f"The request with this `{KEY_HEADER}` awaits the processor; retry later.")
    rendered: list[tuple[int, str]] = []
    complete_waiting_record = idempotency_resolution_for(
        record_key=pending.record_key, payment_id=pending.payment_id, render=render
    )

    def record_outcome(transaction: TransactWrite, outcome: Outcome) -> None:
        complete_waiting_record(transaction, outcome)
        rendered[:] = [render(outcome)]

    try:
        resolve(pending.payment_id, record_outcome)
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
