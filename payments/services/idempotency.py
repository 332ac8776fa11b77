"""Idempotent requests (draft-ietf-httpapi-idempotency-key-header; the algorithm of AWS Lambda
Powertools' DynamoDB idempotency and of Stripe).

1. A conditional Put claims `<merchant_id>#<endpoint>#<Idempotency-Key>` as `in_progress` with the
   request's fingerprint, a random lock token, a lock expiry and a random processor reference. It
   succeeds when no record exists or the old one expired (24 h; DynamoDB deletes late and DynamoDB
   Local never, so expired counts as absent): a key reused after its record expired is a new request,
   with a new reference, never the old request at the processor.
2. When the Put fails, the old record decides: another fingerprint is `idempotency_key_reused` (422);
   completed is replayed; in progress with an expired or released lock (its request died, or could
   not record what the processor did) is taken over with its reference, so the retry continues the
   same request at the processor (`ClaimHook.resumed`); in progress otherwise is
   `idempotency_key_in_use` (409).
3. The record is completed with the response (status and body) inside the payment change's own
   TransactWriteItems, through the services' `also_in_transaction` hook: the payment and its stored
   response exist together or not at all. The update is conditioned on still holding the lock.
4. When processing raises before it wrote anything, the claim is deleted (conditioned on the lock
   token), so the client can retry with the same key, unless the processor may hold an authorization
   under the claim's reference (`ClaimHook.processor_may_hold`: it approved and recording or voiding
   failed, it timed out, the request crashed after asking it): then the claim is kept with its
   reference and only its lock is released, and the retry asks the processor what it decided for
   that reference before it authorizes anything.
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
    Claim,
    IdempotencyKeyInUse,
    Pending,
    StoredResponse,
    idempotency_claim,
    idempotency_claim_held,
    idempotency_claim_locked,
    idempotency_complete_in,
    idempotency_pending_in,
    idempotency_record_expired,
    idempotency_reference_renew,
    idempotency_release,
    idempotency_resolve_in,
    idempotency_unlock,
)
from payments import processor
from payments.enums import PaymentStatus
from payments.errors import PaymentFailed
from payments.services.changes import Outcome, TransactionHook


class ClaimHook:
    """The `also_in_transaction` hook `idempotent_change` gives the change. Called with the change's
    transaction and outcome, it adds the record's completion with the rendered response (or, for a
    payment left `processing`, the record's wait for it). It also carries what the claim means at the
    processor, for `payment_create`: the reference to send and whether an earlier request with this
    key may already have been decided under it."""

    def __init__(self, claim: Claim, render: Callable[[Outcome], tuple[int, str]]):
        self.claim = claim
        self.render = render
        self.rendered: tuple[int, str] | None = None
        # Whether the processor may hold an authorization under `reference`: from the start when the
        # claim was taken over from a request that stopped; `payment_create` keeps it up to date.
        self.processor_may_hold = claim.resumed

    @property
    def reference(self) -> str:
        """The processor reference: the random one written with the claim. A record claimed before
        references were stored has none; for those only, the one derived from the record's key,
        which is what the request that claimed it sent."""
        return self.claim.reference or processor.reference_for(self.claim.record_key)

    @property
    def resumed(self) -> bool:
        """The claim was taken over from an earlier request with this key and body, which may have
        reached the processor under `reference` before it stopped."""
        return self.claim.resumed

    def reference_renew(self) -> str:
        """A new reference, written on the claim under its lock, for when the old one is over (its
        authorization was voided): the retry is then a new request at the processor."""
        self.claim = idempotency_reference_renew(claim=self.claim)
        return self.reference

    def still_locked(self, *, for_seconds: int) -> bool:
        """Whether this request holds the claim for `for_seconds` more: no retry can take it over and
        continue under the reference meanwhile. Storage errors reach the caller."""
        return idempotency_claim_locked(self.claim, for_seconds=for_seconds)

    def __call__(self, transaction: TransactWrite, outcome: Outcome) -> None:
        if outcome.payment.status == PaymentStatus.PROCESSING:
            idempotency_pending_in(transaction, claim=self.claim, payment_id=outcome.payment.payment_id)
            return
        self.rendered = self.render(outcome)
        status, body = self.rendered
        idempotency_complete_in(transaction, claim=self.claim, status=status, body=body)

    def give_back(self) -> None:
        """The change failed and committed nothing: delete the claim so the key starts afresh, or, when
        the processor may hold an authorization under its reference, keep it and release its lock."""
        if self.processor_may_hold:
            idempotency_unlock(claim=self.claim)
        else:
            idempotency_release(claim=self.claim)


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
    `also_in_transaction=hook` (a `ClaimHook`); `render(outcome)` is the response (status, body)
    stored with the change and returned. `resolve(payment_id, hook)` finishes a payment an earlier
    request with this key left `processing` (payment creation only)."""
    claimed = idempotency_claim(merchant_id=merchant_id, endpoint=endpoint, key=key, fingerprint=fingerprint, now=now)
    if isinstance(claimed, StoredResponse):
        return claimed
    if isinstance(claimed, Pending):
        return _resolve_pending(claimed, resolve=resolve, render=render)
    hook = ClaimHook(claimed, render)

    started = time.monotonic()
    try:
        change(hook)
    except PaymentFailed:
        if hook.rendered:  # the declined payment and its stored 402 were committed together
            return StoredResponse(*hook.rendered)
        hook.give_back()
        raise
    except TransactWriteError:
        if not idempotency_claim_held(hook.claim):
            raise IdempotencyKeyInUse(
                f"Another request with this `{KEY_HEADER}` took over after {time.monotonic() - started:.0f} s; "
                "retry to get its result.",
                param=KEY_HEADER,
            ) from None
        hook.give_back()
        raise
    except BaseException:
        hook.give_back()  # conditioned on `in_progress`: a record left `processing` waits for its payment
        raise
    if not hook.rendered:
        hook.give_back()
        raise RuntimeError("the change committed nothing to record")
    return StoredResponse(*hook.rendered)


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
