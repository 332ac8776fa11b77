"""What the processor's answer to an authorization makes of a payment: its status, fields, ledger
entries and, when it failed, the 402 problem it answers. Creation and resolution share it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.ids import new_ids
from payments import processor
from payments.enums import NEVER_RECEIVED, PaymentStatus, TransactionKind, TransactionStatus
from payments.errors import CardDeclined, PaymentFailed
from payments.models import Payment, Transaction
from payments.services.changes import ledger_entry


@dataclass(frozen=True)
class Decision:
    status: PaymentStatus
    fields: dict[str, Any]
    ledger: list[Transaction]
    captured: bool
    failure: type[PaymentFailed] | None
    failure_detail: str = ""

    def declined(self, payment: Payment) -> PaymentFailed | None:
        if self.failure is None:
            return None
        return self.failure(
            self.failure_detail, code=payment.failure_code, payment_id=payment.payment_id, payment=payment
        )


def authorization_decide(
    payment: Payment, authorization: processor.Authorization, *, capture: bool, at: datetime
) -> Decision:
    """A voided authorization (approved, then voided at the processor) charged nothing: the payment
    fails like one the processor never received."""
    voided = authorization.voided
    if voided:
        authorization = processor.Authorization(approved=False, decline_code=NEVER_RECEIVED)
    amount = int(payment.amount)
    status = PaymentStatus.FAILED
    if authorization.approved:
        status = PaymentStatus.SUCCEEDED if capture else PaymentStatus.REQUIRES_CAPTURE
    # The authorization and the capture share a moment; their ids are made so that the ledger, in id
    # order, lists the authorization first.
    authorization_id, capture_id = new_ids("txn", at, 2)
    ledger = [
        ledger_entry(
            payment,
            TransactionKind.AUTHORIZATION,
            amount,
            at,
            txn_id=authorization_id,
            status=TransactionStatus.SUCCEEDED if authorization.approved else TransactionStatus.FAILED,
            reason=authorization.decline_code,
        )
    ]
    captured = status == PaymentStatus.SUCCEEDED
    if captured:
        ledger.append(ledger_entry(payment, TransactionKind.CAPTURE, amount, at, txn_id=capture_id))
    fields: dict[str, Any] = {"status": status, "amount_captured": amount if captured else 0}
    if authorization.decline_code:
        fields["failure_code"] = authorization.decline_code
    failure: type[PaymentFailed] | None = None
    detail = ""
    if voided:
        failure, detail = PaymentFailed, "The authorization was voided at the processor; nothing was charged."
    elif authorization.decline_code == NEVER_RECEIVED:
        failure, detail = PaymentFailed, "The processor never received the payment; nothing was charged."
    elif not authorization.approved:
        failure, detail = CardDeclined, f"The card was declined ({authorization.decline_code})."
    return Decision(
        status=status, fields=fields, ledger=ledger, captured=captured, failure=failure, failure_detail=detail
    )
