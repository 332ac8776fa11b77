"""Resolution of a payment a processor timeout left `processing`: ask the processor what it decided
for the payment's reference (never authorize again) and move the payment on."""

from __future__ import annotations

from datetime import datetime

from core import retry
from core.actor import Actor
from core.ids import now as clock_now
from payments import processor
from payments.enums import NEVER_RECEIVED, PaymentStatus
from payments.errors import InvalidPaymentState, ProcessorError
from payments.models import Payment
from payments.selectors import payment_get
from payments.services.authorizations import authorization_decide
from payments.services.changes import TransactionHook, status_change
from payments.services.summaries import SummaryChanges


def payment_resolve(
    *,
    merchant_id: str,
    payment_id: str,
    actor: Actor,
    now: datetime | None = None,
    also_in_transaction: TransactionHook | None = None,
) -> Payment:
    """Move a `processing` payment to what the processor decided for its reference: approved
    (`succeeded`, or `requires_capture` when it was created with `capture: false`), declined, or
    never received or voided (`failed` with `failure_code` `processor_timeout`; nothing was charged). The
    processor is asked with `lookup`, never with a new authorization, so nothing is charged twice.
    Raises `ProcessorTimeout` when the processor still cannot answer (the payment stays
    `processing`) and `InvalidPaymentState` when the payment is not `processing` (any more).
    Returns the payment as it reads after."""

    def attempt() -> Payment:
        at = now or clock_now()
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
        if payment.status != PaymentStatus.PROCESSING:
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
        # A voided authorization (`authorization_decide`) fails the payment: nothing was charged.
        decision = authorization_decide(payment, authorization, capture=bool(payment.capture_requested), at=at)
        summaries = SummaryChanges(payment)
        if decision.captured:
            summaries.captured(amount=int(payment.amount), at=at)
        if not found:
            detail = "the processor never received the request; nothing was charged"
        elif authorization.voided:
            detail = "the processor voided the authorization; nothing was charged"
        elif authorization.approved:
            detail = "the processor approved the authorization"
        else:
            detail = f"the processor declined the authorization ({authorization.decline_code})"
        fields = {name: value for name, value in decision.fields.items() if name != "status"}
        outcome = status_change(
            payment,
            actor=actor,
            action="payment.resolve",
            new_status=decision.status,
            from_statuses=(PaymentStatus.PROCESSING,),
            at=at,
            set_fields=fields,
            ledger=decision.ledger,
            summaries=summaries,
            also_in_transaction=also_in_transaction,
            detail=detail,
            declined=decision.declined,
        )
        return outcome.payment

    return retry.transaction_retrying(attempt, reread_on_condition=True)
