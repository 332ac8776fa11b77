"""Domain errors of payments: the API maps them to problem+json in one place, pages show them as messages."""

from __future__ import annotations

from core.errors import DomainError, InvalidState, NotFound


class PaymentNotFound(NotFound):
    title = "No such payment"


class InvalidPaymentState(InvalidState):
    pass


class CardDeclined(DomainError):
    """The processor declined; the failed payment is stored and named in `extra["payment_id"]`."""

    status = 402
    code = "card_declined"
    title = "The card was declined"


class PaymentFailed(CardDeclined):
    """The payment failed for a reason other than the card (the processor never received it); the
    failed payment is stored and named in `extra["payment_id"]`."""

    title = "The payment failed"


class ProcessorError(DomainError):
    status = 502
    code = "processor_error"
    title = "The payment processor failed"
