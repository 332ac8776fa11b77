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

from audit.services import Actor, audit_condition, audit_event_new
from payments import processor
from payments.cards import CardInput, card_check, normalise_number
from payments.currencies import CURRENCIES
from payments.models import CardAttribute, Payment, Transaction
from payments.representations import payment_object
from payments.selectors import payment_get
from payments.services import webhooks
from payments.services.summaries import SummaryChanges
from paysite import dynamodb, retry
from paysite.errors import CardDeclined, InvalidPaymentState, ValidationFailed
from paysite.ids import new_id
from paysite.ids import now as clock_now

MIN_AMOUNT, MAX_AMOUNT = 1, 99_999_999
REFUND_REASONS = ("requested_by_customer", "duplicate", "fraudulent")
MAX_CONFLICT_RETRIES = 3


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
    declined: CardDeclined | None = None


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
    event = webhooks.webhook_event_for_payment_change(
        before=None if change.is_new else change.payment, after=outcome.payment
    )

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
        webhooks.webhook_delivery_enqueue(delivery=event)


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
    now: datetime | None = None,
    extra: Extra | None = None,
) -> Payment:
    """Authorize (and by default capture) a card payment. A decline stores the failed payment and
    raises `CardDeclined` naming it. `extra(transaction, outcome)` adds writes to the same
    transaction (idempotency)."""
    at = now or clock_now()
    _check_amount(amount)
    currency = (currency or "").lower()
    if currency not in CURRENCIES:
        raise ValidationFailed(f"Unsupported currency {currency!r}.", param="currency", code="invalid_currency")
    facts = card_check(card, today=at.date())
    authorization = processor.authorize(number=normalise_number(card.number), amount=amount, currency=currency)

    status = "failed"
    if authorization.approved:
        status = "succeeded" if capture else "requires_capture"
    payment = Payment(
        payment_id=new_id("pay", at),
        merchant_id=merchant_id,
        merchant_status=f"{merchant_id}#{status}",
        status=status,
        amount=amount,
        currency=currency,
        amount_captured=amount if status == "succeeded" else 0,
        amount_refunded=0,
        customer_id=customer_id,
        description=description,
        metadata=metadata or {},
        card=CardAttribute(**facts.__dict__),
        failure_code=authorization.decline_code,
        created=at,
        updated=at,
    )
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
    summaries = SummaryChanges(payment).status(old=None, new=status)
    if status == "succeeded":
        ledger.append(_ledger(payment, "capture", amount, at))
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
    declined = None
    if not authorization.approved:
        declined = CardDeclined(
            f"The card was declined ({authorization.decline_code}).",
            code=authorization.decline_code,
            payment_id=payment.payment_id,
            payment=payment,
        )
    change = Change(payment=payment, is_new=True, ledger=ledger, summaries=summaries, audit=audit)
    change.outcome = Outcome(payment=payment, declined=declined)
    _commit(change, extra=extra)
    if declined is not None:
        raise declined
    return payment


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
            outcome=Outcome(payment=after_payment, refund=refund(after_payment) if refund else None),
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
