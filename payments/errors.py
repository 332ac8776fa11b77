"""Domain errors of payments: the API maps them to problem+json in one place, pages show them as messages."""

from __future__ import annotations

from core.errors import DomainError, InvalidState, NotFound


class PaymentNotFound(NotFound):
    title = "No such payment"


class InvalidPaymentState(InvalidState):
    pass


class PaymentDisputed(InvalidPaymentState):
    """A refund of a payment with an open (or lost) dispute: 409 `payment_disputed`."""

    code = "payment_disputed"
    title = "The payment is disputed"


class PaymentFailed(DomainError):
    """The payment failed (402); the failed payment is stored and named in `extensions["payment_id"]`.
    Raised as is when the processor never received the payment; `CardDeclined` when it declined."""

    status = 402
    code = "payment_failed"  # raised with the payment's `failure_code` as its code
    title = "The payment failed"


class CardDeclined(PaymentFailed):
    """The processor declined the card; the failed payment is stored and named in `extensions["payment_id"]`."""

    code = "card_declined"
    title = "The card was declined"


class ProcessorError(DomainError):
    status = 502
    code = "processor_error"
    title = "The payment processor failed"


class PaymentImported(InvalidPaymentState):
    """The payment was imported from another processor: the money moved there, so Paysite neither
    captures nor refunds it (409)."""

    code = "payment_imported"
    title = "The payment was imported from another processor"


class RefundRequestNotFound(NotFound):
    title = "No such refund request"


class ApprovalByRequester(DomainError):
    """Four-eyes: the person who asked for a refund never approves or rejects it."""

    status = 403
    code = "approval_by_requester"
    title = "The requester cannot decide their own refund request"
