"""Settling an authorization: capture it (fully or in part) or cancel it."""

from __future__ import annotations

from datetime import datetime, timedelta

from core import retry
from core.actor import Actor
from core.errors import ValidationFailed
from core.ids import now as clock_now
from payments import hooks
from payments.enums import PaymentStatus, TransactionKind
from payments.errors import InvalidPaymentState, PaymentImported
from payments.models import Payment
from payments.selectors import payment_get
from payments.services.changes import TransactionHook, amount_check, ledger_entry, status_change
from payments.services.summaries import SummaryChanges

IMPORTED_NOT_CAPTURED = (
    "The payment was imported from another processor, where its money moved: capture it there, not through Paysite."
)
# An uncaptured authorization lapses this long after it was made (like Stripe's 7 days): from then on it
# cannot be captured, and the expiry sweep (`payments.services.expiry`) voids and cancels it.
AUTHORIZATION_LIFETIME = timedelta(days=7)


def authorization_expires_at(payment: Payment) -> datetime | None:
    """When the payment's uncaptured authorization expires; None unless it awaits capture."""
    if payment.status != PaymentStatus.REQUIRES_CAPTURE:
        return None
    return payment.created + AUTHORIZATION_LIFETIME


def payment_capture(
    *,
    merchant_id: str,
    payment_id: str,
    actor: Actor,
    amount: int | None = None,
    now: datetime | None = None,
    also_in_transaction: TransactionHook | None = None,
) -> Payment:
    """Capture an authorized payment, fully or in part (at most the authorized amount). Returns the
    payment as it reads after the capture."""

    def attempt() -> Payment:
        at = now or clock_now()
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
        if payment.imported:
            raise PaymentImported(IMPORTED_NOT_CAPTURED)
        if payment.status != PaymentStatus.REQUIRES_CAPTURE:
            raise InvalidPaymentState(f"A {payment.status} payment cannot be captured.")
        expires_at = authorization_expires_at(payment)
        if expires_at is not None and at >= expires_at:
            raise InvalidPaymentState(
                f"The authorization expired at {expires_at:%Y-%m-%d %H:%M} UTC, 7 days after it was made; "
                "it can no longer be captured."
            )
        to_capture = int(payment.amount) if amount is None else amount
        amount_check(to_capture)
        if to_capture > payment.amount:
            raise ValidationFailed(
                "The capture amount exceeds the authorized amount.", param="amount", code="amount_exceeds_authorized"
            )
        outcome = status_change(
            payment,
            actor=actor,
            action="payment.capture",
            new_status=PaymentStatus.SUCCEEDED,
            from_statuses=(PaymentStatus.REQUIRES_CAPTURE,),
            at=at,
            set_fields={"amount_captured": to_capture},
            ledger=[ledger_entry(payment, TransactionKind.CAPTURE, to_capture, at)],
            summaries=SummaryChanges(payment).captured(amount=to_capture, at=at),
            also_in_transaction=also_in_transaction,
        )
        return outcome.payment

    payment = retry.transaction_retrying(attempt, reread_on_condition=True)
    hooks.captured(payment)
    return payment


def payment_cancel(
    *,
    merchant_id: str,
    payment_id: str,
    actor: Actor,
    now: datetime | None = None,
    also_in_transaction: TransactionHook | None = None,
    reason: str | None = None,
    detail: str | None = None,
) -> Payment:
    """Release an authorization that was not captured. Returns the payment as it reads after.
    `reason` goes on the cancel ledger entry (`expired` for the expiry sweep), `detail` on its audit event."""

    def attempt() -> Payment:
        at = now or clock_now()
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
        if payment.status != PaymentStatus.REQUIRES_CAPTURE:
            raise InvalidPaymentState(f"A {payment.status} payment cannot be canceled.")
        outcome = status_change(
            payment,
            actor=actor,
            action="payment.cancel",
            new_status=PaymentStatus.CANCELED,
            from_statuses=(PaymentStatus.REQUIRES_CAPTURE,),
            at=at,
            set_fields={},
            ledger=[ledger_entry(payment, TransactionKind.CANCEL, int(payment.amount), at, reason=reason)],
            summaries=SummaryChanges(payment),
            also_in_transaction=also_in_transaction,
            detail=detail,
        )
        return outcome.payment

    return retry.transaction_retrying(attempt, reread_on_condition=True)
