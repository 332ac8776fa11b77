"""Opening a dispute: the processor's chargeback on a captured payment."""

from __future__ import annotations

from datetime import datetime, timedelta

from core import retry
from core.actor import Actor
from core.errors import ValidationFailed
from core.ids import new_id
from core.ids import now as clock_now
from disputes.enums import DisputeAction, DisputeReason, DisputeStatus
from disputes.errors import InvalidDisputeState
from disputes.models import Dispute, Evidence
from disputes.services.changes import (
    EVIDENCE_DAYS,
    DisputeChange,
    dispute_audit,
    dispute_change_commit,
    dispute_fee,
)
from payments.enums import REFUNDABLE_STATUSES, TransactionKind
from payments.models import Payment
from payments.selectors import payment_get
from payments.services.changes import amount_check, ledger_entry
from payments.services.summaries import SummaryChanges
from webhooks.models import WebhookEventType


def dispute_open(
    *,
    merchant_id: str,
    payment_id: str,
    actor: Actor,
    amount: int | None = None,
    reason: str = DisputeReason.FRAUDULENT,
    now: datetime | None = None,
) -> Dispute:
    """Open a dispute on a captured payment (the processor's chargeback): for `amount` (default: all
    that was captured and not refunded), evidence due `EVIDENCE_DAYS` later. One transaction writes
    the dispute, the payment's `disputed` flag, the ledger entries (the amount and the fee), the
    summary counters, the audit event and the `dispute.created` event. A payment has one dispute."""
    if reason not in tuple(DisputeReason):
        raise ValidationFailed(
            f"The reason must be one of {', '.join(DisputeReason)}.", param="reason", code="invalid_reason"
        )

    def attempt() -> Dispute:
        at = now or clock_now()
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
        if payment.dispute_id:
            raise InvalidDisputeState(
                f"The payment already has a dispute ({payment.dispute_id}).", dispute_id=payment.dispute_id
            )
        if payment.status not in REFUNDABLE_STATUSES:
            raise InvalidDisputeState(f"A {payment.status} payment cannot be disputed: only captured money can.")
        disputable = int(payment.amount_captured or 0) - int(payment.amount_refunded or 0)
        to_dispute = disputable if amount is None else amount
        amount_check(to_dispute)
        if to_dispute > disputable:
            raise ValidationFailed(
                f"At most {disputable} can be disputed (captured and not refunded).",
                param="amount",
                code="amount_exceeds_disputable",
            )
        fee = dispute_fee(payment.currency)
        due = at + timedelta(days=EVIDENCE_DAYS)
        dispute = Dispute(
            dispute_id=new_id("dp", at),
            merchant_id=merchant_id,
            merchant_status=f"{merchant_id}#{DisputeStatus.NEEDS_RESPONSE}",
            payment_id=payment.payment_id,
            amount=to_dispute,
            currency=payment.currency,
            fee=fee,
            reason=str(reason),
            status=DisputeStatus.NEEDS_RESPONSE.value,
            evidence_due_by=due,
            evidence=Evidence(text=None, files=[], submitted_at=None),
            open_status=DisputeStatus.NEEDS_RESPONSE.value,
            due_at=due,
            created=at,
            updated=at,
        )
        after = Dispute.from_raw_data(dispute.serialize())
        after.version = 1
        ledger = [ledger_entry(payment, TransactionKind.DISPUTE, to_dispute, at, reason=str(reason))]
        if fee > 0:
            ledger.append(ledger_entry(payment, TransactionKind.DISPUTE_FEE, fee, at + timedelta(milliseconds=1)))
        change = DisputeChange(
            dispute=dispute,
            after=after,
            is_new=True,
            payment=payment,
            payment_actions=[
                Payment.disputed.set(True),
                Payment.dispute_id.set(dispute.dispute_id),
                Payment.dispute_status.set(DisputeStatus.NEEDS_RESPONSE.value),
                Payment.updated.set(at),
            ],
            payment_condition=Payment.dispute_id.does_not_exist() & Payment.status.is_in(*REFUNDABLE_STATUSES),
            ledger=ledger,
            summaries=SummaryChanges(payment).disputed(amount=to_dispute, fee=fee, at=at),
            audit=dispute_audit(
                dispute,
                actor=actor,
                action=DisputeAction.OPEN,
                at=at,
                before=None,
                after=after,
                detail=f"payment {payment.payment_id}",
            ),
            event_type=WebhookEventType.DISPUTE_CREATED,
        )
        return dispute_change_commit(change, at=at, also_in_transaction=None)

    return retry.transaction_retrying(attempt, reread_on_condition=True)
