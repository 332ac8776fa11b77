"""What every payment change shares: the commit of one change, its ledger entries and its checks.

Each change is one TransactWriteItems: the payment (with its version condition), its ledger entries,
the summary counters, the audit event and the webhook event, so all of it exists or none of it does.
`change_commit` sends it once; the operation around it (create, capture, ...) runs it inside
`core.retry.transaction_retrying`, the one retry policy for transactions, exactly once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pynamodb.transactions import TransactWrite

from audit.services import audit_condition, audit_event_new
from core import dynamodb
from core.actor import Actor
from core.errors import ValidationFailed
from core.ids import new_id
from payments.audit import payment_snapshot
from payments.enums import MAX_AMOUNT, MIN_AMOUNT, PaymentStatus, TransactionKind
from payments.errors import PaymentFailed
from payments.models import Payment, Transaction
from payments.services.events import webhook_event_for_payment_change
from payments.services.summaries import SummaryChanges
from search import index as search_index
from webhooks import services as webhooks
from webhooks.tasks import webhook_delivery_enqueue


@dataclass(frozen=True)
class Refund:
    refund_id: str
    payment: Payment
    amount: int
    reason: str | None
    created: datetime | None = None


@dataclass(frozen=True)
class Outcome:
    """What a change will have done once its transaction commits. The `also_in_transaction` hook gets
    it before the commit, so a caller can record it (the idempotent response) in the same transaction;
    the service returns it (its payment, or its refund) after the commit."""

    payment: Payment  # exactly as a read will return it after the commit
    refund: Refund | None = None
    declined: PaymentFailed | None = None  # the payment failed: the 402 problem it answers
    refund_request: Any = None  # a `RefundRequest` made instead of a refund (four-eyes approval)


# Adds the caller's own writes (an idempotency record) to a payment change's transaction.
TransactionHook = Callable[[TransactWrite, Outcome], None]


@dataclass
class Change:
    """Everything one payment change writes, committed in one transaction."""

    payment: Payment
    is_new: bool
    ledger: list[Transaction]
    summaries: SummaryChanges
    audit: Any
    payment_actions: list = field(default_factory=list)
    payment_condition: Any = None  # on the payment's update, besides its version
    outcome: Outcome | None = None


def change_commit(change: Change, *, also_in_transaction: TransactionHook | None = None) -> Outcome:
    """Send the change's TransactWriteItems once, then queue its webhook event. A cancellation raises
    `TransactWriteError`: the caller's `transaction_retrying` decides whether to send it again."""
    outcome = change.outcome or Outcome(payment=change.payment)
    event = webhook_event_for_payment_change(before=None if change.is_new else change.payment, after=outcome.payment)
    with TransactWrite(connection=dynamodb.connection()) as transaction:
        if change.is_new:
            if change.summaries.payment_pending:
                change.payment.balance_pending = change.summaries.payment_pending
            transaction.save(change.payment, condition=Payment.payment_id.does_not_exist())
        else:
            transaction.update(change.payment, actions=change.payment_actions, condition=change.payment_condition)
        for entry in change.ledger:
            transaction.save(entry, condition=Transaction.txn_id.does_not_exist())
        for item, actions in change.summaries.updates():
            transaction.update(item, actions=actions)
        transaction.save(change.audit, condition=audit_condition())
        if event is not None:
            transaction.save(event, condition=webhooks.webhook_event_condition())
        if also_in_transaction is not None:
            also_in_transaction(transaction, outcome)
    if event is not None:
        webhook_delivery_enqueue(delivery=event)
    search_index.after_commit("payment", [outcome.payment.serialize()])
    return outcome


def ledger_entry(
    payment: Payment, kind: TransactionKind, amount: int, at: datetime, txn_id: str | None = None, **fields: Any
) -> Transaction:
    """A ledger entry of `payment`; `txn_id` when entries of one change must list in their order."""
    return Transaction(
        payment_id=payment.payment_id,
        txn_id=txn_id or new_id("txn", at),
        merchant_id=payment.merchant_id,
        kind=kind,
        amount=amount,
        currency=payment.currency,
        created=at,
        **fields,
    )


def amount_check(amount: int, param: str = "amount") -> None:
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValidationFailed(
            "The amount must be an integer in the currency's minor unit.", param=param, code="invalid_amount"
        )
    if amount < MIN_AMOUNT:
        raise ValidationFailed(f"The amount must be at least {MIN_AMOUNT}.", param=param, code="amount_too_small")
    if amount > MAX_AMOUNT:
        raise ValidationFailed(f"The amount must be at most {MAX_AMOUNT}.", param=param, code="amount_too_large")


def status_change(
    payment: Payment,
    *,
    actor: Actor,
    action: str,
    new_status: PaymentStatus,
    from_statuses: tuple[PaymentStatus, ...],
    at: datetime,
    set_fields: dict[str, Any],
    ledger: list[Transaction],
    summaries: SummaryChanges,
    also_in_transaction: TransactionHook | None,
    condition: Any = None,
    refund: Callable[[Payment], Refund] | None = None,
    declined: Callable[[Payment], PaymentFailed | None] | None = None,
    detail: str | None = None,
) -> Outcome:
    """Move a payment (as just read) to `new_status` with its ledger entries, counters and audit
    event in one transaction, sent once. The version condition (and `from_statuses`) make a
    concurrent change fail; the caller reads again and retries. Returns the outcome, whose payment
    (and refund) are what a read after the commit returns."""
    before = payment_snapshot(payment)
    summaries.status(old=payment.status, new=new_status)
    merchant_status = f"{payment.merchant_id}#{new_status}"
    actions = [
        Payment.status.set(new_status),
        Payment.merchant_status.set(merchant_status),
        Payment.updated.set(at),
        *(getattr(Payment, name).set(value) for name, value in set_fields.items()),
        *summaries.payment_actions(),
    ]
    status_condition = Payment.status.is_in(*from_statuses)
    after = {**before, **set_fields, "status": new_status}
    moved = {"balance_pending": int(payment.balance_pending or 0) + summaries.payment_pending}
    after_payment = payment_after(
        payment,
        {**set_fields, "status": new_status, "merchant_status": merchant_status, "updated": at}
        | (moved if summaries.payment_pending else {}),
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
    change = Change(
        payment=payment,
        is_new=False,
        ledger=ledger,
        summaries=summaries,
        audit=audit,
        payment_actions=actions,
        payment_condition=status_condition if condition is None else status_condition & condition,
        outcome=Outcome(
            payment=after_payment,
            refund=refund(after_payment) if refund else None,
            declined=declined(after_payment) if declined else None,
        ),
    )
    return change_commit(change, also_in_transaction=also_in_transaction)


def payment_after(payment: Payment, fields: dict[str, Any]) -> Payment:
    """The payment as a read returns it once an update setting `fields` commits: a copy with the
    fields set and the version moved on, passed through the same (de)serialisation a read goes
    through, so its values (times in UTC, numbers, plain strings) are exactly the stored ones."""
    copy = Payment.from_raw_data(payment.serialize())
    for name, value in fields.items():
        setattr(copy, name, value)
    copy.version = int(payment.version or 0) + 1
    return Payment.from_raw_data(copy.serialize())
