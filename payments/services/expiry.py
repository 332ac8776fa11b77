"""The expiry of uncaptured authorizations: 7 days (`AUTHORIZATION_LIFETIME`) after it was made, an
authorization nobody captured or canceled is voided at the processor and canceled.

The sweep finds them with one Query per merchant on the by-merchant-status index, whose range key
(the ULID payment id) is bounded by the cutoff: `requires_capture` payments created before it, oldest
first, never a Scan. Each one is read again by key (the index is eventually consistent) and expired
by `authorization_expire`:

1. still `requires_capture` and due, else it is left alone (captured or canceled meanwhile);
2. voided at the processor (its void is idempotent: a second void of the reference changes nothing);
3. canceled through `payment_cancel`, as the system, with the reason `expired` on its ledger entry:
   the payment, ledger, counters, audit event (`payment.cancel`) and the `payment.canceled` webhook
   event in one transaction, on condition that it is still `requires_capture` at its version.

The processor goes first so that a failed void leaves the payment `requires_capture`, found again by
the next sweep; a capture cannot slip in between, as captures are refused from the expiry on
(`payment_capture`). Running the sweep twice expires nothing twice."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from core.actor import SYSTEM, Actor
from core.ids import now as clock_now
from merchants.selectors import merchant_list
from payments import processor
from payments.enums import PaymentStatus
from payments.errors import InvalidPaymentState, PaymentNotFound, ProcessorError
from payments.models import Payment
from payments.selectors import payment_get, payment_iter_for_merchant
from payments.services.captures import AUTHORIZATION_LIFETIME, authorization_expires_at, payment_cancel

logger = logging.getLogger(__name__)

EXPIRED_REASON = "expired"  # the reason on the cancel ledger entry of an expired authorization
EXPIRED_DETAIL = "authorization expired: not captured within 7 days; voided at the processor"

# What `authorization_expire` did with one payment.
EXPIRED = "expired"
NOT_DUE = "not_due"  # still within its lifetime
UNCHANGED = "unchanged"  # no longer requires capture (captured, canceled or gone): left alone
VOID_FAILED = "void_failed"  # the processor could not be reached: the next sweep tries again


@dataclass
class ExpiryReport:
    """What one sweep did: how many authorizations it looked at, and what became of them."""

    checked: int = 0
    outcomes: Counter = field(default_factory=Counter)
    expired: list[str] = field(default_factory=list)  # payment ids, oldest first

    def as_dict(self) -> dict[str, int]:
        return {"checked": self.checked, **{name: self.outcomes[name] for name in (EXPIRED, UNCHANGED, VOID_FAILED)}}


def processor_reference_of(payment: Payment) -> str:
    """The reference the processor knows the payment's authorization by: the one recorded when a
    timeout left it `processing`, else the one derived from its id."""
    return payment.processor_reference or processor.reference_for(payment.payment_id)


def authorization_expire(
    *, merchant_id: str, payment_id: str, now: datetime | None = None, actor: Actor = SYSTEM
) -> str:
    """Expire one authorization if it is due: void it at the processor, then cancel it. Returns what
    happened (`EXPIRED`, `NOT_DUE`, `UNCHANGED` or `VOID_FAILED`); never raises for a payment that
    moved on meanwhile."""
    at = now or clock_now()
    try:
        payment = payment_get(merchant_id=merchant_id, payment_id=payment_id)
    except PaymentNotFound:
        return UNCHANGED
    expires_at = authorization_expires_at(payment)
    if expires_at is None or payment.imported:
        return UNCHANGED
    if at < expires_at:
        return NOT_DUE
    try:
        processor.void(reference=processor_reference_of(payment), amount=int(payment.amount), currency=payment.currency)
    except ProcessorError as error:
        logger.warning("payment %s: the expired authorization could not be voided (%s)", payment_id, error.detail)
        return VOID_FAILED
    try:
        payment_cancel(
            merchant_id=merchant_id,
            payment_id=payment_id,
            actor=actor,
            now=at,
            reason=EXPIRED_REASON,
            detail=EXPIRED_DETAIL,
        )
    except InvalidPaymentState:
        logger.error("payment %s: changed while its expired authorization was voided", payment_id)
        return UNCHANGED
    return EXPIRED


def authorization_expire_due(
    *, now: datetime | None = None, merchant_ids: Iterable[str] | None = None, actor: Actor = SYSTEM
) -> ExpiryReport:
    """Expire every authorization older than `AUTHORIZATION_LIFETIME` of the given merchants (all by
    default), oldest first: one Query per merchant, bounded by the cutoff, on the by-merchant-status
    index. One payment's failure does not stop the others."""
    at = now or clock_now()
    cutoff = at - AUTHORIZATION_LIFETIME
    report = ExpiryReport()
    ids = list(merchant_ids) if merchant_ids is not None else [merchant.merchant_id for merchant in merchant_list()]
    for merchant_id in ids:
        for payment in payment_iter_for_merchant(
            merchant_id=merchant_id, status=PaymentStatus.REQUIRES_CAPTURE, created_lt=cutoff, newest_first=False
        ):
            report.checked += 1
            outcome = authorization_expire(merchant_id=merchant_id, payment_id=payment.payment_id, now=at, actor=actor)
            report.outcomes[outcome] += 1
            if outcome == EXPIRED:
                report.expired.append(payment.payment_id)
    return report
