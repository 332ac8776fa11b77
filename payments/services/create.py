"""Creating a payment: authorize (and by default capture) a card, and store the outcome.

When the processor approved and the transaction that records the payment fails for storage (not a
condition: that is another request with the same key taking over, which continues under the same
reference), the approval must not be left behind unrecorded. If the payment was recorded after all
(the answer was lost), it stands. Otherwise the approval is voided at the processor (a captured
charge is reversed in full) and the answer is 503 saying so: nothing was charged, no payment exists,
and the key starts afresh. If the void fails too, or it cannot be known whether the payment was
recorded, the idempotency claim is kept with its reference (`ClaimHook.processor_may_hold`) and the
503 says so: the retry with the same key and body asks the processor what it decided for that
reference and records it, never charging twice."""

from __future__ import annotations

import logging
from datetime import datetime

from botocore.exceptions import BotoCoreError
from pynamodb.exceptions import DoesNotExist, PynamoDBException, TransactWriteError

from audit.services import audit_event_new
from core import retry
from core.actor import Actor
from core.cards import CardInput, card_check, normalise_number
from core.errors import StorageUnavailable, ValidationFailed
from core.ids import new_id
from core.ids import now as clock_now
from core.money import CURRENCIES
from payments import hooks, processor
from payments.audit import payment_snapshot
from payments.enums import PaymentStatus
from payments.errors import ProcessorError
from payments.models import CardAttribute, Payment
from payments.services.authorizations import authorization_decide
from payments.services.changes import Change, Outcome, TransactionHook, amount_check, change_commit
from payments.services.idempotency import ClaimHook
from payments.services.summaries import SummaryChanges

logger = logging.getLogger(__name__)

_STORAGE_ERRORS = (PynamoDBException, BotoCoreError)
# A void is sent only while the claim stays locked this much longer: no retry can take the claim
# over, and continue under the reference, while the approval is being voided.
VOID_LOCK_MARGIN_SECONDS = 10

APPROVAL_VOIDED = (
    "The card was authorized, but the database did not answer and the payment could not be recorded, so the "
    "authorization was voided at the processor (a captured charge is reversed in full): nothing was charged "
    "and no payment was created. Retry the request; the same Idempotency-Key may be used."
)
APPROVAL_KEPT = (
    "The card was authorized, but the database did not answer and the payment could not be recorded, and "
    "voiding the authorization at the processor failed too, so it stands. Retry with the same "
    "Idempotency-Key and body: the retry asks the processor for this authorization and records it, "
    "without charging again."
)
APPROVAL_UNKNOWN = (
    "The card was authorized, but the database did not answer and it is not known whether the payment was "
    "recorded, so the authorization stands. Retry with the same Idempotency-Key and body: the retry returns "
    "the recorded payment, or asks the processor for this authorization and records it, without charging again."
)
TIMEOUT_UNRECORDED = (
    "The processor did not answer in time and the database did not answer either, so the payment could not "
    "be recorded. Retry with the same Idempotency-Key and body: the retry asks the processor what it decided "
    "for this request and records it, without charging again."
)


def payment_create(
    *,
    merchant_id: str,
    actor: Actor,
    amount: int,
    currency: str,
    card: CardInput,
    capture: bool = True,
    customer_id: str | None = None,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    idempotency_record: str | None = None,
    now: datetime | None = None,
    also_in_transaction: TransactionHook | None = None,
) -> Payment:
    """Authorize (and by default capture) a card payment. A decline stores the failed payment and
    raises `CardDeclined` naming it (`PaymentFailed` when the processor never received it). A
    processor timeout stores the payment as `processing` (no ledger entry: nothing is known to have
    moved) and raises `ProcessorTimeout` naming it; `payment_resolve` finishes it later. An approval
    that cannot be recorded is voided (see the module) and raises `StorageUnavailable` saying what
    happened. `idempotency_record` is the key of the request's idempotency record (kept on a
    `processing` payment, for recovery to answer its client).
    `also_in_transaction(transaction, outcome)` adds writes to the same transaction. When it is the
    `ClaimHook` of `idempotent_change`, the processor reference is the random one of the request's
    claim, so a retry that takes the claim over is the same request at the processor, and a claim taken
    over from a request that stopped is first looked up at the processor, never authorized twice.
    Without it the reference is derived from the payment id."""
    at = now or clock_now()
    amount_check(amount)
    currency = (currency or "").lower()
    if currency not in CURRENCIES:
        raise ValidationFailed(f"Unsupported currency {currency!r}.", param="currency", code="invalid_currency")
    facts = card_check(card, today=at.date())
    payment_id = new_id("pay", at)
    claim = also_in_transaction if isinstance(also_in_transaction, ClaimHook) else None
    payment = Payment(
        payment_id=payment_id,
        merchant_id=merchant_id,
        amount=amount,
        currency=currency,
        amount_captured=0,
        amount_refunded=0,
        customer_id=customer_id,
        description=description,
        metadata=metadata or {},
        card=CardAttribute(**facts.__dict__),
        created=at,
        updated=at,
    )
    authorization = _earlier_decision(claim)
    reference = claim.reference if claim is not None else processor.reference_for(idempotency_record or payment_id)
    try:
        if authorization is None:
            authorization = _authorize(
                claim, number=normalise_number(card.number), amount=amount, currency=currency, reference=reference
            )
    except processor.ProcessorTimeout:
        try:
            _create_processing(
                payment,
                actor=actor,
                reference=reference,
                capture=capture,
                idempotency_record=idempotency_record,
                also_in_transaction=also_in_transaction,
            )
        except _STORAGE_ERRORS as error:
            if _condition_failed(error):
                raise
            raise StorageUnavailable(TIMEOUT_UNRECORDED, retry_after=1) from error
        raise processor.ProcessorTimeout(
            "The processor did not answer in time. The payment is recorded as `processing` until the processor "
            "confirms its outcome: retry with the same Idempotency-Key, or read the payment, to get it.",
            payment_id=payment.payment_id,
        ) from None

    decision = authorization_decide(payment, authorization, capture=capture, at=at)
    for name, value in decision.fields.items():
        setattr(payment, name, value)
    if claim is not None:  # a random reference, kept only by the claim (24 h): the expiry's void needs it
        payment.processor_reference = reference
    payment.merchant_status = f"{merchant_id}#{decision.status}"
    summaries = SummaryChanges(payment).status(old=None, new=decision.status)
    if decision.captured:
        summaries.captured(amount=amount, at=at)
    audit = audit_event_new(
        merchant_id=merchant_id,
        actor=actor,
        action="payment.create",
        entity_type="payment",
        entity_id=payment.payment_id,
        outcome="success" if authorization.approved else "failure",
        after=payment_snapshot(payment),
        detail=authorization.decline_code,
        at=at,
    )
    declined = decision.declined(payment)
    change = Change(payment=payment, is_new=True, ledger=decision.ledger, summaries=summaries, audit=audit)
    change.outcome = Outcome(payment=payment, declined=declined)
    # A new item conditioned on not existing: only a conflict or throttling is worth sending again.
    try:
        retry.transaction_retrying(lambda: change_commit(change, also_in_transaction=also_in_transaction))
    except _STORAGE_ERRORS as error:
        if not authorization.approved or _condition_failed(error):
            raise
        _approval_unrecorded(payment, reference=reference, claim=claim, error=error)
    if declined is not None:
        raise declined
    if decision.captured:
        hooks.captured(payment)
    return payment


def _earlier_decision(claim: ClaimHook | None) -> processor.Authorization | None:
    """For a claim taken over from a request with the same key and body that stopped: what the
    processor decided for its reference, which the retry records instead of authorizing again. A
    voided authorization is over: the claim gets a new reference and the retry authorizes afresh.
    None when there is nothing to continue (then `_authorize` asks the processor)."""
    if claim is None or not claim.resumed:
        return None
    try:
        earlier = processor.lookup(reference=claim.reference)
    except ProcessorError:  # the claim keeps its reference for the next retry
        raise ProcessorError(
            "The processor cannot tell what it decided for an earlier attempt of this request; nothing more was "
            "charged. Retry with the same Idempotency-Key."
        ) from None
    if earlier is not None and earlier.voided:
        claim.reference_renew()
        claim.processor_may_hold = False
        return None
    if earlier is not None and not earlier.approved:
        claim.processor_may_hold = False
    return earlier


def _authorize(
    claim: ClaimHook | None, *, number: str, amount: int, currency: str, reference: str
) -> processor.Authorization:
    """Ask the processor, telling the claim whether it may now hold an authorization under the
    reference: yes from the moment it is asked (a crash or a timeout leaves it unknown), no once it
    declined or answered that it charged nothing."""
    if claim is not None:
        claim.processor_may_hold = True
    try:
        authorization = processor.authorize(number=number, amount=amount, currency=currency, reference=reference)
    except processor.ProcessorTimeout:
        raise
    except ProcessorError:
        if claim is not None:
            claim.processor_may_hold = False
        raise
    if claim is not None and not authorization.approved:
        claim.processor_may_hold = False
    return authorization


def _condition_failed(error: Exception) -> bool:
    """A condition of the transaction failed: another request took the idempotency claim over (and
    continues under the same reference), never a storage failure."""
    return isinstance(error, TransactWriteError) and "ConditionalCheckFailed" in retry.cancellation_codes(error)


def _approval_unrecorded(payment: Payment, *, reference: str, claim: ClaimHook | None, error: Exception) -> None:
    """The processor approved `payment` under `reference` and the transaction recording it failed for
    storage. Returns when the payment was recorded after all (the transaction's answer was lost);
    otherwise voids the approval at the processor, or keeps it recoverable, and raises
    `StorageUnavailable` saying which."""
    try:
        recorded = _exists(payment)
        locked = claim is None or claim.still_locked(for_seconds=VOID_LOCK_MARGIN_SECONDS)
    except _STORAGE_ERRORS:
        logger.error("payment %s: approved under %s; whether it was recorded is unknown", payment.payment_id, reference)
        raise StorageUnavailable(APPROVAL_UNKNOWN, retry_after=1) from error
    if recorded:
        return
    if not locked:  # another request with the key takes (or took) the claim over, under this reference
        raise StorageUnavailable(APPROVAL_KEPT, retry_after=1) from error
    try:
        processor.void(reference=reference, amount=int(payment.amount), currency=payment.currency)
    except ProcessorError:
        logger.error("payment %s: approved under %s, not recorded, and the void failed", payment.payment_id, reference)
        raise StorageUnavailable(APPROVAL_KEPT, retry_after=1) from error
    if claim is not None:
        claim.processor_may_hold = False
    logger.warning("payment %s: approved under %s, not recorded: voided", payment.payment_id, reference)
    raise StorageUnavailable(APPROVAL_VOIDED, retry_after=1) from error


def _exists(payment: Payment) -> bool:
    try:
        Payment.get(payment.payment_id, consistent_read=True)
    except DoesNotExist:
        return False
    return True


def _create_processing(
    payment: Payment,
    *,
    actor: Actor,
    reference: str,
    capture: bool,
    idempotency_record: str | None,
    also_in_transaction: TransactionHook | None,
) -> None:
    """Store a payment whose authorization timed out as `processing`, with what recovery needs."""
    payment.status = PaymentStatus.PROCESSING
    payment.merchant_status = f"{payment.merchant_id}#{PaymentStatus.PROCESSING}"
    payment.processor_reference = reference
    payment.capture_requested = capture
    payment.idempotency_record = idempotency_record
    audit = audit_event_new(
        merchant_id=payment.merchant_id,
        actor=actor,
        action="payment.create",
        entity_type="payment",
        entity_id=payment.payment_id,
        outcome="failure",
        after=payment_snapshot(payment),
        detail="processor_timeout: recorded as processing until the processor confirms the outcome",
        at=payment.created,
    )
    change = Change(
        payment=payment,
        is_new=True,
        ledger=[],
        summaries=SummaryChanges(payment).status(old=None, new=PaymentStatus.PROCESSING),
        audit=audit,
    )
    retry.transaction_retrying(lambda: change_commit(change, also_in_transaction=also_in_transaction))
    from payments.tasks import payment_recovery_enqueue  # the task module imports the services

    payment_recovery_enqueue(payment=payment)
