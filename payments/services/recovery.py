"""Recovery of payments a processor timeout left `processing`.

Each one is resolved by `payment_resolve`, which asks the processor what it decided for the
payment's reference and never authorizes again. The idempotency record of the request that created
it, when it still waits, is completed with the outcome in the same transaction, so the client's next
retry with its key replays exactly what a resolving retry would have answered."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from core.actor import SYSTEM, Actor
from merchants.selectors import merchant_list
from payments.enums import PaymentStatus
from payments.errors import InvalidPaymentState, PaymentNotFound, ProcessorError
from payments.models import Payment
from payments.representations import payment_response
from payments.selectors import payment_get, payment_iter_for_merchant
from payments.services.idempotency import idempotency_resolution_for
from payments.services.resolution import payment_resolve

logger = logging.getLogger(__name__)

STILL_PROCESSING = PaymentStatus.PROCESSING.value


@dataclass
class RecoveryReport:
    """What one recovery run did: resolved payments by their new status, and those still waiting."""

    resolved: Counter = field(default_factory=Counter)
    still_processing: list[str] = field(default_factory=list)
    checked: int = 0

    @property
    def resolved_total(self) -> int:
        return sum(self.resolved.values())


def payment_recover(*, merchant_id: str, payment_id: str, actor: Actor = SYSTEM) -> str:
    """Resolve one `processing` payment. Returns its status afterwards: still `processing` when the
    processor cannot answer yet, or the status another resolution already gave it."""
    try:
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
    except PaymentNotFound:
        return "missing"
    if payment.status != PaymentStatus.PROCESSING:
        return payment.status
    complete_waiting_record = idempotency_resolution_for(
        record_key=payment.idempotency_record,
        payment_id=payment_id,
        render=lambda outcome: payment_response(outcome, status=201),
    )
    try:
        resolved = payment_resolve(
            merchant_id=merchant_id, payment_id=payment_id, actor=actor, also_in_transaction=complete_waiting_record
        )
        return resolved.status
    except ProcessorError as error:
        logger.warning("payment %s: still processing (%s)", payment_id, error.detail)
        return STILL_PROCESSING
    except InvalidPaymentState:  # resolved by a client's retry in the meantime
        return payment_get(merchant_id=merchant_id, payment_id=payment_id).status


def payment_recover_all(
    *,
    merchant_ids: list[str] | None = None,
    actor: Actor = SYSTEM,
    on_payment: Callable[[Payment, str], None] | None = None,
) -> RecoveryReport:
    """Resolve every `processing` payment of the given merchants (all by default), oldest first.
    One query per merchant on the by-merchant-status index; no Scan of payments."""
    report = RecoveryReport()
    ids = merchant_ids if merchant_ids is not None else [merchant.merchant_id for merchant in merchant_list()]
    for merchant_id in ids:
        for payment in payment_iter_for_merchant(
            merchant_id=merchant_id, status=PaymentStatus.PROCESSING, newest_first=False
        ):
            report.checked += 1
            status = payment_recover(merchant_id=merchant_id, payment_id=payment.payment_id, actor=actor)
            if status == STILL_PROCESSING:
                report.still_processing.append(payment.payment_id)
            else:
                report.resolved[status] += 1
            if on_payment is not None:
                on_payment(payment, status)
    return report
