"""Payment writes. Each change is one TransactWriteItems: the payment (with its version condition),
its ledger entry, the summary counters and the audit event, so all of it exists or none of it does."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from audit.services import audit_condition, audit_event_new
from core import dynamodb, retry
from core.actor import Actor
from core.cards import CardInput, card_check, normalise_number
from core.errors import ValidationFailed
from core.ids import new_id
from core.ids import now as clock_now
from core.money import CURRENCIES
from payments import processor
from payments.errors import CardDeclined, InvalidPaymentState, PaymentFailed, ProcessorError
from payments.models import CardAttribute, Payment, Transaction
from payments.representations import payment_object
from payments.selectors import payment_get
from payments.services.events import webhook_event_for_payment_change
from payments.services.summaries import SummaryChanges
from webhooks import services as webhooks
from webhooks.tasks import webhook_delivery_enqueue

MIN_AMOUNT, MAX_AMOUNT = 1, 99_999_999
REFUND_REASONS = ("requested_by_customer", "duplicate", "fraudulent")
MAX_CONFLICT_RETRIES = 3
NEVER_RECEIVED = "processor_timeout"  # failure_code of a payment the processor never received


@dataclass(frozen=True)
class Refund:
    refund_id: str
    payment: Payment
    amount: int
    reason: str | None
    created: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """What a change will have done once its transaction commits. `extra` gets it before the commit,
    so a caller can record it (the idempotent response) in the same transaction."""

    payment: Payment  # as it reads after the commit
    refund: Refund | None = None
    declined: CardDeclined | None = None  # the payment failed: the 402 problem it answers


Extra = Callable[[TransactWrite, Outcome], None]


@dataclass
class Change:
    """Everything one payment change writes, committed in one transaction."""

    payment: Payment
    is_new: bool
    ledger: list[Transaction]
    summaries: SummaryChanges
    audit: Any
    payment_actions: list = field(default_factory=list)
    extra_condition: Any = None
    outcome: Outcome | None = None


def _commit(change: Change, *, extra: Extra | None = None) -> None:
    outcome = change.outcome or Outcome(payment=change.payment)
    event = webhook_event_for_payment_change(before=None if change.is_new else change.payment, after=outcome.payment)

    def send() -> None:
        with TransactWrite(connection=dynamodb.connection()) as transaction:
            if change.is_new:
                transaction.save(change.payment, condition=Payment.payment_id.does_not_exist())
            else:
                transaction.update(change.payment, actions=change.payment_actions, condition=change.extra_condition)
            for entry in change.ledger:
                transaction.save(entry, condition=Transaction.txn_id.does_not_exist())
            for item, actions in change.summaries.updates():
                transaction.update(item, actions=actions)
            transaction.save(change.audit, condition=audit_condition())
            if event is not None:
                transaction.save(event, condition=webhooks.webhook_event_condition())
            if extra is not None:
                extra(transaction, outcome)

    # A transaction cancelled for a conflict (another request touched a summary counter) is sent again.
    retry.transaction_retrying(send)
    if event is not None:
        webhook_delivery_enqueue(delivery=event)


def _ledger(payment: Payment, kind: str, amount: int, at: datetime, **fields: Any) -> Transaction:
    return Transaction(
        payment_id=payment.payment_id,
        txn_id=new_id("txn", at),
        merchant_id=payment.merchant_id,
        kind=kind,
        amount=amount,
        currency=payment.currency,
        created=at,
        **fields,
    )


def _check_amount(amount: int, param: str = "amount") -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationFailed(
            "The amount must be an integer in the currency's minor unit.", param=param, code="invalid_amount"
        )
    if amount < MIN_AMOUNT:
        raise ValidationFailed(f"The amount must be at least {MIN_AMOUNT}.", param=param, code="amount_too_small")
    if amount > MAX_AMOUNT:
        raise ValidationFailed(f"The amount must be at most {MAX_AMOUNT}.", param=param, code="amount_too_large")


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
    extra: Extra | None = None,
) -> Payment:
    """Authorize (and by default capture) a card payment. A decline stores the failed payment and
    raises `CardDeclined` naming it. A processor timeout stores the payment as `processing` (no
    ledger entry: nothing is known to have moved) and raises `ProcessorTimeout` naming it;
    `payment_resolve` finishes it later. `idempotency_record` is the key of the request's
    idempotency record: the processor reference is derived from it, so a retry of the same request
    is the same request at the processor. `extra(transaction, outcome)` adds writes to the same
    transaction (idempotency)."""
    at = now or clock_now()
    _check_amount(amount)
    currency = (currency or "").lower()
    if currency not in CURRENCIES:
        raise ValidationFailed(f"Unsupported currency {currency!r}.", param="currency", code="invalid_currency")
    facts = card_check(card, today=at.date())
    payment_id = new_id("pay", at)
    reference = processor.reference_for(idempotency_record or payment_id)
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
    try:
        authorization = processor.authorize(
            number=normalise_number(card.number), amount=amount, currency=currency, reference=reference
        )
    except processor.ProcessorTimeout:
        _create_processing(
            payment,
            actor=actor,
            reference=reference,
            capture=capture,
            idempotency_record=idempotency_record,
            extra=extra,
        )
        raise processor.ProcessorTimeout(
            "The processor did not answer in time. The payment is recorded as `processing` until the processor "
            "confirms its outcome: retry with the same Idempotency-Key, or read the payment, to get it.",
            payment_id=payment.payment_id,
        ) from None

    decision = _decide(payment, authorization, capture=capture, at=at)
    for name, value in decision.fields.items():
        setattr(payment, name, value)
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
        after=payment_object(payment),
        detail=authorization.decline_code,
        at=at,
    )
    declined = decision.declined(payment)
    change = Change(payment=payment, is_new=True, ledger=decision.ledger, summaries=summaries, audit=audit)
    change.outcome = Outcome(payment=payment, declined=declined)
    _commit(change, extra=extra)
    if declined is not None:
        raise declined
    return payment


@dataclass(frozen=True)
class _Decision:
    """What the processor's answer makes of a payment: its status, fields and ledger entries."""

    status: str
    fields: dict[str, Any]
    ledger: list[Transaction]
    captured: bool
    failure: type[CardDeclined] | None
    failure_detail: str = ""

    def declined(self, payment: Payment) -> CardDeclined | None:
        if self.failure is None:
            return None
        return self.failure(
            self.failure_detail, code=payment.failure_code, payment_id=payment.payment_id, payment=payment
        )


def _decide(payment: Payment, authorization: processor.Authorization, *, capture: bool, at: datetime) -> _Decision:
    amount = int(payment.amount)
    status = "failed"
    if authorization.approved:
        status = "succeeded" if capture else "requires_capture"
    ledger = [
        _ledger(
            payment,
            "authorization",
            amount,
            at,
            status="succeeded" if authorization.approved else "failed",
            reason=authorization.decline_code,
        )
    ]
    if status == "succeeded":
        ledger.append(_ledger(payment, "capture", amount, at))
    fields: dict[str, Any] = {"status": status, "amount_captured": amount if status == "succeeded" else 0}
    if authorization.decline_code:
        fields["failure_code"] = authorization.decline_code
    failure: type[CardDeclined] | None = None
    detail = ""
    if authorization.decline_code == NEVER_RECEIVED:
        failure, detail = PaymentFailed, "The processor never received the payment; nothing was charged."
    elif not authorization.approved:
        failure, detail = CardDeclined, f"The card was declined ({authorization.decline_code})."
    return _Decision(
        status=status,
        fields=fields,
        ledger=ledger,
        captured=status == "succeeded",
        failure=failure,
        failure_detail=detail,
    )


def _create_processing(
    payment: Payment,
    *,
    actor: Actor,
    reference: str,
    capture: bool,
    idempotency_record: str | None,
    extra: Extra | None,
) -> None:
    """Store a payment whose authorization timed out as `processing`, with what recovery needs."""
    payment.status = "processing"
    payment.merchant_status = f"{payment.merchant_id}#processing"
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
        after=payment_object(payment),
        detail="processor_timeout: recorded as processing until the processor confirms the outcome",
        at=payment.created,
    )
    change = Change(
        payment=payment,
        is_new=True,
        ledger=[],
        summaries=SummaryChanges(payment).status(old=None, new="processing"),
        audit=audit,
    )
    _commit(change, extra=extra)
    from payments.tasks import payment_recovery_enqueue  # the task module imports the services

    payment_recovery_enqueue(payment=payment)


def payment_resolve(
    *,
    merchant_id: str,
    payment_id: str,
    actor: Actor,
    now: datetime | None = None,
    extra: Extra | None = None,
) -> Payment:
    """Move a `processing` payment to what the processor decided for its reference: approved
    (`succeeded`, or `requires_capture` when it was created with `capture: false`), declined, or
    never received (`failed` with `failure_code` `processor_timeout`; nothing was charged). The
    processor is asked with `lookup`, never with a new authorization, so nothing is charged twice.
    Raises `ProcessorTimeout` when the processor still cannot answer (the payment stays
    `processing`) and `InvalidPaymentState` when the payment is not `processing` (any more)."""

    def attempt() -> Payment:
        at = now or clock_now()
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
        if payment.status != "processing":
            raise InvalidPaymentState(f"A {payment.status} payment is not waiting for the processor.")
        try:
            authorization = processor.lookup(reference=payment.processor_reference)
        except ProcessorError:
            raise processor.ProcessorTimeout(
                "The processor still cannot tell this payment's outcome; it stays `processing`. Retry later.",
                payment_id=payment.payment_id,
            ) from None
        found = authorization is not None
        if authorization is None:
            authorization = processor.Authorization(approved=False, decline_code=NEVER_RECEIVED)
        decision = _decide(payment, authorization, capture=bool(payment.capture_requested), at=at)
        summaries = SummaryChanges(payment)
        if decision.captured:
            summaries.captured(amount=int(payment.amount), at=at)
        if not found:
            detail = "the processor never received the request; nothing was charged"
        elif authorization.approved:
            detail = "the processor approved the authorization"
        else:
            detail = f"the processor declined the authorization ({authorization.decline_code})"
        fields = {name: value for name, value in decision.fields.items() if name != "status"}
        _change_status(
            payment,
            actor=actor,
            action="payment.resolve",
            new_status=decision.status,
            from_statuses=("processing",),
            at=at,
            set_fields=fields,
            ledger=decision.ledger,
            summaries=summaries,
            extra=extra,
            detail=detail,
            declined=decision.declined,
        )
        return payment_get(merchant_id=merchant_id, payment_id=payment_id)

    return _retrying(attempt)


def _retrying(operation: Callable[[], Payment]) -> Payment:
    """Run a read-modify-write again when another writer changed the payment first."""
    for attempt in range(MAX_CONFLICT_RETRIES + 1):
        try:
            return operation()
        except TransactWriteError as error:
            reasons = [getattr(r, "code", None) for r in (error.cancellation_reasons or []) if r]
            if (
                attempt == MAX_CONFLICT_RETRIES
                or not reasons
                or not set(reasons)
                <= {
                    "ConditionalCheckFailed",
                    "TransactionConflict",
                }
            ):
                raise
            time.sleep(retry.backoff(attempt))
    raise AssertionError("unreachable")


def _change_status(
    payment: Payment,
    *,
    actor: Actor,
    action: str,
    new_status: str,
    from_statuses: tuple[str, ...],
    at: datetime,
    set_fields: dict[str, Any],
    ledger: list[Transaction],
    summaries: SummaryChanges,
    extra: Extra | None,
    condition: Any = None,
    refund: Callable[[Payment], Refund] | None = None,
    declined: Callable[[Payment], CardDeclined | None] | None = None,
    detail: str | None = None,
) -> None:
    """Move a payment to `new_status` with its ledger entries, counters and audit event in one
    transaction. The version condition (and `from_statuses`) make a concurrent change fail."""
    before = payment_object(payment)
    summaries.status(old=payment.status, new=new_status)
    actions = [
        Payment.status.set(new_status),
        Payment.merchant_status.set(f"{payment.merchant_id}#{new_status}"),
        Payment.updated.set(at),
        *(getattr(Payment, name).set(value) for name, value in set_fields.items()),
    ]
    status_condition = Payment.status.is_in(*from_statuses)
    after = {**before, **set_fields, "status": new_status}
    after_payment = _as_after(
        payment,
        {**set_fields, "status": new_status, "merchant_status": f"{payment.merchant_id}#{new_status}", "updated": at},
    )
    audit = audit_event_new(
        merchant_id=payment.merchant_id,
        actor=actor,
        action=action,
        entity_type="payment",
        entity_id=payment.payment_id,
        before=before,
        after=after,
        detail=detail,
        at=at,
    )
    _commit(
        Change(
            payment=payment,
            is_new=False,
            ledger=ledger,
            summaries=summaries,
            audit=audit,
            payment_actions=actions,
            extra_condition=status_condition if condition is None else status_condition & condition,
            outcome=Outcome(
                payment=after_payment,
                refund=refund(after_payment) if refund else None,
                declined=declined(after_payment) if declined else None,
            ),
        ),
        extra=extra,
    )


def _as_after(payment: Payment, fields: dict[str, Any]) -> Payment:
    """A copy of `payment` with the fields a committed update will have set."""
    copy = Payment.from_raw_data(payment.serialize())
    for name, value in fields.items():
        setattr(copy, name, value)
    copy.version = int(payment.version or 0) + 1
    return copy


def payment_capture(
    *,
    merchant_id: str,
    payment_id: str,
    actor: Actor,
    amount: int | None = None,
    now: datetime | None = None,
    extra: Extra | None = None,
) -> Payment:
    """Capture an authorized payment, fully or in part (at most the authorized amount)."""

    def attempt() -> Payment:
        at = now or clock_now()
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
        if payment.status != "requires_capture":
            raise InvalidPaymentState(f"A {payment.status} payment cannot be captured.")
        to_capture = int(payment.amount) if amount is None else amount
        _check_amount(to_capture)
        if to_capture > payment.amount:
            raise ValidationFailed(
                "The capture amount exceeds the authorized amount.", param="amount", code="amount_exceeds_authorized"
            )
        _change_status(
            payment,
            actor=actor,
            action="payment.capture",
            new_status="succeeded",
            from_statuses=("requires_capture",),
            at=at,
            set_fields={"amount_captured": to_capture},
            ledger=[_ledger(payment, "capture", to_capture, at)],
            summaries=SummaryChanges(payment).captured(amount=to_capture, at=at),
            extra=extra,
        )
        return payment_get(merchant_id=merchant_id, payment_id=payment_id)

    return _retrying(attempt)


def payment_cancel(
    *,
    merchant_id: str,
    payment_id: str,
    actor: Actor,
    now: datetime | None = None,
    extra: Extra | None = None,
) -> Payment:
    """Release an authorization that was not captured."""

    def attempt() -> Payment:
        at = now or clock_now()
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
        if payment.status != "requires_capture":
            raise InvalidPaymentState(f"A {payment.status} payment cannot be canceled.")
        _change_status(
            payment,
            actor=actor,
            action="payment.cancel",
            new_status="canceled",
            from_statuses=("requires_capture",),
            at=at,
            set_fields={},
            ledger=[_ledger(payment, "cancel", int(payment.amount), at)],
            summaries=SummaryChanges(payment),
            extra=extra,
        )
        return payment_get(merchant_id=merchant_id, payment_id=payment_id)

    return _retrying(attempt)


def refund_create(
    *,
    merchant_id: str,
    payment_id: str,
    actor: Actor,
    amount: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
    extra: Extra | None = None,
) -> Refund:
    """Refund part or (by default) the rest of a captured payment. The refunded total can never pass
    the captured amount: the update is conditioned on the refunded total it read, so of two racing
    refunds the second re-reads and is checked again."""
    if reason is not None and reason not in REFUND_REASONS:
        raise ValidationFailed(
            f"The reason must be one of {', '.join(REFUND_REASONS)}.", param="reason", code="invalid_reason"
        )

    def attempt() -> Refund:
        at = now or clock_now()
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
        if payment.status not in ("succeeded", "partially_refunded"):
            raise InvalidPaymentState(f"A {payment.status} payment cannot be refunded.")
        captured, refunded = int(payment.amount_captured), int(payment.amount_refunded)
        to_refund = captured - refunded if amount is None else amount
        _check_amount(to_refund)
        if refunded + to_refund > captured:
            raise ValidationFailed(
                f"Refunding {to_refund} would take the refunded total past the captured {captured}.",
                param="amount",
                code="refund_exceeds_captured",
            )
        refund_id = new_id("re", at)
        new_refunded = refunded + to_refund
        _change_status(
            payment,
            actor=actor,
            action="payment.refund",
            new_status="refunded" if new_refunded == captured else "partially_refunded",
            from_statuses=("succeeded", "partially_refunded"),
            at=at,
            set_fields={"amount_refunded": new_refunded},
            ledger=[_ledger(payment, "refund", to_refund, at, reason=reason, refund_id=refund_id)],
            summaries=SummaryChanges(payment).refunded(amount=to_refund, at=at),
            extra=extra,
            condition=Payment.amount_refunded == refunded,
            refund=lambda after: Refund(
                refund_id=refund_id, payment=after, amount=to_refund, reason=reason, created=at
            ),
        )
        return Refund(
            refund_id=refund_id,
            payment=payment_get(merchant_id=merchant_id, payment_id=payment_id),
            amount=to_refund,
            reason=reason,
            created=at,
        )

    return _retrying(attempt)
