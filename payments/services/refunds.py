"""Refunds: money of a captured payment going back to the card, never more than was captured."""

from __future__ import annotations

from datetime import datetime

from core import retry
from core.actor import Actor
from core.errors import ValidationFailed
from core.ids import new_id
from core.ids import now as clock_now
from payments.enums import DISPUTE_WON, REFUNDABLE_STATUSES, PaymentStatus, RefundReason, TransactionKind, values
from payments.errors import InvalidPaymentState, PaymentDisputed, PaymentImported
from payments.models import Payment
from payments.selectors import payment_get
from payments.services.changes import Refund, TransactionHook, amount_check, ledger_entry, status_change
from payments.services.summaries import SummaryChanges

IMPORTED_NOT_REFUNDED = (
    "The payment was imported from another processor, where its money moved: refund it there, not through Paysite."
)


def refund_create(
    *,
    merchant_id: str,
    payment_id: str,
    actor: Actor,
    amount: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
    also_in_transaction: TransactionHook | None = None,
    releasing_pending: int = 0,
    audit_detail: str | None = None,
) -> Refund:
    """Refund part or (by default) the rest of a captured payment. The refunded total can never pass
    the captured amount: the update is conditioned on the refunded total it read, so of two racing
    refunds the second re-reads and is checked again. The refund names the payment as it reads after.
    Refund requests awaiting approval hold part of the captured amount (`amount_pending_refund`);
    an approved request's refund releases its own hold (`releasing_pending`) in the same update."""
    if reason is not None and reason not in values(RefundReason):
        raise ValidationFailed(
            f"The reason must be one of {', '.join(values(RefundReason))}.", param="reason", code="invalid_reason"
        )

    def attempt() -> Refund:
        at = now or clock_now()
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
        if payment.imported:
            raise PaymentImported(IMPORTED_NOT_REFUNDED)
        if payment.status not in REFUNDABLE_STATUSES:
            raise InvalidPaymentState(f"A {payment.status} payment cannot be refunded.")
        if payment.disputed and payment.dispute_status != DISPUTE_WON:
            raise PaymentDisputed(
                f"The payment has a dispute ({payment.dispute_id}, {payment.dispute_status}): it cannot be refunded.",
                dispute_id=payment.dispute_id,
            )
        captured, refunded = int(payment.amount_captured), int(payment.amount_refunded)
        pending = int(payment.amount_pending_refund or 0)
        held = min(releasing_pending, pending)
        to_refund = captured - refunded - (pending - held) if amount is None else amount
        amount_check(to_refund)
        if refunded + (pending - held) + to_refund > captured:
            raise ValidationFailed(
                f"Refunding {to_refund} would take the refunded total past the captured {captured}"
                + (f" ({pending - held} awaits approval in refund requests)." if pending - held else "."),
                param="amount",
                code="refund_exceeds_captured",
            )
        refund_id = new_id("re", at)
        new_refunded = refunded + to_refund
        outcome = status_change(
            payment,
            actor=actor,
            action="payment.refund",
            new_status=PaymentStatus.REFUNDED if new_refunded == captured else PaymentStatus.PARTIALLY_REFUNDED,
            from_statuses=REFUNDABLE_STATUSES,
            at=at,
            set_fields={"amount_refunded": new_refunded, **({"amount_pending_refund": pending - held} if held else {})},
            ledger=[ledger_entry(payment, TransactionKind.REFUND, to_refund, at, reason=reason, refund_id=refund_id)],
            summaries=SummaryChanges(payment).refunded(amount=to_refund, at=at),
            also_in_transaction=also_in_transaction,
            condition=Payment.amount_refunded == refunded,
            detail=audit_detail,
            refund=lambda after: Refund(
                refund_id=refund_id, payment=after, amount=to_refund, reason=reason, created=at
            ),
        )
        assert outcome.refund is not None  # status_change built it with `refund`
        return outcome.refund

    return retry.transaction_retrying(attempt, reread_on_condition=True)
