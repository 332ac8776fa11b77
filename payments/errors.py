"""Domain errors of payments: the API maps them to problem+json in one place, pages show them as messages."""

from __future__ import annotations

from core.errors import DomainError, InvalidState, NotFound


class PaymentNotFound(NotFound):
    title = "No such payment"


class InvalidPaymentState(InvalidState):
    pass


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
