"""Creating a payment: authorize (and by default capture) a card, and store the outcome."""

from __future__ import annotations

from datetime import datetime

from audit.services import audit_event_new
from core import retry
from core.actor import Actor
from core.cards import CardInput, card_check, normalise_number
from core.errors import ValidationFailed
from core.ids import new_id
from core.ids import now as clock_now
from core.money import CURRENCIES
from payments import processor
from payments.audit import payment_snapshot
from payments.enums import PaymentStatus
from payments.models import CardAttribute, Payment
from payments.services.authorizations import authorization_decide
from payments.services.changes import Change, Outcome, TransactionHook, amount_check, change_commit
from payments.services.summaries import SummaryChanges


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
    moved) and raises `ProcessorTimeout` naming it; `payment_resolve` finishes it later.
    `idempotency_record` is the key of the request's idempotency record: the processor reference is
    derived from it, so a retry of the same request is the same request at the processor.
    `also_in_transaction(transaction, outcome)` adds writes to the same transaction (idempotency)."""
    at = now or clock_now()
    amount_check(amount)
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
            also_in_transaction=also_in_transaction,
        )
        raise processor.ProcessorTimeout(
            "The processor did not answer in time. The payment is recorded as `processing` until the processor "
            "confirms its outcome: retry with the same Idempotency-Key, or read the payment, to get it.",
            payment_id=payment.payment_id,
        ) from None

    decision = authorization_decide(payment, authorization, capture=capture, at=at)
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
        after=payment_snapshot(payment),
        detail=authorization.decline_code,
        at=at,
    )
    declined = decision.declined(payment)
    change = Change(payment=payment, is_new=True, ledger=decision.ledger, summaries=summaries, audit=audit)
    change.outcome = Outcome(payment=payment, declined=declined)
    # A new item conditioned on not existing: only a conflict or throttling is worth sending again.
    retry.transaction_retrying(lambda: change_commit(change, also_in_transaction=also_in_transaction))
    if declined is not None:
        raise declined
    return payment


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
