"""Closing a dispute: accepted by the merchant, or decided by the processor (the sweep)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core import retry
from core.actor import Actor
from core.ids import now as clock_now
from disputes.enums import OPEN_STATUSES, WINNING_EVIDENCE, DisputeAction, DisputeStatus
from disputes.errors import InvalidDisputeState
from disputes.models import Dispute
from disputes.selectors import dispute_get, disputes_due
from disputes.services.changes import (
    PROCESSOR,
    DisputeChange,
    DisputeHook,
    dispute_actions,
    dispute_after,
    dispute_audit,
    dispute_change_commit,
)
from payments.enums import TransactionKind
from payments.models import Payment
from payments.selectors import payment_get
from payments.services.changes import ledger_entry
from payments.services.summaries import SummaryChanges
from webhooks.models import WebhookEventType

logger = logging.getLogger(__name__)


def _close(
    dispute: Dispute,
    *,
    status: DisputeStatus,
    actor: Actor,
    action: str,
    at: datetime,
    detail: str | None,
    also_in_transaction: DisputeHook | None,
) -> Dispute:
    payment = payment_get(merchant_id=dispute.merchant_id, payment_id=dispute.payment_id)
    fields: dict[str, Any] = {
        "status": status.value,
        "merchant_status": f"{dispute.merchant_id}#{status}",
        "open_status": None,
        "due_at": None,
        "closed_at": at,
        "updated": at,
    }
    after = dispute_after(dispute, fields)
    summaries = SummaryChanges(payment)
    ledger = []
    if status == DisputeStatus.WON:
        ledger.append(ledger_entry(payment, TransactionKind.DISPUTE_REVERSAL, int(dispute.amount), at))
        summaries.dispute_won(amount=int(dispute.amount), at=at)
    change = DisputeChange(
        dispute=dispute,
        after=after,
        dispute_actions=dispute_actions(fields),
        dispute_condition=Dispute.status.is_in(*OPEN_STATUSES),
        payment=payment,
        payment_actions=[Payment.dispute_status.set(status.value), Payment.updated.set(at)],
        payment_condition=Payment.dispute_id == dispute.dispute_id,
        ledger=ledger,
        summaries=summaries,
        audit=dispute_audit(dispute, actor=actor, action=action, at=at, before=dispute, after=after, detail=detail),
        event_type=WebhookEventType.DISPUTE_CLOSED,
    )
    return dispute_change_commit(change, at=at, also_in_transaction=also_in_transaction)


def dispute_accept(
    *,
    merchant_id: str,
    dispute_id: str,
    actor: Actor,
    now: datetime | None = None,
    also_in_transaction: DisputeHook | None = None,
) -> Dispute:
    """The merchant gives the dispute up: it closes as `accepted` (lost; nothing is credited back).
    Only an open dispute can be accepted (else 409 `invalid_state`)."""

    def attempt() -> Dispute:
        at = now or clock_now()
        dispute = dispute_get(merchant_id=merchant_id, dispute_id=dispute_id)
        if dispute.status not in OPEN_STATUSES:
            raise InvalidDisputeState(f"A dispute that is {dispute.status} cannot be accepted.")
        return _close(
            dispute,
            status=DisputeStatus.ACCEPTED,
            actor=actor,
            action=DisputeAction.ACCEPT,
            at=at,
            detail="accepted by the merchant",
            also_in_transaction=also_in_transaction,
        )

    return retry.transaction_retrying(attempt, reread_on_condition=True)


def _decision(dispute: Dispute, at: datetime) -> tuple[DisputeStatus, str] | None:
    """What the sandbox processor decides for `dispute` at `at`, and why; None when nothing is due."""
    if dispute.status == DisputeStatus.NEEDS_RESPONSE and at >= dispute.evidence_due_by:
        return DisputeStatus.LOST, "no evidence was submitted by the deadline"
    if dispute.status == DisputeStatus.UNDER_REVIEW and dispute.due_at is not None and at >= dispute.due_at:
        text = (dispute.evidence.text if dispute.evidence is not None else None) or ""
        if WINNING_EVIDENCE in text:
            return DisputeStatus.WON, "the processor accepted the evidence"
        return DisputeStatus.LOST, "the processor did not accept the evidence"
    return None


def dispute_decide(*, merchant_id: str, dispute_id: str, now: datetime | None = None) -> Dispute | None:
    """Apply the processor's decision to one dispute when it is due (see `_decision`): closed as won
    (the amount credited back) or lost, with the `dispute.closed` event. None when nothing was due."""

    def attempt() -> Dispute | None:
        at = now or clock_now()
        dispute = dispute_get(merchant_id=merchant_id, dispute_id=dispute_id)
        decided = _decision(dispute, at)
        if decided is None:
            return None
        status, why = decided
        return _close(
            dispute,
            status=status,
            actor=PROCESSOR,
            action=DisputeAction.CLOSE,
            at=at,
            detail=why,
            also_in_transaction=None,
        )

    return retry.transaction_retrying(attempt, reread_on_condition=True)


@dataclass
class SweepReport:
    checked: int = 0
    won: int = 0
    lost: int = 0
    failed: int = 0


def disputes_sweep(*, now: datetime | None = None) -> SweepReport:
    """Decide every open dispute whose next step is due (every merchant): submitted evidence a
    `DECISION_DELAY` old, and disputes past `evidence_due_by` without submitted evidence (lost)."""
    at = now or clock_now()
    report = SweepReport()
    for status in OPEN_STATUSES:
        for due in list(disputes_due(status=status, now=at)):
            report.checked += 1
            try:
                closed = dispute_decide(merchant_id=due.merchant_id, dispute_id=due.dispute_id, now=at)
            except Exception:
                report.failed += 1
                logger.exception(
                    "dispute %s: the decision could not be recorded; the next sweep retries", due.dispute_id
                )
                continue
            if closed is not None and closed.status == DisputeStatus.WON:
                report.won += 1
            elif closed is not None:
                report.lost += 1
    return report
